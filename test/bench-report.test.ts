// The views of a benchmark run, fed hand-made rows and a recorded tiny run (every scenario,
// test/fixtures/bench-run.json): families, headlines and their factors, the chart's spec and
// SVG, the HTML page and its escaping, and the comparison of two runs with readRun's refusals.
// No benchmark runs here: the figures are given, and only what is made of them is checked.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vega from 'vega';
import { chartSpec, chartSvg } from '../bench/lib/chart.js';
import { compareRuns, readRun } from '../bench/lib/compare.js';
import { bestAlternative, familyOf, groups, mainFigure } from '../bench/lib/families.js';
import { headlines } from '../bench/lib/headline.js';
import { escapeHtml, htmlReport } from '../bench/lib/html.js';
import type { MachineInfo } from '../bench/lib/machine.js';
import { chartPanels, type Bar } from '../bench/lib/panels.js';
import { formatFactor, markdown } from '../bench/lib/report.js';
import type { Row, RunResult } from '../bench/lib/scenario.js';

const FIXTURE = new URL('./fixtures/bench-run.json', import.meta.url).pathname;
const MACHINE: MachineInfo = { cpu: 'Test CPU', cores: 2, memoryGiB: 4, kernel: '6.1.0', node: 'v20.0.0', date: '2026-01-01T00:00:00.000Z' };

function row(scenario: string, competitor: string, setup: string, figures: Record<string, number>, more: Partial<Row> = {}): Row {
  return { scenario, competitor, setup, figures, ...more };
}

/** A run small enough to work every factor out by hand. */
const HAND: Row[] = [
  row('throughput', 'memcpy', 'one core, the physical limit, 64 B', { mb_per_s: 10_000 }),
  row('throughput', 'C ring', 'per message, fenced publish, 64 B', { mb_per_s: 1500 }),
  row('throughput', 'shmring SPSC', 'copy per message, 64 B', { mb_per_s: 1000 }),
  row('throughput', 'shmring SPSC', 'zero-copy claim + drain, 64 B', { mb_per_s: 500 }),
  row('throughput', 'Unix socket', 'length-prefixed frames, 64 B', { mb_per_s: 40 }),
  row('throughput', 'child_process IPC', 'json (string payload), 64 B', { mb_per_s: 20 }),
  row('throughput', 'child_process IPC', 'advanced (Uint8Array), 64 B', { mb_per_s: 10 }),
  row('throughput', 'System V msgq', 'msgsnd / msgrcv (16 KiB queue, 8 KiB limit), 64 B', { mb_per_s: 50 }),
  row('throughput', 'POSIX mq', 'mq_send / mq_receive (10 messages, 8 KiB limit), 64 B', {}, { skipped: 'no mqueue here' }),
  row('throughput', 'shmring SPSC', 'copy per message, 1 MiB', { mb_per_s: 8000 }),
  row('throughput', 'shmring SPSC', 'zero-copy claim + drain, 1 MiB', { mb_per_s: 80_000 }),
  row('throughput', 'Unix socket', 'length-prefixed frames, 1 MiB', { mb_per_s: 500 }),
  row('throughput', 'piscina', 'pool.run(Uint8Array), one worker thread, 1 MiB', { mb_per_s: 4000 }),
  row('latency', 'shmring SPSC', '64 B, receiver spins', { median_us: 0.5, p99_us: 0.8, c_median_us: 0.2, c_p99_us: 0.3 }),
  row('latency', 'shmring SPSC', '64 B, receiver parks (futex)', { median_us: 50, p99_us: 90, c_median_us: 48, c_p99_us: 80 }),
  row('latency', 'pipe', '64 B, a pair of pipes, Node streams (event loop)', { median_us: 40, p99_us: 120 }),
  row('transport', 'shmring Channel', 'default codec (msgpackr structured clone), one-way, small', { msgs_per_s: 880_000 }),
  row('transport', 'child_process IPC', 'fork, json, one-way, small', { msgs_per_s: 400_000 }),
  row('transport', 'child_process IPC', 'fork, advanced, one-way, small', { msgs_per_s: 100_000 }),
  row('transport', 'worker_threads', 'MessagePort (two threads), one-way, small', { msgs_per_s: 440_000 }),
  row('transport', 'shmring fork', 'fork, json, one-way, small', { msgs_per_s: 800_000 }),
  row('transport', 'shmring fork', 'fork, advanced, one-way, small', { msgs_per_s: 150_000 }),
  row('transport', 'JS ceiling', 'SpscRing + msgpackr records, one-way, small', { msgs_per_s: 1_100_000 }),
  row('transport', 'JS ceiling', 'SpscRing + JSON, one-way, small', { msgs_per_s: 1_600_000 }),
  row('transport', 'shmring Channel', 'default codec (msgpackr structured clone), one-way, array', { msgs_per_s: 450 }),
  row('transport', 'shmring fork', 'fork, json, one-way, array', { msgs_per_s: 300 }),
  row('transport', 'JS ceiling', 'SpscRing + msgpackr records, one-way, array', { msgs_per_s: 500 }),
  row('transport', 'JS ceiling', 'SpscRing + JSON, one-way, array', { msgs_per_s: 400 }),
  row('transport', 'shmring Channel', 'default codec (msgpackr structured clone), idle round trip, small object', { median_us: 120, p99_us: 900 }),
  row('transport', 'child_process IPC', 'fork, json, idle round trip, small object', { median_us: 80, p99_us: 200 }),
  row('transport', 'shmring Channel', "'raw' (bytes), one-way, 1 MiB", { msgs_per_s: 2000 }),
  row('transport', 'shmring Channel', "'raw' (bytes), transferred, one-way, 1 MiB", { msgs_per_s: 2400 }),
  row('transport', 'shmring Channel', "'raw', claim (zero-copy send), one-way, 1 MiB", { msgs_per_s: 3000 }),
  row('transport', 'child_process IPC', 'fork, advanced, one-way, 1 MiB', { msgs_per_s: 500 }),
  row('transport', 'SpscRing claim', 'zero-copy claim + drain, bare ring, one-way, 1 MiB', { msgs_per_s: 6000 }, { family: 'reference' }),
  row('transport', 'shmring Channel', 'schema codec (struct { id: u32, ts: f64 }), one-way, small', { msgs_per_s: 2_640_000 }),
  row('pool', 'shmring ProcessPool', 'pool.run(), 2 worker processes, tiny tasks { a, b } → a + b, 1,000 in flight', { tasks_per_s: 15_000 }),
  row('pool', 'tinypool', "runtime 'child_process', 2 processes, tiny tasks { a, b } → a + b, 1,000 in flight", { tasks_per_s: 6000 }),
  row('pool', 'workerpool', "workerType 'process', 2 processes, tiny tasks { a, b } → a + b, 1,000 in flight", { tasks_per_s: 7500 }),
  row('pool', 'piscina', 'pool.run(), 2 worker threads, tiny tasks { a, b } → a + b, 1,000 in flight', { tasks_per_s: 25_000 }),
  row('pool', 'shmring ProcessPool', 'pool.run(), 2 worker processes, 1 MiB Buffer argument and result', { mb_per_s: 300, tasks_per_s: 143 }),
  row('pool', 'tinypool', "runtime 'child_process', 2 processes, 1 MiB Buffer argument and result", { mb_per_s: 150, tasks_per_s: 72 }),
  row('pool', 'workerpool', "workerType 'process', 2 processes, 1 MiB Buffer argument and result", { mb_per_s: 200, tasks_per_s: 95 }),
  row('pool', 'piscina', 'pool.run(), 2 worker threads, 1 MiB Buffer argument and result', { mb_per_s: 2500, tasks_per_s: 1192 }),
  row('zmq', 'shmring Channel over ZeroMQ', "tcp loopback, codec 'raw', one-way, 64 B", { msgs_per_s: 80_000, mb_per_s: 5.12 }),
  row('zmq', 'zeromq.js PUSH/PULL', 'tcp loopback, one-way, 64 B', { msgs_per_s: 100_000, mb_per_s: 6.4 }),
  row('zmq', 'shmring Channel over ZeroMQ', "tcp loopback, codec 'raw', one-way, 64 KiB", { msgs_per_s: 15_259, mb_per_s: 1000 }),
  row('zmq', 'zeromq.js PUSH/PULL', 'tcp loopback, one-way, 64 KiB', { msgs_per_s: 38_147, mb_per_s: 2500 }),
  row('zmq', 'shmring Channel', 'shared memory, default codec, one-way, small', { msgs_per_s: 700_000 }),
  row('zmq', 'shmring Channel over ZeroMQ', 'tcp loopback, default codec, one-way, small', { msgs_per_s: 100_000 }),
];

const HOSTILE = `<script>alert("x")</script> & 'co'`;

function fixture(): RunResult {
  return readRun(FIXTURE);
}

test("familyOf: shmring by name, C programs, memcpy, the JS ceiling and the ring's claim are references, the rest Node alternatives; an explicit family wins", (t) => {
  t.is(familyOf({ competitor: 'shmring SPSC' }), 'shmring');
  t.is(familyOf({ competitor: 'shmring Channel' }), 'shmring');
  for (const c of ['C ring', 'memcpy', 'C ping-pong', 'JS ceiling', 'SpscRing claim']) t.is(familyOf({ competitor: c }), 'reference', c);
  for (const c of ['Unix socket', 'pipe', 'child_process IPC', 'worker_threads', 'piscina', 'POSIX mq', 'Cap\'n Proto']) t.is(familyOf({ competitor: c }), 'alternative', c);
  t.is(familyOf({ competitor: 'shmring futex', family: 'reference' }), 'reference');
  t.is(familyOf({ competitor: 'pipe', family: 'shmring' }), 'shmring');
});

test('the best Node alternative of comparable rows: highest rate or shortest time, skipped rows and other families passed over', (t) => {
  const byGroup = new Map(groups(HAND).map((g) => [`${g.scenario} ${g.payload}`, g]));
  t.is(bestAlternative(byGroup.get('throughput 64 B')!.rows)?.competitor, 'System V msgq', 'memcpy and the C ring are faster, but references');
  t.is(bestAlternative(byGroup.get('throughput 1 MiB')!.rows)?.competitor, 'piscina');
  t.is(bestAlternative(byGroup.get('latency 64 B')!.rows)?.competitor, 'pipe');
  t.is(bestAlternative(byGroup.get('transport small object')!.rows)?.competitor, 'child_process IPC');
  t.is(bestAlternative(byGroup.get('transport small')!.rows)?.competitor, 'worker_threads', 'the JS ceiling is faster, but a reference');
  t.is(bestAlternative(byGroup.get('transport array')!.rows), undefined, 'shmring and the JS ceiling only');
  t.is(bestAlternative(byGroup.get('transport 1 MiB')!.rows)?.competitor, 'child_process IPC', "the ring's claim is faster, but a reference");
  t.false(byGroup.get('throughput 64 B')!.rows.some((r) => r.skipped !== undefined), 'a skipped row is in no group');
  t.is(bestAlternative(HAND.filter((r) => r.competitor.startsWith('shmring'))), undefined);
  t.is(mainFigure({ figures: { median_us: 1, p99_us: 2 } })?.better, 'lower');
  t.is(mainFigure({ figures: { frames_per_s: 3 } })?.better, 'higher');
});

test('factors read as people say them', (t) => {
  t.deepEqual([107.4, 29.48, 9.96, 4.66, 1, 0.4, 0.0114, NaN].map(formatFactor), ['107×', '29×', '10×', '4.7×', '1.0×', '0.4×', '0.011×', '–']);
});

test('headlines give the factors of a hand-made run', (t) => {
  t.deepEqual(headlines(HAND), [
    '64 B messages: shmring SPSC 25× a Unix socket, 50× child_process IPC (best Node alternative: System V msgq, 20×)',
    '1 MiB messages: shmring SPSC 16× a Unix socket (best Node alternative: piscina, 2.0×; zero-copy claim: 20×)',
    '64 B round trip: shmring SPSC 0.50 µs spinning, 80× faster than a pipe (40 µs); parked on a futex 50 µs, 1.3× slower',
    'Small objects: shmring Channel 2.2× child_process IPC and 2.0× a worker_threads MessagePort one way; idle round trip 120 µs, 1.5× slower than child_process IPC (80 µs)',
    'Small objects one way: shmring fork 2.0× child_process.fork with json, 1.5× with advanced',
    "Typed records ({ id, ts, payload }) one way: shmring Channel with a schema 6.6× child_process IPC json, 3.0× the Channel's default codec",
    'Process pools, 2 workers each: tiny tasks: shmring ProcessPool 2.5× tinypool (child_process), 2.0× workerpool (processes), 0.6× piscina (threads); 1 MiB Buffers: shmring ProcessPool 2.0× tinypool (child_process), 1.5× workerpool (processes), 0.12× piscina (threads)',
    'Over ZeroMQ (tcp loopback), one way: shmring Channel 0.8× at 64 B, 0.4× at 64 KiB the raw zeromq.js PUSH/PULL; on one host the shared-memory Channel is 7.0× the ZeroMQ one',
    'Against the JS ceiling (the same encoding over a bare SpscRing), one way: shmring Channel 0.8× small objects, 0.9× arrays; shmring fork (json) 0.5× small objects, 0.75× arrays',
  ]);
});

test('headlines leave out what is missing or skipped, and never print NaN', (t) => {
  t.deepEqual(headlines([]), []);
  t.deepEqual(headlines(HAND.filter((r) => r.scenario === 'latency')), [headlines(HAND)[2]!]);
  const spscSkipped = HAND.map((r) => (r.competitor === 'shmring SPSC' && r.scenario === 'throughput' ? { ...r, figures: {}, skipped: 'crashed' } : r));
  t.false(headlines(spscSkipped).some((l) => l.includes('messages:')), 'no throughput line without shmring');
  const noSocket = HAND.filter((r) => r.competitor !== 'Unix socket');
  t.is(headlines(noSocket)[0], '64 B messages: shmring SPSC 50× child_process IPC (best Node alternative: System V msgq, 20×)');
  const zero = HAND.map((r) => (r.competitor === 'pipe' ? { ...r, figures: { median_us: 0, p99_us: NaN } } : r));
  t.false(headlines(zero).some((l) => l.includes('round trip: ')), 'a zero figure gives no factor');
  const noCeiling = HAND.filter((r) => r.competitor !== 'JS ceiling' || !r.setup.endsWith('small'));
  t.is(headlines(noCeiling).at(-1), 'Against the JS ceiling (the same encoding over a bare SpscRing), one way: shmring Channel 0.9× arrays; shmring fork (json) 0.75× arrays');
  const run = fixture();
  const all = headlines(run.rows);
  t.is(all.length, 7, all.join('\n'));
  for (const scenario of new Set(run.rows.map((r) => r.scenario))) {
    for (const line of headlines(run.rows.filter((r) => r.scenario === scenario))) t.false(/NaN|undefined|Infinity|–/.test(line), line);
  }
  t.true(all.every((l) => !/NaN|undefined|Infinity|–/.test(l)));
});

type Spec = {
  title: { text: string };
  concat: Array<{
    title: { text: string; subtitle: string };
    data: { values: Bar[] };
    layer: Array<{ encoding?: { color?: { scale: { domain: string[]; range: string[] } } } }>;
  }>;
};

function rgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

test('the spec colours families (blues, greys, oranges and reds) and labels each bar with its factor', (t) => {
  const rows = [...HAND, row('pingpong', 'shmring futex', 'spin', { median_us: 0.3, c_median_us: 0.1 }, { family: 'reference' })];
  const spec = chartSpec(rows, MACHINE) as unknown as Spec;
  t.true(spec.title.text.includes('Test CPU, 2 cores') && spec.title.text.includes('Linux 6.1.0'), spec.title.text);
  const scale = spec.concat[0]!.layer[0]!.encoding!.color!.scale;
  const colour = (key: string) => rgb(scale.range[scale.domain.indexOf(key)]!);
  for (const key of ['shmring SPSC', 'shmring Channel', 'shmring fork']) {
    const [r, g, b] = colour(key);
    t.true(b > r && b > g, `${key} is blue`);
  }
  for (const key of ['C ring', 'memcpy', 'C ping-pong', 'shmring futex (reference)', 'JS ceiling', 'SpscRing claim']) {
    const [r, g, b] = colour(key);
    t.true(r === g && g === b, `${key} is grey`);
  }
  for (const key of ['Unix socket', 'System V msgq', 'child_process IPC', 'piscina', 'pipe', 'worker_threads']) {
    const [r, g, b] = colour(key);
    t.true(r > g && r > b, `${key} is orange or red`);
  }
  t.false(scale.domain.includes('POSIX mq'), 'a skipped row is not drawn');
  for (const c of spec.concat) t.deepEqual(c.layer[0]!.encoding!.color!.scale, scale, 'one colour scale for all panels');

  const panel = (title: string) => spec.concat.find((p) => p.title.text.startsWith(title))!;
  const small = panel('One-way throughput, 64 B');
  t.regex(small.title.subtitle, /best Node alternative \(outlined\): System V msgq/);
  const text = (p: Spec['concat'][number], label: string) => p.data.values.find((b) => b.label === label)?.text;
  t.is(text(small, 'shmring SPSC · copy per message'), '20×');
  t.is(text(small, 'System V msgq · msgsnd / msgrcv (16 KiB queue, 8 KiB limit)'), '1×');
  t.is(text(small, 'child_process IPC · advanced (Uint8Array)'), '0.2×', 'slower is shown as it is');
  t.is(text(small, 'memcpy · one core, the physical limit'), '200×');
  t.true(small.data.values.find((b) => b.label.startsWith('System V'))!.best);
  const trip = panel('Round trip, back to back');
  t.is(text(trip, 'shmring SPSC · 64 B, receiver spins'), '80×', 'round trips: times faster');
  t.is(text(trip, 'C ring · 64 B, receiver spins'), '200×', 'the C figures folded into a row are drawn as references');
  t.is(text(trip, 'shmring SPSC · 64 B, receiver parks (futex)'), '0.8×');
  t.is(trip.data.values.find((b) => b.label.startsWith('shmring SPSC · 64 B, receiver spins'))!.p99, 0.8);
  t.is(text(panel('Round trip, idle'), 'shmring Channel · default codec (msgpackr structured clone)'), '0.67×');
  t.is(text(panel('Messages one way, small'), 'shmring Channel · default codec (msgpackr structured clone)'), '2.0×');
  t.is(text(panel('Messages one way, small'), 'JS ceiling · SpscRing + msgpackr records'), '2.5×', 'the JS ceiling is drawn as a reference, not the bar');
  const big = panel('Messages one way, 1 MiB Buffers');
  t.regex(big.title.subtitle, /best Node alternative \(outlined\): child_process IPC/);
  t.is(text(big, "shmring Channel · 'raw' (bytes), transferred"), '4.8×');
  t.is(text(big, "shmring Channel · 'raw', claim (zero-copy send)"), '6.0×');
  t.is(text(big, 'SpscRing claim · zero-copy claim + drain, bare ring'), '12×', "the ring's claim is drawn as a reference, not the bar");
});

test('chart panels: a repeated label is numbered, and the row of a failed scenario leaves no empty size in a title', (t) => {
  const panels = chartPanels([
    row('relay', '–', '–', {}, { skipped: 'failed to start' }),
    row('relay', 'pipe', 'four copies, 8 MiB', { gb_per_s: 0.3 }),
    row('relay', 'pipe', 'four copies, 8 MiB', { gb_per_s: 0.279 }),
  ]);
  t.deepEqual(
    panels.map((p) => p.title),
    ['File to file through another process, 8 MiB'],
  );
  t.deepEqual(
    panels[0]!.bars.map((b) => [b.label, b.text]),
    [
      ['pipe · four copies', '1×'],
      ['pipe · four copies (2)', '0.93×'],
    ],
  );
});

// serial: ava runs serial tests before the others, so no other chart is being drawn meanwhile
test.serial('chartSvg draws the panels with their factor labels, escapes row text and leaves skipped rows out', async (t) => {
  const metrics = (vega as unknown as { textMetrics: { width: unknown } }).textMetrics;
  const vegaWidth = metrics.width;
  const [svg] = await Promise.all([chartSvg([...HAND, row('throughput', HOSTILE, 'frames, 64 B', { mb_per_s: 1 })], MACHINE), chartSvg(HAND, MACHINE)]);
  t.is(metrics.width, vegaWidth, "Vega's text measure is back once both charts are drawn");
  t.true(svg.startsWith('<svg'));
  t.true(svg.includes('>System V msgq · msgsnd / msgrcv (16 KiB queue, 8 KiB limit)<'), 'a long label is whole');
  for (const title of ['One-way throughput, 64 B messages', 'One-way throughput, 1 MiB messages', 'Round trip, back to back', 'Round trip, idle', 'Messages one way, small objects']) {
    t.true(svg.includes(title), title);
  }
  for (const label of ['>20×<', '>200×<', '>80×<', '>0.2×<', '>1×<']) t.true(svg.includes(label), label);
  t.false(svg.includes('<script'), 'row text is escaped');
  t.true(svg.includes('&lt;script&gt;'));
  t.false(svg.includes('POSIX mq'), 'skipped rows are not drawn');
  t.false(/NaN|undefined/.test(svg));
});

test('chartSvg draws every panel of a complete run, and of each scenario alone', async (t) => {
  const run = fixture();
  const svg = await chartSvg(run.rows, run.machine);
  for (const title of ['One-way throughput, 64 B messages', 'One-way throughput, 1 KiB messages', 'One-way throughput, 64 KiB messages', 'One-way throughput, 1 MiB messages', 'Round trip, back to back', 'Round trip, idle', 'Messages one way, small objects', 'Messages one way, 1 MiB Buffers', 'File to file through another process']) {
    t.true(svg.includes(title), title);
  }
  t.false(/NaN|undefined|Infinity/.test(svg));
  for (const scenario of new Set(run.rows.map((r) => r.scenario))) {
    const one = (chartSpec(run.rows.filter((r) => r.scenario === scenario), run.machine) as unknown as Spec).concat;
    t.true(one.length > 0 && one.every((p) => p.data.values.length > 0), scenario);
  }
  t.is((chartSpec([], run.machine) as unknown as Spec).concat.length, 0, 'no rows, no panel');
});

test('the HTML page holds the headlines, the chart, every row escaped, and the command; nothing external', async (t) => {
  const rows = [...HAND, row('throughput', HOSTILE, 'frames "quoted", 64 B', { mb_per_s: 1 }), row('relay', 'pipe', 'x', {}, { skipped: `failed: <b>${HOSTILE}</b>` })];
  const result: RunResult = { machine: { ...MACHINE, cpu: 'CPU <i>' }, mode: 'full', rows };
  const svg = await chartSvg(rows, result.machine);
  const html = htmlReport(result, svg);
  t.true(html.startsWith('<!DOCTYPE html>'));
  t.true(html.includes(svg), 'the chart is inline');
  t.false(/<script|<link|<iframe|<img|src=|@import|url\(/i.test(html), 'nothing is fetched and nothing runs');
  t.true(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;'));
  t.true(html.includes('CPU &lt;i&gt;'));
  t.is(html.match(/<tr class="/g)?.length, rows.length, 'one table row per row');
  for (const r of rows) t.true(html.includes(escapeHtml(r.competitor)) && html.includes(escapeHtml(r.setup)), `${r.competitor} ${r.setup}`);
  t.true(html.includes('skipped: no mqueue here'));
  t.true(html.includes(`skipped: failed: &lt;b&gt;`));
  for (const line of headlines(rows)) t.true(html.includes(escapeHtml(line)), line);
  t.true(html.includes('<code>npx shmring bench --full</code>'));
  t.true(htmlReport({ ...result, mode: 'quick', rows: HAND.filter((r) => r.scenario === 'latency') }, svg).includes('<code>npx shmring bench --quick --only latency</code>'));
  t.true(htmlReport(result, svg, 'npm run bench -- --only transport').includes('--only transport'));
  t.throws(() => htmlReport(result, '<p>not a picture</p>'), { instanceOf: TypeError, message: /svg=/ });
  const run = fixture();
  const page = htmlReport(run, await chartSvg(run.rows, run.machine));
  t.is(page.match(/<tr class="/g)?.length, run.rows.length, 'every row of a complete run');
});

test('the Markdown table still lists every row, with | in row text escaped', (t) => {
  const md = markdown([...HAND, row('relay', 'a | b', 'c', { gb_per_s: 1 })], MACHINE);
  t.true(md.startsWith('Machine: Test CPU, 2 cores'));
  t.is(md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| competitor')).length, HAND.length + 1);
  t.true(md.includes('| a \\| b | c |'));
  t.true(md.includes('skipped: no mqueue here'));
});

test('compareRuns pairs rows, gives the change and the ratios side by side, lists unmatched rows and warns of another machine', (t) => {
  const before: RunResult = { machine: MACHINE, mode: 'quick', rows: HAND.map((r) => (r.setup === 'copy per message, 64 B' ? { ...r, ratios: { '÷ C ring': 0.7 } } : r)) };
  const after: RunResult = {
    machine: { ...MACHINE, kernel: '6.2.0' },
    mode: 'quick',
    rows: [
      ...HAND.filter((r) => r.setup !== 'length-prefixed frames, 1 MiB').map((r) => (r.setup === 'copy per message, 64 B' ? { ...r, figures: { mb_per_s: 1200 }, ratios: { '÷ C ring': 0.8 } } : r)),
      row('throughput', 'TCP loopback', 'length-prefixed frames, 64 B', { mb_per_s: 30 }),
    ],
  };
  const md = compareRuns(before, after);
  const line = md.split('\n').find((l) => l.startsWith('| shmring SPSC | copy per message, 64 B |'));
  t.is(line, '| shmring SPSC | copy per message, 64 B | mb_per_s (higher is better) | 1000 | 1200 | 1.20× | ÷ C ring: 0.70 → 0.80 |');
  t.true(md.includes('| pipe | 64 B, a pair of pipes, Node streams (event loop) | median_us (lower is better) | 40.00 | 40.00 | 1.00× |'));
  t.true(md.includes('| POSIX mq | mq_send / mq_receive (10 messages, 8 KiB limit), 64 B | – | skipped | skipped | – |'), 'skipped in both');
  const only = (title: string) => md.slice(md.indexOf(title)).split('\n### ')[0]!.split('\n').filter((l) => l.startsWith('| throughput'));
  t.deepEqual(only('### Only in the previous run'), ['| throughput | Unix socket | length-prefixed frames, 1 MiB |']);
  t.deepEqual(only('### Only in this run'), ['| throughput | TCP loopback | length-prefixed frames, 64 B |']);
  t.regex(md, /\*\*The machines differ\*\* \(kernel 6\.1\.0 → 6\.2\.0\)/);
  t.false(compareRuns(before, before).includes('machines differ'));
  t.false(compareRuns(before, before).includes('Only in'));
});

test('readRun reads a run and refuses a missing file, bad JSON and a JSON that is not a run, naming the field', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shmring-bench-report-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const good = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { machine: MachineInfo; mode: string; rows: Array<Record<string, unknown>> };
  t.is(readRun(FIXTURE).rows.length, good.rows.length);

  const missing = join(dir, 'nope.json');
  t.throws(() => readRun(missing), { message: `cannot read ${missing}: no such file` });
  t.throws(() => readRun(write('bad.json', '{ "machine": ')), { message: /bad\.json is not valid JSON: / });
  const notRun = (name: string, value: unknown) => readRun(write(name, JSON.stringify(value)));
  t.throws(() => notRun('array.json', []), { message: /array\.json is not a benchmark run: the whole file is an array, expected an object/ });
  t.throws(() => notRun('other.json', { hello: 1 }), { message: /other\.json is not a benchmark run: machine is missing, expected an object/ });
  t.throws(() => notRun('cores.json', { ...good, machine: { ...good.machine, cores: '2' } }), { message: /machine\.cores is "2", expected a number/ });
  t.throws(() => notRun('mode.json', { ...good, mode: 'fast' }), { message: /mode is "fast", expected tiny, quick, standard, full/ });
  t.throws(() => notRun('rows.json', { ...good, rows: {} }), { message: /rows is an object, expected an array of rows/ });
  const rows = (r: Record<string, unknown>) => ({ ...good, rows: [good.rows[0], r] });
  t.throws(() => notRun('competitor.json', rows({ ...good.rows[0], competitor: 7 })), { message: /rows\[1\]\.competitor is 7, expected a string/ });
  t.throws(() => notRun('figure.json', rows({ ...good.rows[0], figures: { mb_per_s: 'fast' } })), { message: /rows\[1\]\.figures\["mb_per_s"\] is "fast", expected a number/ });
  t.throws(() => notRun('family.json', rows({ ...good.rows[0], family: 'friends' })), { message: /rows\[1\]\.family is "friends", expected shmring, reference, alternative/ });
  // JSON.stringify writes NaN as null: it reads back as NaN
  const nan = readRun(write('nan.json', JSON.stringify(rows({ ...good.rows[0], figures: { mb_per_s: NaN } }))));
  t.true(Number.isNaN(nan.rows[1]!.figures.mb_per_s));
});
