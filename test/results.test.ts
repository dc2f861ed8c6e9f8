// SharedResults with a real piscina pool: 1 MiB results come back through shared memory,
// byte-exact, whichever worker made them; workers that piscina ends and replaces get fresh
// slots; bad handles and bad calls are refused.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Piscina } from 'piscina';
import { SharedResults, sendResult } from '../src/index.js';
import { fill } from './fixtures/results-worker.js';

const WORKER = fileURLToPath(new URL('./fixtures/results-worker.ts', import.meta.url));

function pool(results: SharedResults, options: Record<string, unknown> = {}) {
  return new Piscina({ filename: WORKER, workerData: results.workerData, maxThreads: 2, minThreads: 2, execArgv: ['--import=tsx'], ...options });
}

test('40 results of 1 MiB from a piscina pool arrive byte-exact through shared memory', async (t) => {
  t.timeout(60_000);
  const results = SharedResults.create({ slots: 2, capacity: 1 << 22 });
  const p = results.watch(pool(results));
  t.teardown(async () => {
    await p.destroy();
    results.close();
  });
  const handles = await Promise.all(Array.from({ length: 40 }, (_, i) => p.run({ seed: i + 1, bytes: 1 << 20 })));
  t.true(handles.every((h) => typeof h.slot === 'number' && typeof h.id === 'number'), 'a small handle comes back');
  const bytes = await Promise.all(handles.map((h) => results.take(h)));
  for (let i = 0; i < 40; i++) t.true(bytes[i]!.equals(fill(i + 1, 1 << 20)), `result ${i}`);
});

/** Resolves with `p`, or fails the test after `ms` saying what it waited for (a hang fails, fast). */
async function within<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing after ${ms} ms: ${what()}`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

test('results larger than a slot\'s ring arrive whole: the worker waits for room before it returns', async (t) => {
  // piscina's workers sleep outside their event loop between tasks (its default 'sync'
  // atomics): a result still queued for room when the task returned would never be written.
  t.timeout(60_000);
  const results = SharedResults.create({ slots: 1, capacity: 1 << 16 });
  const p = results.watch(pool(results, { minThreads: 1, maxThreads: 1 }));
  t.teardown(async () => {
    await p.destroy();
    results.close();
  });
  for (let i = 0; i < 8; i++) {
    const handle = await within(p.run({ seed: 100 + i, bytes: 1 << 18 }), 20_000, () => `task ${i}`);
    const bytes = await within(results.take(handle), 20_000, () => `the bytes of result ${i} (${JSON.stringify(handle)})`);
    t.true(bytes.equals(fill(100 + i, 1 << 18)), `result ${i}`);
  }
});

test('workers that piscina ends are replaced, and the new ones find fresh slots', async (t) => {
  t.timeout(60_000);
  const results = SharedResults.create({ slots: 2, capacity: 1 << 21 });
  const p = results.watch(pool(results, { minThreads: 0, idleTimeout: 50 }));
  let destroyed = 0;
  p.on('workerDestroy', () => destroyed++);
  t.teardown(async () => {
    await p.destroy();
    results.close();
  });
  for (let round = 0; round < 3; round++) {
    const state = () => `round ${round}, ${p.threads.length} threads, ${p.queueSize} queued`;
    const handles = await within(Promise.all([1, 2, 3, 4].map((i) => p.run({ seed: round * 10 + i, bytes: 1 << 18 }))), 20_000, () => `the tasks of ${state()}`);
    const got = await within(Promise.all(handles.map((h) => results.take(h))), 20_000, () => `the results ${JSON.stringify(handles)} of ${state()}`);
    got.forEach((b, i) => t.true(b.equals(fill(round * 10 + i + 1, 1 << 18))));
    // The idle workers end. Now and then one stays in p.threads past its idleTimeout (one CI
    // run waited minutes; about 1 run in 8 here; not yet explained: piscina's choice or a
    // worker that does not end; p.destroy() still ends it); the next round runs on it too.
    const until = performance.now() + 5_000;
    while (p.threads.length > 0 && performance.now() < until) await sleep(20);
    if (p.threads.length > 0) t.log(`${state()}: piscina kept an idle worker`);
  }
  t.true(destroyed >= 2, `workers ended and were replaced (${destroyed} ended)`);
});

test('bad handles and calls are refused', (t) => {
  const results = SharedResults.create({ slots: 1 });
  t.teardown(() => results.close());
  t.throws(() => results.take({ slot: 5, epoch: 1, id: 0 }), { instanceOf: RangeError, message: /handle\.slot=5/ });
  t.throws(() => results.take(null as never), { instanceOf: TypeError });
  t.throws(() => sendResult({} as never, new Uint8Array(1)), { instanceOf: TypeError });
  t.throws(() => sendResult(results.workerData, 'text' as never), { instanceOf: TypeError });
  t.throws(() => SharedResults.create({ slots: 0 }), { instanceOf: RangeError });
});
