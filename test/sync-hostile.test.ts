// Mutex and Semaphore against a hostile or careless neighbour: a releaser that died between
// its count update and its wake-up (the waiter re-tries every slice instead of sleeping for
// good), a closed segment (ERR_CLOSED, not a lock on a private zero page), and segments too
// small or of odd sizes (a clear error naming the size, views over the structure only).
import test, { type ExecutionContext } from 'ava';
import { Mutex, Segment, Semaphore, ShmError } from '../src/index.js';
import { SEMAPHORE_COUNT_OFFSET, SEMAPHORE_WAITERS_OFFSET } from '../src/sync/semaphore.js';
import { finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a waiter may take to notice the free unit before the harness calls it stuck. */
const DEADLINE_MS = 2000;

/**
 * A child blocked in acquire (no timeout) on a semaphore with no unit; then a unit appears
 * the way a releaser that died after its CAS leaves it: the count incremented, nobody woken.
 * 'acquired', or 'stuck' if the child did not get it within DEADLINE_MS (then it is killed).
 */
async function deadReleaser(t: ExecutionContext, mode: 'sync' | 'async', slicing: 'sliced' | 'unsliced'): Promise<'acquired' | 'stuck'> {
  const address = shmAddress(t);
  const seg = Segment.create(address, { size: 4096 });
  t.teardown(() => seg.close());
  Semaphore.create(seg, 0, { initial: 0 });
  const i32 = new Int32Array(seg.buffer, 0, 4);
  const child = startFixture(t, 'semaphore-waiter', [address, mode, slicing], { timeoutMs: 60_000 });
  const exited = finished(child);
  const acquired = lineFrom(child, /acquired/);
  acquired.catch(() => {}); // a control child is killed before it prints
  const watchdog = Date.now() + 30_000;
  while (Atomics.load(i32, SEMAPHORE_WAITERS_OFFSET / 4) === 0) {
    if (Date.now() > watchdog) throw new Error('the waiter never parked');
    await sleep(5);
  }
  await sleep(150); // well into its futex wait
  // The releaser's CAS, and then its death: no futex wake.
  Atomics.add(i32, SEMAPHORE_COUNT_OFFSET / 4, 1);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([acquired.then(() => 'acquired' as const), new Promise<'stuck'>((r) => (timer = setTimeout(() => r('stuck'), DEADLINE_MS)))]);
  clearTimeout(timer);
  if (outcome === 'stuck') child.kill('SIGKILL');
  await exited;
  if (outcome === 'acquired') t.is(Atomics.load(i32, SEMAPHORE_COUNT_OFFSET / 4), 0, 'the unit was taken');
  return outcome;
}

for (const mode of ['sync', 'async'] as const) {
  test(`control group (${mode}): a waiter that parks without a time limit sleeps through a free unit nobody woke it for`, async (t) => {
    t.is(await deadReleaser(t, mode, 'unsliced'), 'stuck', 'the harness must detect the lost wake-up');
  });

  test(`${mode === 'sync' ? 'acquire()' : 'acquireAsync()'} without a timeout gets a unit whose releaser died before waking it, within 2 s`, async (t) => {
    t.is(await deadReleaser(t, mode, 'sliced'), 'acquired');
  });
}

function segment(t: ExecutionContext, size = 4096) {
  const seg = Segment.create(shmAddress(t), { size });
  t.teardown(() => seg.close());
  return seg;
}

const CLOSED = { instanceOf: ShmError, code: 'ERR_CLOSED' };

test('a mutex refuses a closed segment: every method is ERR_CLOSED, a pending lockAsync settles with it', async (t) => {
  const seg = segment(t);
  const mutex = Mutex.create(seg, 0);
  const buffer = seg.buffer;
  t.deepEqual(mutex.lock(), { ownerDied: false });
  const pending = mutex.lockAsync({ timeout: 20_000 });
  pending.catch(() => {});
  await sleep(20);
  seg.close();
  await t.throwsAsync(pending, CLOSED);
  t.throws(() => mutex.tryLock(), CLOSED);
  t.throws(() => mutex.lock(), CLOSED);
  t.throws(() => mutex.lock({ timeout: 10 }), CLOSED);
  t.throws(() => mutex.unlock(), CLOSED);
  t.throws(() => mutex.locked, CLOSED);
  await t.throwsAsync(mutex.lockAsync(), CLOSED);
  t.throws(() => Mutex.open(seg, 0), CLOSED);
  t.throws(() => Mutex.open(buffer, 0), CLOSED, 'the buffer of a closed segment, passed bare');
  t.throws(() => Mutex.create(buffer, 0), CLOSED);
});

test('a semaphore refuses a closed segment: every method is ERR_CLOSED, a pending acquireAsync settles with it', async (t) => {
  const seg = segment(t);
  const sem = Semaphore.create(seg, 0, { initial: 0 });
  const buffer = seg.buffer;
  const pending = sem.acquireAsync({ timeout: 20_000 });
  pending.catch(() => {});
  await sleep(20);
  seg.close();
  await t.throwsAsync(pending, CLOSED);
  t.throws(() => sem.tryAcquire(), CLOSED);
  t.throws(() => sem.acquire(), CLOSED);
  t.throws(() => sem.release(), CLOSED);
  t.throws(() => sem.value, CLOSED);
  await t.throwsAsync(sem.acquireAsync({ timeout: 10 }), CLOSED);
  t.throws(() => Semaphore.open(buffer, 0), CLOSED);
  t.throws(() => Semaphore.create(buffer, 0), CLOSED);
});

test('structures on a plain SharedArrayBuffer are not affected by closing an unrelated segment', (t) => {
  const buffer = new SharedArrayBuffer(64);
  const mutex = Mutex.create(buffer, 0);
  const sem = Semaphore.create(buffer, 16, { initial: 1 });
  segment(t).close();
  t.deepEqual(mutex.tryLock(), { ownerDied: false });
  mutex.unlock();
  t.true(sem.tryAcquire());
  sem.release();
});

test('segments of sizes that are not a multiple of 8 hold a mutex and a semaphore (views over their own bytes only)', async (t) => {
  for (const size of [16, 20, 33, 4095]) {
    const seg = segment(t, size);
    const mutex = Mutex.create(seg, 0);
    t.deepEqual(Mutex.open(seg, 0).lock({ timeout: 1000 }), { ownerDied: false });
    t.true(mutex.locked);
    mutex.unlock();
    const at = Math.floor((size - 16) / 4) * 4;
    const sem = Semaphore.create(seg, at, { initial: 1 });
    t.true(Semaphore.open(seg, at).tryAcquire());
    t.is(sem.value, 0);
    sem.release();
    await sem.acquireAsync({ timeout: 1000 });
  }
  const odd = new SharedArrayBuffer(27);
  t.deepEqual(Mutex.create(odd, 8).tryLock(), { ownerDied: false });
  t.true(Semaphore.create(odd, 8, { initial: 1 }).tryAcquire());
});

test('a segment too small for the structure, or an offset past its end, is a RangeError naming the size', (t) => {
  const tiny = segment(t, 10);
  t.throws(() => Mutex.create(tiny, 0), { instanceOf: RangeError, message: /^segment\.size=10: must be at least 16: a mutex takes 16 bytes/ });
  t.throws(() => Mutex.open(tiny, 0), { instanceOf: RangeError, message: /^segment\.size=10/ });
  t.throws(() => Semaphore.create(tiny, 0), { instanceOf: RangeError, message: /^segment\.size=10: must be at least 16: a semaphore/ });
  t.throws(() => Semaphore.open(tiny, 0), { instanceOf: RangeError, message: /^segment\.size=10/ });
  const small = segment(t, 20);
  t.throws(() => Mutex.create(small, 8), { instanceOf: RangeError, message: /^byteOffset=8: must be a multiple of 8 from 0 to 0 \(a mutex takes 16 bytes of 20\)/ });
  t.throws(() => Semaphore.create(small, 8), { instanceOf: RangeError, message: /^byteOffset=8: must be a multiple of 4 from 0 to 4/ });
  t.throws(() => Mutex.create(new SharedArrayBuffer(12), 0), { instanceOf: RangeError, message: /^buffer\.byteLength=12/ });
});
