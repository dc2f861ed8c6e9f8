// The benchmark as a user runs it after `npm install shmring`, on a machine with Node and
// nothing else (every compiler on PATH replaced by a failing shim, piscina not installed):
// `npx shmring bench --quick --json` gives every competitor a figure or a stated reason and
// writes the JSON, the SVG and the HTML; Ctrl-C stops it with its children killed and its
// segments and queues removed.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { posixQueue } from '../src/queues.js';
import { compilerShims, npx, removeTarball, scratchInstall } from './helpers/package.js';

test.after.always(removeTarball);

interface Run {
  machine: { cReferences?: string; cores: number };
  rows: Array<{ scenario: string; competitor: string; setup: string; figures: Record<string, number>; skipped?: string }>;
}

const COMPETITORS = ['memcpy', 'C ring', 'shmring SPSC', 'shmring MPMC', 'Unix socket', 'TCP loopback', 'pipe', 'POSIX mq', 'System V msgq', 'child_process IPC', 'worker_threads', 'piscina', 'shmring futex', 'shmring Channel', 'shmring fork', 'JS ceiling', 'SpscRing claim'];

/** Processes whose command line names `text` (children of the harness that outlived it). */
function processesNaming(text: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return cmdline.includes(text) ? [`${pid}: ${cmdline}`] : [];
      } catch {
        return []; // ended meanwhile
      }
    });
}

test('npx shmring bench --quick --json runs from the installed package with no compiler and no piscina', (t) => {
  t.timeout(600_000);
  const shims = compilerShims(t);
  const { dir, install } = scratchInstall(t, { pathFirst: [shims.dir] });
  t.is(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);
  t.false(existsSync(join(dir, 'node_modules', 'piscina')), 'piscina is an optional peer: not installed');
  t.false(existsSync(join(dir, 'node_modules', 'vega')), 'the chart is bundled: no charting packages installed');
  const started = Date.now();
  const result = npx(['shmring', 'bench', '--quick', '--json', '--out', 'results'], { cwd: dir, pathFirst: [shims.dir], timeout: 540_000 });
  t.is(result.status, 0, `${result.stderr}`);
  t.log(`--quick took ${((Date.now() - started) / 1000).toFixed(0)} s here (other tests run meanwhile)`);
  t.deepEqual(shims.used(), [], 'no compiler was run');
  const run = JSON.parse(result.stdout) as Run;
  t.regex(run.machine.cReferences ?? '', /prebuilt/, 'the C references came prebuilt');
  const competitors = new Set(run.rows.map((r) => r.competitor));
  for (const name of COMPETITORS) t.true(competitors.has(name), name);
  for (const row of run.rows) {
    const label = `${row.competitor}, ${row.setup}`;
    if (row.skipped !== undefined) {
      t.true(row.skipped.length > 10, `${label}: a stated reason`);
      continue;
    }
    t.true(Object.values(row.figures).some((v) => Number.isFinite(v) && v > 0), `${label}: ${JSON.stringify(row.figures)}`);
  }
  const piscina = run.rows.filter((r) => r.competitor === 'piscina');
  t.true(piscina.length > 0 && piscina.every((r) => /npm install piscina/.test(r.skipped ?? '')), 'piscina rows say how to measure them');
  const measured = run.rows.filter((r) => r.skipped === undefined).map((r) => r.competitor);
  for (const name of COMPETITORS.filter((c) => c !== 'piscina')) t.true(measured.includes(name), `${name} measured`);
  const files = readdirSync(join(dir, 'results'));
  for (const ext of ['json', 'svg', 'html']) t.true(files.some((f) => f.endsWith(`.${ext}`)), ext);
  const svg = readFileSync(join(dir, 'results', files.find((f) => f.endsWith('.svg'))!), 'utf8');
  t.true(svg.startsWith('<svg') && svg.includes('shmring SPSC'));
});

/** Segments of the harness `pid` in /dev/shm. */
const benchSegments = (pid: number) => readdirSync('/dev/shm').filter((n) => n.startsWith(`shmring-bench-${pid}-`));
/** The harness's System V queue key, as /proc prints it (decimal). */
const sysvKey = (pid: number) => String(0x5b000000 | (pid & 0xffffff));
const sysvQueues = () => readFileSync('/proc/sysvipc/msg', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/)[0]);

/**
 * Starts the installed `shmring bench ARGS`, waits for a progress line containing `when`,
 * checks with `live(pid)` that what must be cleaned up exists, sends SIGINT, and checks that
 * the harness exits with 130, leaves no peer behind and that `gone(pid)` holds.
 */
async function interrupt(t: import('ava').ExecutionContext, dir: string, args: string[], when: string, live: (pid: number) => boolean, gone: (pid: number) => void): Promise<void> {
  const bin = join(dir, 'node_modules', 'shmring', 'bin', 'shmring.js');
  const child = spawn(process.execPath, [bin, 'bench', ...args, '--out', join(dir, 'results')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the run never reached ${when}:\n${stderr}`)), 240_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes(when)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const pid = child.pid!;
  // What the run holds at this point, seen before the interrupt (or the checks after it prove nothing).
  const deadline = Date.now() + 20_000;
  while (!live(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.true(live(pid), `${when}: the resources to clean up exist before the interrupt`);
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  t.is(code, 130, `${when}: exit code`);
  await new Promise((r) => setTimeout(r, 500)); // SIGKILLed children leave the process table
  t.deepEqual(processesNaming(join(dir, 'node_modules', 'shmring')), [], `${when}: no peer outlived the harness`);
  gone(pid);
}

test('Ctrl-C stops the installed benchmark: children killed, segments and queues removed', async (t) => {
  t.timeout(400_000);
  const { dir, install } = scratchInstall(t);
  t.is(install.status, 0, install.stderr);
  const quick = ['--quick', '--only'];
  await interrupt(t, dir, [...quick, 'throughput'], 'shmring SPSC/copy per message', (pid) => benchSegments(pid).length > 0, (pid) => t.deepEqual(benchSegments(pid), [], 'ring segments removed'));
  await interrupt(t, dir, [...quick, 'throughput'], 'POSIX mq/', (pid) => { try { posixQueue.close(posixQueue.open(`/shmring-bench-${pid}`)); return true; } catch { return false; } }, (pid) => t.throws(() => posixQueue.open(`/shmring-bench-${pid}`), { code: 'ENOENT' }, 'the POSIX queue removed'));
  await interrupt(t, dir, [...quick, 'throughput'], 'System V msgq/', (pid) => sysvQueues().includes(sysvKey(pid)), (pid) => t.false(sysvQueues().includes(sysvKey(pid)), 'the System V queue removed'));
  await interrupt(t, dir, [...quick, 'transport'], 'transport one-way small: shmring Channel', (pid) => benchSegments(pid).length > 0, (pid) => t.deepEqual(benchSegments(pid), [], 'channel segments removed'));
});
