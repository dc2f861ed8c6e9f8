// One side of the ring round-trip benchmark: 64-byte messages over two SPSC rings, the
// request ring at REQUESTS and the reply ring at REPLIES (segment addresses).
//   rtt-peer ping|pong spin|park|hybrid ROUNDS REQUESTS REPLIES
// spin: tryRead in a loop; park: block at once (spin budget 0); hybrid: the default
// WaitStrategy (spin briefly, then park). ping prints median, p99 and mean in µs.
import { Segment, SpscRing, WaitStrategy } from 'shmring';
import { summarize } from '../lib/stats.js';

const [role, mode, roundsText, requestsAddress, repliesAddress] = process.argv.slice(2);
const rounds = Number(roundsText);
const warmup = Math.floor(rounds / 10);
const strategy = mode === 'park' ? new WaitStrategy({ spinUs: 0 }) : new WaitStrategy();
const requests = Segment.open(requestsAddress!);
const replies = Segment.open(repliesAddress!);
const ping = role === 'ping';
const out = SpscRing.open(ping ? requests : replies, { role: 'producer', strategy });
const back = SpscRing.open(ping ? replies : requests, { role: 'consumer', strategy });
const message = new Uint8Array(64);

function receive(): Uint8Array {
  if (mode === 'spin') {
    for (;;) {
      const m = back.tryRead();
      if (m !== null) return m;
    }
  }
  return back.read({ timeout: 30_000 });
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
