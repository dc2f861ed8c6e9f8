// PID namespaces: a participant in another PID namespace (a container) records ids that mean
// nothing in ours; its PID 1 is not our PID 1. Identities carry a tag of their namespace,
// and one from another namespace counts as alive: a host process never takes over the role
// or the lock of a producer in a container. Runs children under `unshare --pid --fork
// --mount-proc` (skipped where that is not permitted).
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { Mutex, Segment, ShmError, SpscRing } from '../src/index.js';
import { PRODUCER_OWNER_OFFSET } from '../src/ring/layout/header.js';
import { describeRing } from '../src/ring/inspect.js';
import { identityNamespace, identityThread, isAlive, isForeign, NAMESPACE_TAG, packIdentity } from '../src/sync/identity.js';
import { finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];

function cannotUnshare(): string | undefined {
  const probe = spawnSync(UNSHARE[0]!, [...UNSHARE.slice(1), 'true'], { encoding: 'utf8', timeout: 20_000 });
  if (probe.error) return `unshare is not usable: ${probe.error.message}`;
  if (probe.status !== 0) return `a new PID namespace is not permitted here: ${probe.stderr.trim().split('\n')[0]}`;
  return undefined;
}

const skip = cannotUnshare();
const nsTest = skip === undefined ? test : test.skip;
if (skip !== undefined) console.warn(`pid-namespace tests skipped: ${skip}`);

/** Starts a fixture as PID 1 of a new PID namespace; resolves once it printed `ready`. */
async function inNamespace(t: ExecutionContext, fixture: string, args: string[], ready: RegExp) {
  const child = startFixture(t, fixture, args, { prefix: UNSHARE });
  const exited = finished(child);
  t.teardown(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  await lineFrom(child, ready);
  return child;
}

nsTest('a producer that is PID 1 of its own namespace holds the role: a host process gets ERR_ROLE_TAKEN', async (t) => {
  t.timeout(60_000);
  const address = shmAddress(t);
  SpscRing.create(address, { capacity: 4096 }).close();
  await inNamespace(t, 'spsc-role', [address, 'producer', 'hold'], /held/);
  t.throws(() => SpscRing.open(address, { role: 'producer' }), { instanceOf: ShmError, code: 'ERR_ROLE_TAKEN' });
  const seg = Segment.open(address);
  t.teardown(() => seg.close());
  const owner = new BigInt64Array(seg.buffer)[PRODUCER_OWNER_OFFSET / 8]!;
  t.is(identityThread(owner), 1, 'inside its namespace the producer is PID 1');
  t.true(isForeign(owner));
  t.not(identityNamespace(owner), NAMESPACE_TAG);
  // Control group: the same identity judged by pid and start time in our namespace, as
  // before the tag, is taken for dead (our PID 1 started at another time).
  t.false(isAlive(packIdentity(identityThread(owner), Number(owner >> 32n), 0)), 'the harness sees pid-based liveness fail');
  t.true(isAlive(owner));
  const described = describeRing(new Uint8Array(seg.buffer).slice(0, 512));
  t.like(described?.participants[0], { role: 'producer', pid: 1, alive: true, foreignNamespace: true });
  const ring = SpscRing.open(address, { role: 'consumer' });
  t.teardown(() => ring.close());
  t.deepEqual([...ring.read({ timeout: 10_000 })], [1, 2, 3], 'the ring itself works across the namespaces');
});

nsTest('a mutex held by a process in another PID namespace is not taken over', async (t) => {
  t.timeout(60_000);
  const address = shmAddress(t);
  const seg = Segment.create(address, { size: 4096 });
  t.teardown(() => seg.close());
  const mutex = Mutex.create(seg, 0);
  await inNamespace(t, 'mutex-worker', [address, 'hold'], /locked/);
  t.is(mutex.tryLock(), null);
  t.throws(() => mutex.lock({ timeout: 300 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' });
});
