// WaitStrategy: its options, the spin and yield phases on a live word, parking, and round
// trips between two processes that share one CPU (where every phase of a wait runs).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { DEFAULT_CATCH_UP_US, DEFAULT_SPIN_US, DEFAULT_YIELD_US, Segment, SpscRing, WaitStrategy } from '../src/index.js';
import { runFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

function word(): { i32: Int32Array; point: { i32: Int32Array; word: number; waiters: number } } {
  const i32 = new Int32Array(new SharedArrayBuffer(64));
  return { i32, point: { i32, word: 0, waiters: 1 } };
}

/** A worker thread that stores `value` into i32[0] after `delayMs` and wakes its sleepers. */
function storeLater(i32: Int32Array, value: number, delayMs: number): Worker {
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const { i32, value, delayMs } = workerData;
     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delayMs);
     Atomics.store(i32, 0, value);`,
    { eval: true, workerData: { i32, value, delayMs } },
  );
  return worker;
}

test('defaults are the exported constants; each option takes 0 to 1e6 µs and nothing else', (t) => {
  const s = new WaitStrategy();
  t.is(s.spinUs, DEFAULT_SPIN_US);
  t.is(s.yieldUs, DEFAULT_YIELD_US);
  t.is(s.catchUpUs, DEFAULT_CATCH_UP_US);
  const custom = new WaitStrategy({ spinUs: 0, yieldUs: 1e6, catchUpUs: 0.5 });
  t.deepEqual([custom.spinUs, custom.yieldUs, custom.catchUpUs], [0, 1e6, 0.5]);
  for (const name of ['spinUs', 'yieldUs', 'catchUpUs']) {
    t.throws(() => new WaitStrategy({ [name]: '5' }), { instanceOf: TypeError, message: new RegExp(name) });
    for (const bad of [-1, 1e6 + 1, Number.NaN, Infinity]) {
      t.throws(() => new WaitStrategy({ [name]: bad }), { instanceOf: RangeError, message: new RegExp(name) });
    }
  }
  t.throws(() => new WaitStrategy(5 as never), { instanceOf: TypeError });
});

test('spin: true at once for a word that already moved, false once its budget ran out', (t) => {
  const { i32, point } = word();
  const s = new WaitStrategy({ spinUs: 20, yieldUs: 20 });
  i32[0] = 1;
  t.true(s.spin(point, 0));
  t.false(s.spin(point, 1));
  t.false(new WaitStrategy({ spinUs: 0 }).spin(point, 1), 'spinUs 0 parks at once');
  t.is(i32[0], 1, 'spinning never writes the word');
});

test('spin: a store made by another thread during the yield phase ends it', async (t) => {
  const { i32, point } = word();
  // 1 µs of spinning, then up to 1 s of yielding: the store lands in the yield phase.
  const worker = storeLater(i32, 7, 30);
  try {
    await once(worker, 'online');
    t.true(new WaitStrategy({ spinUs: 1, yieldUs: 1e6 }).spin(point, 0));
    t.is(Atomics.load(i32, 0), 7);
  } finally {
    await worker.terminate();
  }
});

test('wait: parks after spinning and yielding, wakes on wake(), times out on its own', async (t) => {
  const { i32, point } = word();
  const s = new WaitStrategy({ spinUs: 2, yieldUs: 2 });
  t.is(s.wait(point, 0, 20), 'timed-out');
  t.is(Atomics.load(i32, 1), 0, 'the waiters word is back to 0');
  const parked = s.waitAsync(point, 0, 10_000);
  setTimeout(() => {
    Atomics.store(i32, 0, 1);
    s.wake(point);
  }, 20);
  t.is(await parked, 'ok');
  t.is(Atomics.load(i32, 1), 0);
});

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

for (const mode of ['sync', 'async'] as const) {
  test(`${mode} round trips between two processes pinned to one CPU: every reply comes back right`, async (t) => {
    if (!hasTaskset()) {
      t.log('taskset (util-linux) is missing: the two processes run unpinned');
    }
    const prefix = hasTaskset() ? ['taskset', '-c', '0'] : [];
    const addresses = [shmAddress(t), shmAddress(t)];
    for (const address of addresses) {
      const seg = Segment.create(address, { size: SpscRing.requiredBytes(4096) });
      SpscRing.create(seg, { capacity: 4096 }).close();
      seg.close();
    }
    const rounds = mode === 'sync' ? '3000' : '1000';
    const [ping, pong] = await Promise.all([
      runFixture(t, 'ring-pingpong', ['ping', rounds, addresses[0]!, addresses[1]!, mode], { prefix, timeoutMs: 60_000 }),
      runFixture(t, 'ring-pingpong', ['pong', rounds, addresses[0]!, addresses[1]!, mode], { prefix, timeoutMs: 60_000 }),
    ]);
    t.is(pong.code, 0, pong.stderr);
    t.is(ping.code, 0, ping.stderr);
    t.deepEqual(JSON.parse(ping.stdout), { rounds: Number(rounds) });
  });
}
