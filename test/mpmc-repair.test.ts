// MPMC crash recovery: a slot claimed by a process that died is repaired after the repair
// delay, losing only that process's in-flight message (counted in stats.lost); a slow but
// live participant is never repaired over.
import test, { type ExecutionContext } from 'ava';
import { MpmcRing, ShmError } from '../src/index.js';
import { finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const message = (n: number) => new Uint8Array([n]);

function ring(t: ExecutionContext) {
  const address = shmAddress(t);
  const r = MpmcRing.create(address, { slots: 8, slotSize: 16, repairDelayMs: 50 });
  t.teardown(() => r.close());
  return { address, ring: r };
}

async function crash(t: ExecutionContext, address: string, role: 'producer' | 'consumer', kill = true) {
  const child = startFixture(t, 'mpmc-crash', [address, role]);
  const exited = finished(child);
  await lineFrom(child, /claimed/);
  if (kill) {
    child.kill('SIGKILL');
    await exited;
  }
  return { child, exited };
}

test('a producer killed between claiming and publishing costs one message, and the ring goes on', async (t) => {
  const { address, ring: r } = ring(t);
  r.tryWrite(message(1));
  await crash(t, address, 'producer');
  r.tryWrite(message(2));
  t.deepEqual([...r.read({ timeout: 5000 })], [1]);
  t.is(r.tryRead(), null, 'the stuck slot is not skipped before the repair delay');
  t.deepEqual([...r.read({ timeout: 5000 })], [2], 'repaired into a tombstone and skipped');
  t.is(r.stats.lost, 1);
  for (let i = 0; i < 40; i++) {
    t.true(r.tryWrite(message(i)));
    t.deepEqual([...r.tryRead()!], [i]);
  }
});

test('a consumer killed between claiming and freeing costs its message; a blocked producer gets the slot back', async (t) => {
  const { address, ring: r } = ring(t);
  for (let i = 0; i < 8; i++) t.true(r.tryWrite(message(i)));
  await crash(t, address, 'consumer'); // takes message 0 and dies
  for (let i = 1; i < 8; i++) t.deepEqual([...r.tryRead()!], [i]);
  t.false(r.tryWrite(message(8)), 'the slot of the dead consumer is not free yet');
  await r.writeAsync(message(8), { timeout: 5000 });
  t.is(r.stats.lost, 1);
  t.deepEqual([...r.tryRead()!], [8]);
});

test('a slow but live producer is never repaired over', async (t) => {
  const { address, ring: r } = ring(t);
  const { child, exited } = await crash(t, address, 'producer', false);
  r.tryWrite(message(2));
  t.throws(() => r.read({ timeout: 400 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' });
  t.is(r.stats.lost, 0);
  child.kill('SIGKILL');
  await exited;
  t.deepEqual([...r.read({ timeout: 5000 })], [2]);
  t.is(r.stats.lost, 1);
});

test('registry entries of dead handles are reused; too many live handles is ERR_TOO_MANY_PARTICIPANTS', async (t) => {
  const address = shmAddress(t);
  const first = MpmcRing.create(address, { slots: 8, slotSize: 16, participants: 2 });
  t.teardown(() => first.close());
  const second = MpmcRing.open(address);
  const third = MpmcRing.open(address);
  t.true(first.tryWrite(message(1)));
  t.deepEqual([...second.tryRead()!], [1]);
  t.throws(() => third.tryRead(), { instanceOf: ShmError, code: 'ERR_TOO_MANY_PARTICIPANTS' });
  second.close();
  t.is(third.tryRead(), null, 'the entry given back by close is taken');
  third.close();
  t.throws(() => MpmcRing.create(address, { slots: 8, slotSize: 16, participants: 0 }), { instanceOf: RangeError });
});

test('a reader blocked on an empty ring whose every producer died gets ERR_PEER_DEAD; with no producer yet it keeps waiting', async (t) => {
  const { address, ring: r } = ring(t);
  t.throws(() => r.read({ timeout: 250 }), { code: 'ERR_TIMEOUT' }, 'no producer has ever written: keep waiting');
  const child = startFixture(t, 'ring-abandon', [`${address}`, 'mpmc-open']);
  const exited = finished(child);
  await lineFrom(child, /ready/);
  t.deepEqual([...r.read({ timeout: 5000 })], [1]);
  const reading = r.readAsync({ timeout: 10_000 });
  child.kill('SIGKILL');
  await exited;
  await t.throwsAsync(reading, { instanceOf: ShmError, code: 'ERR_PEER_DEAD' });
});
