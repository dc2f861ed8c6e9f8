// A reused pid: liveness is pid and process start time, so a live process whose pid is
// recorded with another start time (the pid's earlier owner) counts as dead, and the right
// start time as alive. The control group is a liveness check by pid alone, which the same
// harness must catch taking the reused pid for the dead process.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { ShmError, SpscRing } from '../src/index.js';
import { PRODUCER_OWNER_OFFSET } from '../src/ring/layout/header.js';
import { isAlive, packIdentity, processStartTime } from '../src/sync/identity.js';

/** A live process of our own (sleep), killed at teardown. */
function liveProcess(t: ExecutionContext): number {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.teardown(() => void child.kill('SIGKILL'));
  return child.pid!;
}

/** What the same checks say with `alive` as the liveness test: [right start time, wrong start time]. */
function verdicts(t: ExecutionContext, alive: (identity: bigint) => boolean): [boolean, boolean] {
  const pid = liveProcess(t);
  const start = processStartTime(pid)!;
  t.true(start > 0);
  return [alive(packIdentity(pid, start)), alive(packIdentity(pid, start - 1))];
}

/** Liveness by pid alone: the mistake the start time is there to prevent. */
function pidOnly(identity: bigint): boolean {
  try {
    process.kill(Number(identity & 0x3fffffn), 0);
    return true;
  } catch {
    return false;
  }
}

test('control group: liveness by pid alone takes a reused pid for the dead process', (t) => {
  const [right, wrong] = verdicts(t, pidOnly);
  t.true(right);
  t.true(wrong, 'the harness sees the reused pid called alive');
});

test('a live pid with the wrong start time is dead, with the right one alive', (t) => {
  t.deepEqual(verdicts(t, isAlive), [true, false]);
});

test('a role recorded for a reused pid is taken over; for the live process it is ERR_ROLE_TAKEN', (t) => {
  const pid = liveProcess(t);
  const start = processStartTime(pid)!;
  const attempt = (owner: bigint) => {
    const sab = new SharedArrayBuffer(512 + 1024);
    SpscRing.create(sab, { capacity: 1024 }).close();
    new BigInt64Array(sab)[PRODUCER_OWNER_OFFSET / 8] = owner;
    return SpscRing.open(sab, { role: 'producer' });
  };
  const taken = attempt(packIdentity(pid, start - 1));
  t.true(taken.tryWrite(new Uint8Array([1])), 'the earlier owner of the pid is dead: the role is taken over');
  t.throws(() => attempt(packIdentity(pid, start)), { instanceOf: ShmError, code: 'ERR_ROLE_TAKEN' });
});
