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

const COMPETITORS = ['memcpy', 'C ring', 'shmring SPSC', 'shmring MPMC', 'Unix socket', 'TCP loopback', 'pipe', 'POSIX mq', 'System V msgq', 'child_process IPC', 'worker_threads', 'piscina', 'shmring futex', 'shmring Channel', 'shmring fork', 'shmring SharedResults'];

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
  const piscina = run.rows.filter((r) => r.competitor === 'piscina' || r.competitor === 'shmring SharedResults');
  t.true(piscina.length > 0 && piscina.every((r) => /npm install piscina/.test(r.skipped ?? '')), 'piscina rows say how to measure them');
  const measured = run.rows.filter((r) => r.skipped === undefined).map((r) => r.competitor);
  for (const name of COMPETITORS.filter((c) => c !== 'piscina' && c !== 'shmring SharedResults')) t.true(measured.includes(name), `${name} measured`);
  const files = readdirSync(join(dir, 'results'));
  for (const ext of ['json', 'svg', 'html']) t.true(files.some((f) => f.endsWith(`.${ext}`)), ext);
  const svg = readFileSync(join(dir, 'results', files.find((f) => f.endsWith('.svg'))!), 'utf8');
  t.true(svg.startsWith('<svg') && svg.includes('shmring SPSC'));
});

test('Ctrl-C stops the installed benchmark: children killed, segments and queues removed', async (t) => {
  t.timeout(300_000);
  const { dir, install } = scratchInstall(t);
  t.is(install.status, 0, install.stderr);
  const bin = join(dir, 'node_modules', 'shmring', 'bin', 'shmring.js');
  const child = spawn(process.execPath, [bin, 'bench', '--quick', '--only', 'throughput', '--out', join(dir, 'results')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  // Interrupted while the POSIX queue runs: a queue and two peers are live then.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the run never reached the queues:\n${stderr}`)), 240_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('POSIX mq')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const pid = child.pid!;
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  t.is(code, 130);
  await new Promise((r) => setTimeout(r, 500)); // SIGKILLed children leave the process table
  t.deepEqual(processesNaming(join(dir, 'node_modules', 'shmring')), [], 'no peer outlived the harness');
  t.deepEqual(readdirSync('/dev/shm').filter((n) => n.startsWith(`shmring-bench-${pid}-`)), [], 'segments removed');
  t.throws(() => posixQueue.open(`/shmring-bench-${pid}`), { code: 'ENOENT' }, 'the POSIX queue removed');
  const key = String(0x5b000000 | (pid & 0xffffff)); // the harness's key, as /proc prints it (decimal)
  const queues = readFileSync('/proc/sysvipc/msg', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/)[0]);
  t.false(queues.includes(key), 'the System V queue removed');
});
