// One side of the ring round-trip benchmark: 64-byte messages over two SPSC rings, the
// request ring at REQUESTS and the reply ring at REPLIES (segment addresses).
//   rtt-peer ping|pong spin|spin-alloc|park|hybrid ROUNDS WARMUP REQUESTS REPLIES
// spin: tryReadInto in a loop; spin-alloc: tryRead in a loop (a new buffer per message);
// park: readInto, blocking at once (spin budget 0); hybrid: readInto with the default
// WaitStrategy (spin briefly, then park). Replies are read into one reused buffer, the
// allocation-free path a latency-sensitive reader takes. ping prints median, p99 and mean
// in µs of the round trips after the warm-up.
import { Segment, SpscRing, WaitStrategy } from 'shmring';
import { summarize } from '../lib/stats.js';

const [role, mode, roundsText, warmupText, requestsAddress, repliesAddress] = process.argv.slice(2);
const rounds = Number(roundsText);
const warmup = Number(warmupText);
const strategy = mode === 'park' ? new WaitStrategy({ spinUs: 0 }) : new WaitStrategy();
const requests = Segment.open(requestsAddress!);
const replies = Segment.open(repliesAddress!);
const ping = role === 'ping';
const out = SpscRing.open(ping ? requests : replies, { role: 'producer', strategy });
const back = SpscRing.open(ping ? replies : requests, { role: 'consumer', strategy });
const message = new Uint8Array(64);
const reply = new Uint8Array(64);
const wait = { timeout: 30_000 };

function receive(): number {
  if (mode === 'spin') {
    for (;;) {
      const length = back.tryReadInto(reply);
      if (length >= 0) return length;
    }
  }
  if (mode === 'spin-alloc') {
    for (;;) {
      const m = back.tryRead();
      if (m !== null) return m.length;
    }
  }
  return back.readInto(reply, wait);
}

if (ping) {
  const samples = new Float64Array(rounds);
  for (let k = 0; k < warmup + rounds; k++) {
    const t0 = performance.now();
    out.tryWrite(message);
    receive();
    if (k >= warmup) samples[k - warmup] = (performance.now() - t0) * 1000;
  }
  console.log(JSON.stringify(summarize(samples)));
} else {
  for (let k = 0; k < warmup + rounds; k++) {
    receive();
    out.tryWrite(message);
  }
}
out.close();
back.close();
