// Writes the benchmark figures of the README and docs/BENCHMARKS.md (and the picture,
// docs/bench.svg) from one committed run, docs/bench-run.json, so that no figure is copied by
// hand and all of them come from the same run. Each figure is a ratio of two rows of that run.
//   node scripts/readme-figures.mjs [RUN.json]   copies RUN.json to docs/bench-run.json first, then writes
//   node scripts/readme-figures.mjs --check      exits 1 if a file is not what it would write
//   ... --root DIR                               the README and docs/ of DIR instead
// Needs `npm run build` first (it uses the benchmark's own report code in dist/bench).
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib/paths.mjs';

// --root DIR: the documents of another tree (the test's copy); the report code is always this one's.
const rootAt = process.argv.indexOf('--root');
const docsRoot = rootAt > 0 ? process.argv[rootAt + 1] : root;
const RUN = join(docsRoot, 'docs', 'bench-run.json');
const README = join(docsRoot, 'README.md');
const BENCHMARKS = join(docsRoot, 'docs', 'BENCHMARKS.md');
const SVG = join(docsRoot, 'docs', 'bench.svg');

const lib = (file) => import(new URL(`../dist/bench/lib/${file}`, import.meta.url).href);
const { headlines } = await lib('headline.js');
const { formatFactor, markdown, describeMachine } = await lib('report.js');
const { factor, mainFigure } = await lib('families.js');

/**
 * The rows of the README's table: what a reader uses today, what to use instead, and the two
 * rows of the run whose ratio is the speed-up. A row is found by scenario, competitor and a
 * test of its setup; a pair that the run lacks is left out of the table.
 */
const TABLE = [
  { today: '`child_process.fork`, small objects', use: '`fork` from shmring', mine: ['transport', 'shmring fork', /^fork, json, one-way, small/], theirs: ['transport', 'child_process IPC', /^fork, json, one-way, small/] },
  { today: '`child_process` IPC, small objects', use: '`Channel`', mine: ['transport', 'shmring Channel', /^default codec.*one-way, small/], theirs: ['transport', 'child_process IPC', /^fork, json, one-way, small/] },
  { today: 'a worker MessagePort, small objects (between processes instead)', use: '`Channel`', mine: ['transport', 'shmring Channel', /^default codec.*one-way, small/], theirs: ['transport', 'worker_threads', /one-way, small/] },
  { today: '`child_process` IPC, `{ id, ts, payload }` records', use: '`Channel` with a `struct` codec', mine: ['transport', 'shmring Channel', /^schema codec \(struct.*one-way, small/], theirs: ['transport', 'child_process IPC', /^fork, json, one-way, small/] },
  { today: '`child_process` IPC (advanced), 1 MiB Buffers', use: '`Channel`, codec `raw`', mine: ['transport', 'shmring Channel', /^'raw' \(bytes\), one-way, 1 MiB/], theirs: ['transport', 'child_process IPC', /^fork, advanced, one-way, 1 MiB/] },
  { today: 'tinypool (`child_process` runtime), tiny tasks', use: '`ProcessPool`', mine: ['pool', 'shmring ProcessPool', /^pool\.run\(\), 2 worker processes, tiny/], theirs: ['pool', 'tinypool', /tiny/] },
  { today: 'workerpool (process mode), tiny tasks', use: '`ProcessPool`', mine: ['pool', 'shmring ProcessPool', /^pool\.run\(\), 2 worker processes, tiny/], theirs: ['pool', 'workerpool', /tiny/] },
  { today: 'tinypool (`child_process` runtime), 1 MiB Buffers', use: '`ProcessPool`', mine: ['pool', 'shmring ProcessPool', /^pool\.run\(\), 2 worker processes, 1 MiB/], theirs: ['pool', 'tinypool', /1 MiB/] },
  { today: 'piscina (threads), tiny tasks', use: '`ProcessPool` (processes)', mine: ['pool', 'shmring ProcessPool', /^pool\.run\(\), 2 worker processes, tiny/], theirs: ['pool', 'piscina', /tiny/] },
  { today: 'a Unix socket, 64 B messages', use: '`SpscRing`', mine: ['throughput', 'shmring SPSC', /^copy per message, 64 B/], theirs: ['throughput', 'Unix socket', /64 B$/] },
  { today: 'a pipe, 1 MiB messages', use: '`SpscRing`', mine: ['throughput', 'shmring SPSC', /^copy per message, 1 MiB/], theirs: ['throughput', 'pipe', /1 MiB$/] },
  { today: 'zeromq.js PUSH/PULL over TCP, 64 B', use: '`Channel` at a `tcp://` address', mine: ['zmq', 'shmring Channel over ZeroMQ', /'raw', one-way, 64 B/], theirs: ['zmq', 'zeromq.js PUSH/PULL', /one-way, 64 B/] },
  { today: 'a pipe, relaying a file through Node streams', use: '`Channel` streams', mine: ['relay', 'shmring Channel', /pipeline/], theirs: ['relay', 'pipe', /four copies/] },
  { today: '`child_process` IPC, an idle round trip', use: '`Channel`', mine: ['transport', 'shmring Channel', /round trip/], theirs: ['transport', 'child_process IPC', /json.*round trip/] },
];

function find(rows, [scenario, competitor, setup]) {
  return rows.find((r) => r.scenario === scenario && r.competitor === competitor && setup.test(r.setup) && r.skipped === undefined);
}

/** `mine` over `theirs` by their figure, as a speed-up (higher is better for both kinds of figure). */
function speedUp(mine, theirs) {
  const figure = mainFigure(mine);
  if (figure === undefined || mainFigure(theirs)?.name !== figure.name) return undefined;
  const f = factor(mine, theirs, figure);
  return Number.isFinite(f) ? f : undefined;
}

function tableBlock(run) {
  const lines = ['| you use today | use instead | speed-up (this run) |', '|---|---|---|'];
  for (const entry of TABLE) {
    const mine = find(run.rows, entry.mine);
    const theirs = find(run.rows, entry.theirs);
    const f = mine && theirs && speedUp(mine, theirs);
    if (f === undefined) continue;
    lines.push(`| ${entry.today} | ${entry.use} | ${f >= 1 ? `**${formatFactor(f)}** faster` : `${formatFactor(1 / f)} slower`} |`);
  }
  lines.push('', `Run: ${describeMachine(run.machine)}; the whole table is in [docs/BENCHMARKS.md](docs/BENCHMARKS.md).`);
  return lines.join('\n');
}

function headlinesBlock(run) {
  return ['The headlines of the same run, as `npx shmring bench` prints them:', '', '```', ...headlines(run.rows), '```'].join('\n');
}

/** `text` with the block between `<!-- NAME -->` and `<!-- /NAME -->` replaced by `body`. */
function withBlock(text, name, body) {
  const open = `<!-- ${name} -->`;
  const close = `<!-- /${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`no ${open} … ${close} block`);
  return `${text.slice(0, start + open.length)}\n${body}\n${text.slice(end)}`;
}

const check = process.argv.includes('--check');
const given = process.argv.slice(2).find((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--root');
if (given !== undefined && !check) copyFileSync(given, RUN);
const run = JSON.parse(readFileSync(RUN, 'utf8'));

const outputs = new Map([
  [README, withBlock(withBlock(readFileSync(README, 'utf8'), 'figures:table', tableBlock(run)), 'figures:headlines', headlinesBlock(run))],
  [BENCHMARKS, withBlock(readFileSync(BENCHMARKS, 'utf8'), 'run:table', markdown(run.rows, run.machine))],
]);
if (!check) {
  const { chartSvg } = await lib('chart.js');
  outputs.set(SVG, await chartSvg(run.rows, run.machine));
}

let stale = 0;
for (const [file, text] of outputs) {
  if (check) {
    if (readFileSync(file, 'utf8') !== text) {
      console.error(`${file.slice(docsRoot.length + 1)} does not show docs/bench-run.json: run \`npm run build && node scripts/readme-figures.mjs\``);
      stale++;
    }
  } else {
    writeFileSync(file, text);
  }
}
process.exit(stale === 0 ? 0 : 1);
