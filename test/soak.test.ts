// The soak tool reports what happened: its summary never shows fewer lost messages than
// its progress lines did, a closed MPMC ring still tells its losses, and a SIGTERM leaves
// no segment and no peer behind.
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
  const { child, done } = soak(t, ['--trials', '40', '--load-seconds', '0.3', '--progress-every', '10']);
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

test('SIGTERM stops the soak, kills its peers and removes its segments', async (t) => {
  t.timeout(150_000);
  const { child, done } = soak(t, ['--trials', '100000', '--progress-every', '5']);
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
  const peers = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      // a peer outlives its parent as an orphan: it is known by the soak's segment names in its arguments
      return readFileSyncSafe(`/proc/${p}/cmdline`).includes(`shmring-soak-${child.pid}-`);
    } catch {
      return false;
    }
  });
  t.deepEqual(peers, [], 'no peer of the soak is left running');
});

function readFileSyncSafe(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}
