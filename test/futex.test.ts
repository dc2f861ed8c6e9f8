// futex.wait / wake / waitAsync across real processes and within one.
import test, { type ExecutionContext } from 'ava';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { futex, Segment, ShmError } from '../src/index.js';
import { pendingAsyncWaits } from '../src/sync/futex.js';
import { finished, lineFrom, runFixture, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';
import { inSyscall, SYS_FUTEX, SYS_FUTEX_WAITV } from './helpers/syscalls.js';

test.after.always(sweep);

function segment(t: ExecutionContext, size = 4096) {
  const address = shmAddress(t);
  const seg = Segment.create(address, { size });
  t.teardown(() => seg.close());
  return { address, seg, i32: new Int32Array(seg.buffer) };
}

test('a child blocked in futex.wait is woken by the parent', async (t) => {
  const { address, i32 } = segment(t);
  const child = startFixture(t, 'futex-waiter', [address, 'sync', '0', '0', '-1']);
  const done = finished(child);
  t.true(await inSyscall(child.pid!, SYS_FUTEX, true), 'the child parked in futex(2)');
  // Wake without changing the value: only a real wake-up can end the child's wait. (The
  // futex(2) seen may still be the main thread waiting for the module loader's thread, which
  // under tsx on a loaded machine can take seconds: keep trying for up to 20 s.)
  let woken = 0;
  for (let i = 0; i < 2000 && woken === 0; i++) {
    woken = futex.wake(i32, 0, 1);
    if (woken === 0) await new Promise((r) => setTimeout(r, 10));
  }
  t.is(woken, 1);
  const result = await done;
  t.is(result.stdout.trim().split('\n').pop(), 'ok', result.stderr);
});

test('a child awaiting futex.waitAsync is woken by the parent', async (t) => {
  const { address, i32 } = segment(t);
  const child = startFixture(t, 'futex-waiter', [address, 'async', '1', '0', '-1']);
  const done = finished(child);
  t.true(await inSyscall(child.pid!, SYS_FUTEX_WAITV, false), 'the waiter thread sleeps in futex_waitv');
  Atomics.store(i32, 1, 1);
  futex.wake(i32, 1);
  const result = await done;
  t.is(result.code, 0);
  t.is(result.stdout.trim().split('\n').pop(), 'ok', result.stderr);
});

test('a timed-out wait returns timed-out, sync and async, across processes', async (t) => {
  const { address } = segment(t);
  const sync = await runFixture(t, 'futex-waiter', [address, 'sync', '2', '0', '50']);
  t.is(sync.stdout.trim().split('\n').pop(), 'timed-out');
  const async = await runFixture(t, 'futex-waiter', [address, 'async', '2', '0', '50']);
  t.is(async.stdout.trim().split('\n').pop(), 'timed-out');
});

test('wait returns not-equal at once when the word differs', async (t) => {
  const { i32 } = segment(t);
  i32[0] = 5;
  t.is(futex.wait(i32, 0, 4), 'not-equal');
  t.is(await futex.waitAsync(i32, 0, 4), 'not-equal');
  t.is(futex.wait(i32, 0, 5, 0), 'timed-out');
  t.is(await futex.waitAsync(i32, 0, 5, { timeout: 0 }), 'timed-out');
});

test('wake with nobody waiting wakes 0', (t) => {
  const { i32 } = segment(t);
  t.is(futex.wake(i32, 3), 0);
});

test.serial('64 pending async waits hold no libuv pool thread: fs and timers still complete', async (t) => {
  const { i32 } = segment(t);
  const waits = Array.from({ length: 64 }, (_, i) => futex.waitAsync(i32, i, 0));
  t.is(pendingAsyncWaits(), 64);
  // With the default pool of 4 threads, 4 blocked pool threads would starve these reads.
  const self = fileURLToPath(import.meta.url);
  const reads = await Promise.all(Array.from({ length: 16 }, () => readFile(self)));
  t.true(reads.every((r) => r.length > 0));
  await new Promise((r) => setTimeout(r, 5));
  t.is(pendingAsyncWaits(), 64, 'the waits are still pending while fs completed');
  for (let i = 0; i < 64; i++) {
    Atomics.store(i32, i, 1);
    futex.wake(i32, i);
  }
  t.deepEqual(new Set(await Promise.all(waits)), new Set(['ok']));
  t.is(pendingAsyncWaits(), 0);
});

test('more async waits than one futex_waitv call holds (300) are all served', async (t) => {
  const { i32 } = segment(t, 8192);
  const waits = Array.from({ length: 300 }, (_, i) => futex.waitAsync(i32, i, 0));
  for (let i = 0; i < 300; i++) {
    Atomics.store(i32, i, 1);
    futex.wake(i32, i);
  }
  const results = await Promise.all(waits);
  t.is(results.filter((r) => r === 'ok').length, 300);
});

test('two async waits on the same word are both settled', async (t) => {
  const { i32 } = segment(t);
  const a = futex.waitAsync(i32, 0, 0);
  const b = futex.waitAsync(i32, 0, 0);
  Atomics.store(i32, 0, 1);
  futex.wake(i32, 0);
  t.deepEqual(await Promise.all([a, b]), ['ok', 'ok']);
});

test('async timeouts of different lengths each settle', async (t) => {
  const { i32 } = segment(t);
  const results = await Promise.all([futex.waitAsync(i32, 0, 0, { timeout: 30 }), futex.waitAsync(i32, 1, 0, { timeout: 10 }), futex.waitAsync(i32, 2, 0, { timeout: 60 })]);
  t.deepEqual(results, ['timed-out', 'timed-out', 'timed-out']);
});

test.serial('aborting the signal settles a pending async wait with ERR_ABORTED', async (t) => {
  const { i32 } = segment(t);
  const controller = new AbortController();
  const wait = futex.waitAsync(i32, 0, 0, { signal: controller.signal });
  controller.abort();
  await t.throwsAsync(wait, { instanceOf: ShmError, code: 'ERR_ABORTED' });
  t.is(pendingAsyncWaits(), 0);
  await t.throwsAsync(futex.waitAsync(i32, 0, 0, { signal: AbortSignal.abort() }), { code: 'ERR_ABORTED' });
});

test.serial('closing the segment settles its pending async waits with ERR_CLOSED', async (t) => {
  const address = shmAddress(t);
  const seg = Segment.create(address, { size: 4096 });
  const i32 = new Int32Array(seg.buffer);
  const waits = [futex.waitAsync(i32, 0, 0), futex.waitAsync(i32, 1, 0)];
  seg.close();
  for (const w of waits) await t.throwsAsync(w, { instanceOf: ShmError, code: 'ERR_CLOSED' });
  t.is(pendingAsyncWaits(), 0);
});

test('waiting on a closed segment is ERR_CLOSED, sync and async', async (t) => {
  const seg = Segment.anonymous(4096);
  const i32 = new Int32Array(seg.buffer);
  seg.close();
  t.throws(() => futex.wait(i32, 0, 0, 10), { instanceOf: ShmError, code: 'ERR_CLOSED' });
  t.throws(() => futex.wake(i32, 0), { code: 'ERR_CLOSED' });
  await t.throwsAsync(futex.waitAsync(i32, 0, 0), { code: 'ERR_CLOSED' });
});

test('a process with no pending wait exits normally; an unref-ed pending wait does not hold it', async (t) => {
  const { address } = segment(t);
  const unref = await runFixture(t, 'futex-waiter', [address, 'async-unref', '0', '0', '-1'], { timeoutMs: 20_000 });
  t.is(unref.code, 0, 'exited while its unref-ed wait was pending');
  t.is(unref.signal, null);
  const settled = await runFixture(t, 'futex-waiter', [address, 'async', '0', '0', '20'], { timeoutMs: 20_000 });
  t.is(settled.code, 0);
  t.is(settled.stdout.trim().split('\n').pop(), 'timed-out');
});

test('a ref-ed pending wait keeps the process alive until it is woken', async (t) => {
  const { address, i32 } = segment(t);
  const child = startFixture(t, 'futex-waiter', [address, 'async', '4', '0', '-1']);
  const done = finished(child);
  await lineFrom(child, /waiting/);
  t.true(await inSyscall(child.pid!, SYS_FUTEX_WAITV, false));
  await new Promise((r) => setTimeout(r, 100));
  t.is(child.exitCode, null, 'still alive while waiting');
  Atomics.store(i32, 4, 1);
  futex.wake(i32, 4);
  t.is((await done).code, 0);
});

test('bad arguments are TypeError or RangeError, never a crash', async (t) => {
  const { i32 } = segment(t);
  const local = new Int32Array(4);
  const cases: Array<[() => unknown, ErrorConstructor]> = [
    [() => futex.wait(new Uint32Array(i32.buffer) as unknown as Int32Array, 0, 0, 0), TypeError],
    [() => futex.wait([0] as unknown as Int32Array, 0, 0, 0), TypeError],
    [() => futex.wait(local, 0, 0, 0), TypeError],
    [() => futex.wait(i32, -1, 0, 0), RangeError],
    [() => futex.wait(i32, i32.length, 0, 0), RangeError],
    [() => futex.wait(i32, 1.5, 0, 0), RangeError],
    [() => futex.wait(i32, '0' as unknown as number, 0, 0), TypeError],
    [() => futex.wait(i32, 0, 0, -1), RangeError],
    [() => futex.wait(i32, 0, 0, NaN), RangeError],
    [() => futex.wait(i32, 0, 'x' as unknown as number, 0), TypeError],
    [() => futex.wake(i32, 1e9), RangeError],
    [() => futex.wake(i32, 0, -1), RangeError],
  ];
  for (const [fn, type] of cases) t.throws(fn, { instanceOf: type });
  await t.throwsAsync(futex.waitAsync(i32, 0, 0, { timeout: -5 }), { instanceOf: RangeError });
  await t.throwsAsync(futex.waitAsync(i32, 0, 0, { timeout: NaN }), { instanceOf: RangeError });
  await t.throwsAsync(futex.waitAsync(local, 0, 0), { instanceOf: TypeError });
  await t.throwsAsync(futex.waitAsync(i32, 99999, 0), { instanceOf: RangeError });
  await t.throwsAsync(futex.waitAsync(i32, 0, 0, { signal: 'x' as unknown as AbortSignal }), { instanceOf: TypeError });
});

test('futex works on a plain SharedArrayBuffer between threads of one process', async (t) => {
  const i32 = new Int32Array(new SharedArrayBuffer(64));
  const wait = futex.waitAsync(i32, 0, 0);
  Atomics.store(i32, 0, 1);
  futex.wake(i32, 0);
  t.is(await wait, 'ok');
});
