// One side of the JS ping-pong: the segment is fd:3; word 0 is the ball, word 1 counts
// sleepers, word 2 says the pong side is ready.
//   pingpong-peer ping|pong spin|futex|hybrid|async ROUNDS SPIN_US
// ping writes odd values and times each round trip; pong answers with the next even one.
// In async mode ping awaits futex.waitAsync and pong parks with futex.wait.
import { futex, Segment, WaitStrategy } from 'shmring';
import { Bench } from 'tinybench';
import { summarize } from '../lib/stats.js';

const [role, mode, roundsText, spinUsText] = process.argv.slice(2);
const rounds = Number(roundsText);
const warmup = Math.floor(rounds / 10);
const seg = Segment.open('fd:3');
const i32 = new Int32Array(seg.buffer);
const point = { i32, word: 0, waiters: 1 };
/** The wait loop the library's own handles use: internal, so not in the package's types. */
interface StrategyInternals {
  wait(point: { i32: Int32Array; word: number; waiters: number }, value: number, timeoutMs: number): 'ok' | 'timed-out';
  wake(point: { i32: Int32Array; word: number; waiters: number }, count?: number): void;
}
const strategy = new WaitStrategy({ spinUs: Number(spinUsText) }) as WaitStrategy & StrategyInternals;

function awaitValue(want: number): void {
  switch (mode) {
    case 'spin':
      while (Atomics.load(i32, 0) !== want);
      return;
    case 'hybrid':
      for (let v = Atomics.load(i32, 0); v !== want; v = Atomics.load(i32, 0)) strategy.wait(point, v, -1);
      return;
    default:
      for (let v = Atomics.load(i32, 0); v !== want; v = Atomics.load(i32, 0)) futex.wait(i32, 0, v);
  }
}

async function awaitValueAsync(want: number): Promise<void> {
  for (let v = Atomics.load(i32, 0); v !== want; v = Atomics.load(i32, 0)) await futex.waitAsync(i32, 0, v);
}

function publish(value: number): void {
  Atomics.store(i32, 0, value);
  if (mode === 'futex' || mode === 'async') futex.wake(i32, 0, 1);
  else if (mode === 'hybrid') strategy.wake(point, 1);
}

if (role === 'pong') {
  Atomics.store(i32, 2, 1);
  for (let k = 0; k < warmup + rounds; k++) {
    awaitValue(2 * k + 1);
    publish(2 * k + 2);
  }
} else {
  while (Atomics.load(i32, 2) !== 1);
  const samples = new Float64Array(rounds);
  for (let k = 0; k < warmup + rounds; k++) {
    const t0 = performance.now();
    publish(2 * k + 1);
    if (mode === 'async') await awaitValueAsync(2 * k + 2);
    else awaitValue(2 * k + 2);
    if (k >= warmup) samples[k - warmup] = (performance.now() - t0) * 1000;
  }
  // The cost of waking a word nobody sleeps on (one process: tinybench): a raw futex wake,
  // and the strategy's wake, which looks at the waiters word and makes no syscall.
  const idle = { i32, word: 3, waiters: 4 };
  // Each sample is BATCH wakes: tinybench keeps and sorts every sample, and single wakes of
  // ~100 ns made millions of them (5 s of statistics for 0.4 s of measuring).
  const BATCH = 64;
  const bench = new Bench({ time: 200 });
  bench.add('futex.wake, nobody waiting', () => {
    for (let n = 0; n < BATCH; n++) futex.wake(i32, 3, 1);
  });
  bench.add('WaitStrategy.wake, nobody waiting', () => {
    for (let n = 0; n < BATCH; n++) strategy.wake(idle, 1);
  });
  await bench.run();
  const meanNs = (i: number) => ((bench.tasks[i]!.result as unknown as { latency: { mean: number } }).latency.mean * 1e6) / BATCH;
  const rawWakeNs = meanNs(0);
  const strategyWakeNs = meanNs(1);
  console.log(JSON.stringify({ ...summarize(samples), wakeNoWaiterNs: rawWakeNs, strategyWakeNs }));
}
seg.close();
