// The benchmark harness as `shmring bench` runs it (the compiled harness in dist/bench, which
// `npm test` builds first), in its tiny mode: every scenario runs and writes JSON, SVG and
// HTML with every competitor and sane non-zero figures; bad arguments give usage and exit
// code 2; one CPU skips the spinning setups with the reason; no C compiler and no prebuilt
// programs leave the C figures out with the reason; --compare prints the two runs side by
// side. Figures are not judged here: performance is reported by the benchmark, never asserted.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'shmring.js');

interface Run {
  machine: { cpu: string; cores: number; kernel: string; node: string; date: string; cReferences?: string };
  rows: Array<{ scenario: string; competitor: string; setup: string; figures: Record<string, number>; skipped?: string; note?: string }>;
}

function bench(args: string[], options: { prefix?: string[]; env?: Record<string, string> } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const argv = [...(options.prefix ?? []), process.execPath, BIN, 'bench', ...args];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  const timer = setTimeout(() => child.kill('SIGINT'), 300_000);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}

function outDir(t: import('ava').ExecutionContext): string {
  const out = mkdtempSync(join(tmpdir(), 'shmring-bench-test-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  return out;
}

test('a tiny run writes JSON with every competitor and non-zero figures, an SVG chart and an HTML report', async (t) => {
  t.timeout(300_000);
  const out = outDir(t);
  const result = await bench(['--tiny', '--json', '--out', out]);
  t.is(result.status, 0, result.stderr);
  const files = readdirSync(out).sort();
  t.is(files.length, 3);
  t.regex(files[1]!, /^bench-.*\.json$/);
  const base = files[1]!.replace(/\.json$/, '');
  t.deepEqual(files, [`${base}.html`, `${base}.json`, `${base}.svg`]);
  const svg = readFileSync(join(out, `${base}.svg`), 'utf8');
  t.true(svg.startsWith('<svg') && svg.includes('One-way throughput') && svg.includes('Round trip'), 'the chart is drawn');
  const html = readFileSync(join(out, `${base}.html`), 'utf8');
  t.true(html.includes('<svg') && html.includes('shmring SPSC'), 'the report holds the chart and the table');
  const json = JSON.parse(readFileSync(join(out, `${base}.json`), 'utf8')) as Run;
  t.deepEqual(JSON.parse(result.stdout), json, 'stdout carries the same JSON');
  t.true(json.machine.cores > 0 && json.machine.kernel.length > 0 && json.machine.node.startsWith('v'));
  t.regex(json.machine.cReferences ?? '', /prebuilt|compiled/);
  const competitors = new Set(json.rows.map((r) => r.competitor));
  for (const name of ['memcpy', 'POSIX mq', 'System V msgq', 'C ring', 'shmring SPSC', 'shmring MPMC', 'Unix socket', 'TCP loopback', 'pipe', 'child_process IPC', 'worker_threads', 'piscina', 'shmring futex', 'shmring Channel', 'shmring fork', 'JS ceiling', 'SpscRing claim']) {
    t.true(competitors.has(name), name);
  }
  t.deepEqual(new Set(json.rows.map((r) => r.scenario)), new Set(['throughput', 'relay', 'latency', 'pingpong', 'transport', 'pool', 'zmq']));
  for (const row of json.rows) {
    t.is(row.skipped, undefined, `${row.competitor} ${row.setup} ran`);
    const figures = Object.entries(row.figures);
    t.true(figures.length > 0 && figures.every(([, v]) => Number.isFinite(v) && v > 0), `${row.competitor} ${row.setup}: ${JSON.stringify(row.figures)}`);
  }
});

test('unknown flags, scenarios, clashing modes and a bad --compare file give the usage or the reason, and exit code 2', async (t) => {
  const out = outDir(t);
  for (const args of [['--bogus'], ['--only', 'nope'], ['--only'], ['--quick', '--full'], ['--compare']]) {
    const result = await bench(args);
    t.is(result.status, 2, args.join(' '));
    t.regex(result.stderr, /usage: shmring bench/);
  }
  const missing = await bench(['--tiny', '--only', 'relay', '--compare', join(out, 'nope.json')]);
  t.is(missing.status, 2);
  t.regex(missing.stderr, /nope\.json/);
  t.deepEqual(readdirSync(out), [], 'nothing was measured or written');
});

test('on one CPU the spinning setups are skipped with the reason, and the rest is measured and says so', async (t) => {
  t.timeout(300_000);
  const result = await bench(['--tiny', '--only', 'latency', '--json', '--out', outDir(t)], { prefix: ['taskset', '-c', '0'] });
  t.is(result.status, 0, result.stderr);
  const { rows } = JSON.parse(result.stdout) as Run;
  const spinning = rows.filter((r) => /spins(?!, then)/.test(r.setup));
  t.true(spinning.length >= 2);
  for (const row of spinning) t.regex(row.skipped ?? '', /needs two CPUs/, row.setup);
  const measured = rows.filter((r) => r.skipped === undefined);
  t.true(measured.length >= 3);
  for (const row of measured) {
    t.true((row.figures.median_us ?? 0) > 0, row.setup);
    t.regex(row.note ?? '', /one CPU/, row.setup);
  }
});

test('with no C compiler and no prebuilt programs, the C figures are left out with the reason', async (t) => {
  t.timeout(300_000);
  const result = await bench(['--tiny', '--only', 'pingpong', '--json', '--out', outDir(t)], { env: { SHMRING_BENCH_COMPILE: '1', CC: 'shmring-no-such-compiler' } });
  t.is(result.status, 0, result.stderr);
  const run = JSON.parse(result.stdout) as Run;
  t.is(run.machine.cReferences, 'none ran');
  for (const row of run.rows.filter((r) => r.skipped === undefined)) {
    t.is(row.figures.c_median_us, undefined, row.setup);
    t.regex(row.note ?? '', /no C compiler \(shmring-no-such-compiler\)/, row.setup);
    t.true(Object.values(row.figures).some((v) => v > 0), row.setup);
  }
});

test('--compare prints each figure beside the earlier run', async (t) => {
  t.timeout(300_000);
  const earlier = join(ROOT, 'test', 'fixtures', 'bench-run.json');
  const result = await bench(['--tiny', '--only', 'relay', '--out', outDir(t), '--compare', earlier]);
  t.is(result.status, 0, result.stderr);
  t.regex(result.stdout, /relay/);
  for (const competitor of ['pipe', 'shmring SPSC', 'shmring Channel']) t.true(result.stdout.split('\n').some((l) => l.includes(competitor) && l.includes('×')), competitor);
});
