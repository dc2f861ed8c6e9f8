// The robust Mutex: exclusion across processes, owner-died takeover, misuse. Each guarantee
// is first run as a control group with its mechanism removed (no lock; a liveness check
// that finds every owner alive), which the same harness must see fail.
import test, { type ExecutionContext } from 'ava';
import { Mutex, Segment, ShmError } from '../src/index.js';
import { release } from './helpers/overlap.js';
import { livenessEnv } from './helpers/liveness.js';
import { finished, lineFrom, runFixture, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

function shared(t: ExecutionContext) {
  const address = shmAddress(t);
  const seg = Segment.create(address, { size: 4096 });
  t.teardown(() => seg.close());
  return { address, seg, mutex: Mutex.create(seg, 0), i32: new Int32Array(seg.buffer) };
}

/**
 * 4 children started together at a barrier: 5 stays of up to 20 ms each in the critical
 * section, watching for another child there, then 10,000 non-atomic increments each.
 */
async function exclusion(t: ExecutionContext, locked: boolean) {
  const { address, i32 } = shared(t);
  const args = [address, 'count', '10000', '5', '20', locked ? 'locked' : 'unlocked'];
  const children = Array.from({ length: 4 }, () => runFixture(t, 'mutex-worker', args, { timeoutMs: 60_000 }));
  await release(i32, 19, 20, 4);
  const results = await Promise.all(children);
  for (const r of results) t.is(r.code, 0, r.stderr);
  return { total: i32[16]!, peak: i32[18]! };
}

test('control group: the same 4 children without the lock are seen overlapping', async (t) => {
  const { total, peak } = await exclusion(t, false);
  t.true(peak > 1 || total !== 40_000, `the harness must detect the missing lock (peak ${peak}, total ${total})`);
  t.log(`without the lock: up to ${peak} inside at once, total ${total} of 40000`);
});

test('4 processes x 10,000 locked non-atomic increments give an exact total, and never 2 inside', async (t) => {
  const { total, peak } = await exclusion(t, true);
  t.is(peak, 1);
  t.is(total, 40_000);
});

/**
 * A holder SIGKILLed while holding the lock in the middle of an update; then a locker in
 * another process, `env` its environment, that gives up after 1.5 s. What it printed:
 * {"ownerDied":...} once it got the lock, or "timed out" (the lock is wedged).
 */
async function holderKilled(t: ExecutionContext, env?: NodeJS.ProcessEnv) {
  const { address, mutex, i32 } = shared(t);
  const holder = startFixture(t, 'mutex-worker', [address, 'hold']);
  const exited = finished(holder);
  await lineFrom(holder, /locked/);
  t.true(mutex.locked);
  t.is(mutex.tryLock(), null, 'a live owner keeps the lock');
  holder.kill('SIGKILL');
  await exited;
  const next = await runFixture(t, 'mutex-worker', [address, 'lock', '1500'], env === undefined ? {} : { env });
  t.is(next.code, 0, next.stderr);
  return { mutex, i32, outcome: next.stdout.trim() };
}

test('control group: a locker whose liveness check finds every owner alive is wedged by a killed holder', async (t) => {
  const { mutex, outcome } = await holderKilled(t, livenessEnv('alive'));
  t.is(outcome, 'timed out', 'the harness must detect the wedge');
  t.true(mutex.locked, 'the dead holder still holds it');
  t.deepEqual(mutex.tryLock(), { ownerDied: true }, 'with the check, this process takes it over');
  mutex.unlock();
});

test('SIGKILL of the holder lets the next locker in with ownerDied', async (t) => {
  const { mutex, i32, outcome } = await holderKilled(t);
  t.is(outcome, JSON.stringify({ ownerDied: true }));
  t.is(i32[16], -1, 'the half-done update is there to repair');
  t.false(mutex.locked, 'the new owner unlocked it');
  t.deepEqual(mutex.tryLock(), { ownerDied: false });
  mutex.unlock();
});

test('a blocked async locker takes over from a killed owner, well within 2 s', async (t) => {
  const { address, mutex } = shared(t);
  const holder = startFixture(t, 'mutex-worker', [address, 'hold']);
  const exited = finished(holder);
  await lineFrom(holder, /locked/);
  const locking = mutex.lockAsync({ timeout: 20_000 });
  holder.kill('SIGKILL');
  await exited;
  const killed = performance.now();
  t.deepEqual(await locking, { ownerDied: true });
  const elapsed = performance.now() - killed;
  // The README states within 50 ms of blocking; asserted loosely (a bound on detection, not a speed).
  t.true(elapsed < 2000, `taken over ${elapsed.toFixed(0)} ms after the kill`);
  mutex.unlock();
});

test('lock and lockAsync time out with ERR_TIMEOUT while a live process holds it', async (t) => {
  const { address, mutex } = shared(t);
  const holder = startFixture(t, 'mutex-worker', [address, 'hold']);
  await lineFrom(holder, /locked/);
  t.throws(() => mutex.lock({ timeout: 30 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' });
  await t.throwsAsync(mutex.lockAsync({ timeout: 30 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' });
  const controller = new AbortController();
  const pending = mutex.lockAsync({ signal: controller.signal });
  controller.abort();
  await t.throwsAsync(pending, { code: 'ERR_ABORTED' });
  holder.kill('SIGKILL');
});

test('an async locker is handed the lock when the owner unlocks', async (t) => {
  const { seg } = shared(t);
  const mutex = Mutex.open(seg, 0);
  t.deepEqual(mutex.lock(), { ownerDied: false });
  const waiting = mutex.lockAsync();
  setTimeout(() => mutex.unlock(), 20);
  t.deepEqual(await waiting, { ownerDied: false });
  mutex.unlock();
});

test('unlock by a non-owner is ERR_NOT_OWNER; relocking from the holder is EDEADLK', async (t) => {
  const { address, mutex } = shared(t);
  t.throws(() => mutex.unlock(), { instanceOf: ShmError, code: 'ERR_NOT_OWNER' });
  mutex.lock();
  t.throws(() => mutex.lock(), { instanceOf: ShmError, code: 'EDEADLK' });
  mutex.unlock();
  const holder = startFixture(t, 'mutex-worker', [address, 'hold']);
  await lineFrom(holder, /locked/);
  t.throws(() => mutex.unlock(), { instanceOf: ShmError, code: 'ERR_NOT_OWNER' });
  holder.kill('SIGKILL');
});

test('bad arguments and foreign bytes', (t) => {
  const { seg } = shared(t);
  t.throws(() => Mutex.create(seg, 4), { instanceOf: RangeError, message: /^byteOffset=4/ });
  t.throws(() => Mutex.create(seg, 4096), { instanceOf: RangeError });
  t.throws(() => Mutex.create(seg, -8), { instanceOf: RangeError });
  t.throws(() => Mutex.create({} as Segment, 0), { instanceOf: TypeError });
  t.throws(() => Mutex.open(seg, 64), { instanceOf: ShmError, code: 'ERR_SHM_BAD_HEADER' });
  const mutex = Mutex.open(seg, 0);
  t.throws(() => mutex.lock({ timeout: -1 }), { instanceOf: RangeError });
});
