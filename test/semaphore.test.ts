// The counting Semaphore across processes, with timeouts and its maximum.
import test, { type ExecutionContext } from 'ava';
import { Segment, Semaphore, ShmError } from '../src/index.js';
import { release } from './helpers/overlap.js';
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

/**
 * `modes.length` children sharing `units` units, started together at a barrier: each
 * acquires `rounds` times and stays inside up to 10 ms, watching for more than `units`
 * inside. `wait: false` is the control group (children that do not wait).
 */
async function limit(t: ExecutionContext, units: number, modes: Array<'sync' | 'async'>, rounds: number, wait: boolean) {
  const { address, sem, i32 } = shared(t, units, units);
  const runs = modes.map((mode) => runFixture(t, 'semaphore-worker', [address, String(rounds), mode, String(units), '10', wait ? 'wait' : 'nowait'], { timeoutMs: 60_000 }));
  await release(i32, 18, 19, modes.length);
  for (const r of await Promise.all(runs)) t.is(r.code, 0, r.stderr);
  return { peak: i32[17]!, value: sem.value };
}

test('control group: 3 processes that do not wait for 2 units are seen 3 inside', async (t) => {
  const { peak } = await limit(t, 2, ['sync', 'sync', 'async'], 20, false);
  t.is(peak, 3, 'the harness must detect the missing wait');
});

test('3 processes share 2 units: never more than 2 inside, all units back at the end', async (t) => {
  const { peak, value } = await limit(t, 2, ['sync', 'sync', 'async'], 20, true);
  t.is(peak, 2, `at most 2 inside at once, and 2 seen (saw ${peak})`);
  t.is(value, 2);
});

test('control group: a binary semaphore that does not wait lets 2 processes in at once', async (t) => {
  const { peak } = await limit(t, 1, ['sync', 'async'], 20, false);
  t.is(peak, 2, 'the harness must detect the missing wait');
});

test('a binary semaphore between 2 processes is a lock: the peak inside is 1', async (t) => {
  const { peak, value } = await limit(t, 1, ['sync', 'async'], 20, true);
  t.is(peak, 1);
  t.is(value, 1);
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
