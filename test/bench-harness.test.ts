// The benchmark harness in its tiny mode: every scenario runs, the JSON has every
// competitor with sane non-zero figures, and bad arguments give usage and exit code 2.
// Figures are not judged here: performance is reported by the benchmark, never asserted.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function bench(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import=tsx', join(ROOT, 'bench', 'run.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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

test('a tiny run writes JSON with every competitor and non-zero figures, and an SVG chart', async (t) => {
  t.timeout(300_000);
  const out = mkdtempSync(join(tmpdir(), 'shmring-bench-test-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const result = await bench(['--tiny', '--json', '--out', out]);
  t.is(result.status, 0, result.stderr);
  const files = readdirSync(out).sort();
  t.is(files.length, 2);
  t.regex(files[0]!, /^bench-.*\.json$/);
  t.is(files[1], files[0]!.replace(/\.json$/, '.svg'));
  const svg = readFileSync(join(out, files[1]!), 'utf8');
  t.true(svg.startsWith('<svg') && svg.includes('One-way throughput') && svg.includes('Round trip'), 'the chart is drawn');
  const json = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as {
    machine: { cpu: string; cores: number; kernel: string; node: string; date: string };
    rows: Array<{ scenario: string; competitor: string; setup: string; figures: Record<string, number>; skipped?: string }>;
  };
  t.deepEqual(JSON.parse(result.stdout), json, 'stdout carries the same JSON');
  t.true(json.machine.cores > 0 && json.machine.kernel.length > 0 && json.machine.node.startsWith('v'));
  const competitors = new Set(json.rows.map((r) => r.competitor));
  for (const name of ['memcpy', 'POSIX mq', 'System V msgq', 'C ring', 'shmring SPSC', 'shmring MPMC', 'Unix socket', 'TCP loopback', 'pipe', 'child_process IPC', 'worker_threads', 'piscina', 'shmring futex', 'shmring Channel']) t.true(competitors.has(name), name);
  t.deepEqual(new Set(json.rows.map((r) => r.scenario)), new Set(['throughput', 'relay', 'latency', 'pingpong', 'transport', 'results']));
  for (const row of json.rows) {
    t.is(row.skipped, undefined, `${row.competitor} ${row.setup} ran`);
    const figures = Object.entries(row.figures);
    t.true(figures.length > 0 && figures.every(([, v]) => Number.isFinite(v) && v > 0), `${row.competitor} ${row.setup}: ${JSON.stringify(row.figures)}`);
  }
});

test('unknown flags and scenarios give the usage and exit code 2', async (t) => {
  for (const args of [['--bogus'], ['--only', 'nope'], ['--only']]) {
    const result = await bench(args);
    t.is(result.status, 2, args.join(' '));
    t.regex(result.stderr, /usage: npm run bench/);
  }
});
