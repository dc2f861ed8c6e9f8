// One side of the ring round-trip benchmark: 64-byte messages over two SPSC rings, the
// request ring at REQUESTS and the reply ring at REPLIES (segment addresses).
//   rtt-peer ping MODE ROUNDS WARMUP WARMUP_MS MEASURE_MS REQUESTS REPLIES
//   rtt-peer pong MODE REQUESTS REPLIES
// spin: tryReadInto in a loop; spin-alloc: tryRead in a loop (a new buffer per message);
// park: readInto, blocking at once (spin budget 0); hybrid: readInto with the default
// WaitStrategy (spin briefly, then park). Replies are read into one reused buffer, the
// allocation-free path a latency-sensitive reader takes.
// ping warms up for WARMUP round trips or WARMUP_MS, whichever ends first, then measures
// ROUNDS round trips or for MEASURE_MS, whichever ends first (a busy machine, where a third
// process holds a CPU and the spinning peers share one, gets fewer round trips, never the
// watchdog), then sends the stop message that ends pong. It prints median, p99 and mean in
// µs and how many round trips it measured.
import { Segment, SpscRing, WaitStrategy } from 'shmring';
import { summarize } from '../lib/stats.js';

const args = process.argv.slice(2);
const [role, mode] = args;
const ping = role === 'ping';
const [requestsAddress, repliesAddress] = ping ? args.slice(6) : args.slice(2);
const strategy = mode === 'park' ? new WaitStrategy({ spinUs: 0 }) : new WaitStrategy();
const requests = Segment.open(requestsAddress!);
const replies = Segment.open(repliesAddress!);
const out = SpscRing.open(ping ? requests : replies, { role: 'producer', strategy });
const back = SpscRing.open(ping ? replies : requests, { role: 'consumer', strategy });
const message = new Uint8Array(64);
const reply = new Uint8Array(64);
const wait = { timeout: 30_000 };
/** First byte of the message that ends pong. */
const STOP = 1;
/** Warm-up round trips between two looks at the clock. */
const CLOCK_EVERY = 1024;

/** The next message into `reply`. */
function receive(): void {
  if (mode === 'spin') {
    while (back.tryReadInto(reply) < 0);
  } else if (mode === 'spin-alloc') {
    for (let m = back.tryRead(); ; m = back.tryRead()) {
      if (m !== null) {
        reply[0] = m[0]!;
        return;
      }
    }
  } else {
    back.readInto(reply, wait);
  }
}

function warmUp(rounds: number, ms: number): void {
  const until = performance.now() + ms;
  for (let k = 0; k < rounds; k++) {
    out.tryWrite(message);
    receive();
    if (k % CLOCK_EVERY === 0 && performance.now() > until) return;
  }
}

function measure(rounds: number, ms: number): Float64Array {
  const samples = new Float64Array(rounds);
  const until = performance.now() + ms;
  let k = 0;
  while (k < rounds) {
    const t0 = performance.now();
    out.tryWrite(message);
    receive();
    const t1 = performance.now();
    samples[k++] = (t1 - t0) * 1000;
    if (t1 > until) break;
  }
  return samples.subarray(0, k);
}

if (ping) {
  const [rounds, warmup, warmupMs, measureMs] = args.slice(2, 6).map(Number) as [number, number, number, number];
  warmUp(warmup, warmupMs);
  const samples = measure(rounds, measureMs);
  message[0] = STOP;
  out.write(message, wait);
  console.log(JSON.stringify({ ...summarize(samples), rounds: samples.length }));
} else {
  for (;;) {
    receive();
    if (reply[0] === STOP) break;
    out.tryWrite(message);
  }
}
out.close();
back.close();
