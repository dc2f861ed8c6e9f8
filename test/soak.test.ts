// The soak tool reports what happened: its summary never shows fewer lost messages than
// its progress lines did, a closed MPMC ring still tells its losses, a short run of its
// transport trials (Channel ends and fork() children killed, some mid-message) finds every
// published message and leaves nothing behind, and a SIGTERM in either phase leaves no
// segment and no peer behind.
import test, { type ExecutionContext } from 'ava';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpmcRing, Segment } from '../src/index.js';
import { LOST_OFFSET } from '../src/ring/layout/header.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Ends what a soak run left if the test failed: the run itself, its peers (orphans by then) and its segments. */
function cleanUp(pid: number): void {
  for (const p of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(p) === pid || readFileSyncSafe(`/proc/${p}/cmdline`).includes(`shmring-soak-${pid}-`)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const name of leftovers(pid)) rmSync(join('/dev/shm', name), { force: true });
}

function soak(t: ExecutionContext, args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--import=tsx', join(ROOT, 'bench', 'soak.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => cleanUp(child.pid!));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

const leftovers = (pid: number) => readdirSync('/dev/shm').filter((n) => n.startsWith(`shmring-soak-${pid}-`));

test('a closed MPMC ring reports the losses it had counted, even once its segment is unmapped', (t) => {
  const address = shmAddress(t);
  const ring = MpmcRing.create(address, { slots: 4, slotSize: 16 });
  const other = Segment.open(address);
  t.teardown(() => other.close());
  Atomics.add(new Int32Array(other.buffer), LOST_OFFSET >> 2, 5); // as five repairs would
  t.is(ring.stats.lost, 5);
  ring.close();
  t.is(ring.stats.lost, 5, 'not the zeros of the unmapped pages');
});

test('the soak summary reports at least the losses its progress lines showed', async (t) => {
  t.timeout(150_000);
  const { child, done } = soak(t, ['--trials', '40', '--transport-trials', '0', '--load-seconds', '0.3', '--progress-every', '10']);
  const result = await done;
  t.is(result.code, 0, result.stderr);
  const progress = [...result.stderr.matchAll(/(\d+) lost/g)].map((m) => Number(m[1]));
  t.is(progress.length, 4, result.stderr);
  const summary = JSON.parse(result.stdout) as { trials: number; lost: number; problems: number; trialMessages: number };
  t.is(summary.trials, 40);
  t.is(summary.problems, 0);
  t.true(summary.trialMessages > 0);
  t.true(summary.lost >= Math.max(...progress), `summary ${summary.lost}, progress ${progress.join(', ')}`);
  t.deepEqual(leftovers(child.pid!), []);
});

test('a short transport soak: every kind of peer, message and reader, every published message found, nothing left behind', async (t) => {
  t.timeout(150_000);
  // (start-up kills have their own test below)
  const { child, done } = soak(t, ['--trials', '0', '--transport-trials', '30', '--load-seconds', '0', '--progress-every', '10', '--startup-kill-every', '0']);
  const result = await done;
  t.is(result.code, 0, result.stderr);
  const progress = [...result.stderr.matchAll(/transport (\d+)\/30 trials/g)].map((m) => Number(m[1]));
  t.deepEqual(progress, [10, 20, 30], result.stderr);
  const summary = JSON.parse(result.stdout) as {
    problems: number;
    transport: { trials: number; channelTrials: number; forkTrials: number; messageKinds: Record<string, number>; readers: Record<string, number>; midMessageWindows: number; messages: number; problems: number };
    memorySamples: Array<{ trials: number; rssMiB: number }>;
  };
  t.is(summary.problems, 0, result.stderr);
  const { transport } = summary;
  t.like(transport, { trials: 30, channelTrials: 20, forkTrials: 10, messageKinds: { small: 10, big: 10, tiny: 10 }, problems: 0 });
  for (const reader of ['listening', 'busy', 'late', 'closed']) t.true(transport.readers[reader]! > 0, `no trial with a ${reader} reader`);
  t.true(transport.midMessageWindows > 0, 'no peer was killed with part of a message in the ring');
  t.true(transport.messages > 0);
  t.is(summary.memorySamples.at(-1)?.trials, 30, 'the last memory sample is taken at the end');
  t.deepEqual(leftovers(child.pid!), []);
  t.deepEqual(peersOf(child.pid!), [], 'no peer of the soak is left running');
});

for (const [phase, args] of [
  ['ring', ['--trials', '100000']],
  ['transport', ['--trials', '0', '--transport-trials', '100000']],
] as const) {
  test(`SIGTERM stops the soak in its ${phase} trials, kills its peers and removes its segments`, async (t) => {
    t.timeout(150_000);
    const { child, done } = soak(t, [...args, '--progress-every', '1']);
    await new Promise<void>((resolve) => {
      const onData = (d: string) => {
        if (d.includes('trials')) {
          child.stderr!.off('data', onData);
          resolve();
        }
      };
      child.stderr!.on('data', onData);
      child.on('close', () => resolve());
    });
    t.true(leftovers(child.pid!).length > 0, 'the soak made its segments');
    child.kill('SIGTERM');
    const result = await done;
    t.is(result.code, 143, result.stderr);
    t.deepEqual(leftovers(child.pid!), []);
    t.deepEqual(peersOf(child.pid!), [], 'no peer of the soak is left running');
  });
}

/** Processes that carry a soak's segment names in their arguments: its peers (orphans once it is gone). */
function peersOf(pid: number): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== pid)
    .filter((p) => readFileSyncSafe(`/proc/${p}/cmdline`).includes(`shmring-soak-${pid}-`));
}

function readFileSyncSafe(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

test('a transport soak of peers killed while they start (before, inside and after the connector\'s join): each survivor gets its close, nothing left behind', async (t) => {
  t.timeout(150_000);
  const { child, done } = soak(t, ['--trials', '0', '--transport-trials', '12', '--load-seconds', '0', '--progress-every', '12', '--startup-kill-every', '1']);
  const result = await done;
  t.is(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as { problems: number; transport: { trials: number; startupKills: number; problems: number } };
  t.like(summary.transport, { trials: 12, problems: 0 });
  t.true(summary.transport.startupKills > 0, 'peers were killed while they started (channel-create and mid-message trials are not)');
  t.is(summary.problems, 0);
  t.deepEqual(leftovers(child.pid!), []);
});
