// The counting Semaphore across processes, with timeouts and its maximum.
import test, { type ExecutionContext } from 'ava';
import { Segment, Semaphore, ShmError } from '../src/index.js';
import { runFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

function shared(t: ExecutionContext, initial: number, max?: number) {
  const address = shmAddress(t);
  const seg = Segment.create(address, { size: 4096 });
  t.teardown(() => seg.close());
  const sem = Semaphore.create(seg, 0, max === undefined ? { initial } : { initial, max });
  return { address, seg, sem, i32: new Int32Array(seg.buffer) };
}

test('3 processes share 2 units: never more than 2 inside, all units back at the end', async (t) => {
  const { address, sem, i32 } = shared(t, 2, 2);
  const runs = await Promise.all([
    runFixture(t, 'semaphore-worker', [address, '3000', 'sync'], { timeoutMs: 60_000 }),
    runFixture(t, 'semaphore-worker', [address, '3000', 'sync'], { timeoutMs: 60_000 }),
    runFixture(t, 'semaphore-worker', [address, '3000', 'async'], { timeoutMs: 60_000 }),
  ]);
  for (const r of runs) t.is(r.code, 0, r.stderr);
  t.true(i32[17]! >= 1 && i32[17]! <= 2, `at most 2 inside at once (saw ${i32[17]})`);
  t.is(sem.value, 2);
});

test('a binary semaphore between 2 processes is a lock: the peak inside is 1', async (t) => {
  const { address, sem, i32 } = shared(t, 1, 1);
  const runs = await Promise.all([
    runFixture(t, 'semaphore-worker', [address, '2000', 'sync'], { timeoutMs: 60_000 }),
    runFixture(t, 'semaphore-worker', [address, '2000', 'async'], { timeoutMs: 60_000 }),
  ]);
  for (const r of runs) t.is(r.code, 0, r.stderr);
  t.is(i32[17], 1);
  t.is(sem.value, 1);
});

test('acquire times out with ERR_TIMEOUT; tryAcquire says false; release wakes an async acquirer', async (t) => {
  const { sem } = shared(t, 0);
  t.false(sem.tryAcquire());
  t.throws(() => sem.acquire({ timeout: 20 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' });
  await t.throwsAsync(sem.acquireAsync({ timeout: 20 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' });
  const waiting = sem.acquireAsync({ timeout: 10_000 });
  setTimeout(() => sem.release(), 10);
  await waiting;
  t.is(sem.value, 0);
  const controller = new AbortController();
  const aborted = sem.acquireAsync({ signal: controller.signal });
  controller.abort();
  await t.throwsAsync(aborted, { code: 'ERR_ABORTED' });
});

test('release past the maximum is ERR_SEM_OVERFLOW and changes nothing', (t) => {
  const { sem } = shared(t, 2, 3);
  sem.release();
  t.throws(() => sem.release(), { instanceOf: ShmError, code: 'ERR_SEM_OVERFLOW' });
  t.throws(() => sem.release(5), { code: 'ERR_SEM_OVERFLOW' });
  t.is(sem.value, 3);
});

test('open attaches without reinitialising; foreign bytes are ERR_SHM_BAD_HEADER', (t) => {
  const { seg, sem } = shared(t, 5);
  t.true(sem.tryAcquire());
  const again = Semaphore.open(seg, 0);
  t.is(again.value, 4);
  t.is(again.max, sem.max);
  t.throws(() => Semaphore.open(seg, 128), { instanceOf: ShmError, code: 'ERR_SHM_BAD_HEADER' });
  const i32 = new Int32Array(seg.buffer);
  i32[1] = -7; // corrupt count
  t.throws(() => Semaphore.open(seg, 0), { code: 'ERR_SHM_BAD_HEADER' });
});

test('bad arguments are TypeError or RangeError', (t) => {
  const { seg, sem } = shared(t, 0);
  t.throws(() => Semaphore.create(seg, 2), { instanceOf: RangeError, message: /^byteOffset=2/ });
  t.throws(() => Semaphore.create(seg, 4090), { instanceOf: RangeError });
  t.throws(() => Semaphore.create(seg, 16, { initial: -1 }), { instanceOf: RangeError, message: /^initial=-1/ });
  t.throws(() => Semaphore.create(seg, 16, { initial: 3, max: 2 }), { instanceOf: RangeError });
  t.throws(() => Semaphore.create(seg, 16, { max: 0 }), { instanceOf: RangeError });
  t.throws(() => Semaphore.create('shm:x' as unknown as Segment, 0), { instanceOf: TypeError });
  t.throws(() => sem.release(0), { instanceOf: RangeError });
  t.throws(() => sem.release(1.5), { instanceOf: RangeError });
  t.throws(() => sem.acquire({ timeout: NaN }), { instanceOf: RangeError });
});
