// The benchmark harness: `npx shmring bench [--quick | --full] [--only NAME] [--json]
// [--out DIR] [--compare PREVIOUS.json]` (in a clone, `npm run bench`: the same code,
// compiled into dist/bench). Runs each scenario (one file per scenario under bench/),
// prints progress to stderr, then the headline factors of this machine and a Markdown table
// with ratios against the baselines of the same run, and writes the JSON (every figure and
// the machine description), the chart (SVG) and a report (HTML) side by side.
import { availableParallelism } from 'node:os';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cReferencesUsed } from './lib/available.js';
import { chartSvg } from './lib/chart.js';
import { compareRuns, readRun } from './lib/compare.js';
import { headlines } from './lib/headline.js';
import { htmlReport } from './lib/html.js';
import { machineInfo } from './lib/machine.js';
import { markdown } from './lib/report.js';
import type { Row, RunSettings, Scenario } from './lib/scenario.js';
import { hookSignals } from './lib/spawn.js';
import { scenario as latency } from './ring/latency.js';
import { scenario as relay } from './ring/relay.js';
import { scenario as throughput } from './ring/throughput.js';
import { scenario as pingpong } from './sync/pingpong.js';
import { scenario as transport } from './transport/channel.js';
import { scenario as zmq } from './transport/zmq.js';
import { scenario as pool } from './pool/pool.js';

const SCENARIOS: Scenario[] = [throughput, relay, latency, pingpong, transport, pool, zmq];
/** Where results go unless --out says otherwise: a folder in the current directory. */
const DEFAULT_OUT = 'shmring-bench';

const USAGE = `usage: shmring bench [--quick | --full] [--only <scenario>] [--json] [--out <dir>] [--compare <previous.json>]
  --quick                 a first look: every scenario, briefly (about a minute)
  --full                  more rounds and repetitions (default: a standard run, a few minutes)
  --only <scenario>       run one scenario: ${SCENARIOS.map((s) => s.name).join(', ')}
  --json                  print the JSON result instead of the headlines and the table
  --out <dir>             where to write the JSON, SVG and HTML (default ./${DEFAULT_OUT})
  --compare <file.json>   after the run, each figure and ratio beside those of an earlier run`;

class UsageError extends Error {}

interface Args {
  mode: RunSettings['mode'];
  only?: string;
  json: boolean;
  out: string;
  compare?: string;
  help: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { mode: 'standard', json: false, out: DEFAULT_OUT, help: false };
  const value = (i: number, what: string): string => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${argv[i - 1]} needs ${what}`);
    return v;
  };
  const modes: Record<string, RunSettings['mode']> = { '--quick': 'quick', '--full': 'full', '--tiny': 'tiny' }; // --tiny: the harness's own test
  let modeFlag: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg in modes) {
      if (modeFlag !== undefined && modeFlag !== arg) throw new UsageError(`${modeFlag} and ${arg} cannot be combined`);
      modeFlag = arg;
      args.mode = modes[arg]!;
    } else if (arg === '--json') args.json = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--only') {
      const name = value(++i, 'a scenario name');
      if (!SCENARIOS.some((s) => s.name === name)) throw new UsageError(`unknown scenario ${JSON.stringify(name)}`);
      args.only = name;
    } else if (arg === '--out') args.out = value(++i, 'a directory');
    else if (arg === '--compare') args.compare = value(++i, 'a JSON file of an earlier run');
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  return args;
}

/** Runs the benchmark with the command's arguments; resolves to the exit code. */
export async function runBench(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  // Read the earlier run first: a bad file is an error before minutes of measuring, not after.
  let previous: ReturnType<typeof readRun> | undefined;
  if (args.compare !== undefined) {
    try {
      previous = readRun(args.compare);
    } catch (err) {
      console.error(`shmring bench: ${(err as Error).message}`);
      return 2;
    }
  }
  // The output folder is made and checked before minutes of measuring, not after.
  try {
    mkdirSync(args.out, { recursive: true });
    accessSync(args.out, constants.W_OK);
  } catch (err) {
    console.error(`shmring bench: cannot write results to ${args.out}: ${(err as Error).message}`);
    return 2;
  }
  hookSignals();
  const machine = machineInfo();
  const cpus = availableParallelism();
  const settings: RunSettings = { mode: args.mode, cpus, progress: (m) => process.stderr.write(`  … ${m}\n`) };
  if (cpus < 2) process.stderr.write(`this process may run on ${cpus} CPU: spinning setups are skipped, every other figure is measured on one CPU\n`);
  const rows: Row[] = [];
  const seconds: Record<string, number> = {};
  for (const s of SCENARIOS) {
    if (args.only !== undefined && s.name !== args.only) continue;
    process.stderr.write(`${s.name}: ${s.description}\n`);
    const started = performance.now();
    try {
      rows.push(...(await s.run(settings)));
    } catch (err) {
      rows.push({ scenario: s.name, competitor: '–', setup: '–', figures: {}, skipped: (err as Error).message });
    }
    seconds[s.name] = (performance.now() - started) / 1000;
  }
  if (cpus < 2) for (const row of rows) if (row.skipped === undefined) row.note = [row.note, 'measured on one CPU'].filter(Boolean).join('; ');
  const result = { machine: { ...machine, cReferences: cReferencesUsed() || 'none ran' }, mode: args.mode, seconds, rows };
  const base = join(args.out, `bench-${machine.date.replace(/[:.]/g, '-')}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`); // first: the figures are kept whatever follows
  try {
    const svg = await chartSvg(rows, result.machine);
    writeFileSync(`${base}.svg`, svg);
    writeFileSync(`${base}.html`, htmlReport(result, svg, ['shmring bench', ...argv].join(' ')));
  } catch (err) {
    console.error(`shmring bench: the chart and the HTML report could not be written (the JSON is kept): ${(err as Error).message}`);
  }
  const comparison = previous === undefined ? undefined : compareRuns(previous, result);
  if (args.json) {
    console.log(JSON.stringify(result));
    if (comparison !== undefined) console.error(comparison);
  } else {
    console.log([...headlines(rows), ''].join('\n'));
    console.log(markdown(rows, result.machine));
    if (comparison !== undefined) console.log(comparison);
  }
  console.error(`results written to ${resolve(base)}.{json,svg,html}`);
  return 0;
}
