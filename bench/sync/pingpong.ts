// Scenario: round trip between two processes over one shared word — spin, futex,
// spin-then-futex (hybrid) and async wait — against a C program doing the same ping-pongs
// in the same run, on two CPUs and with both processes pinned to one CPU.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { DEFAULT_SPIN_US, DEFAULT_YIELD_US, Segment } from 'shmring';
import { buildC } from '../lib/available.js';
import { PEER_EXEC_ARGV, peerFile, track } from '../lib/spawn.js';
import { byMode, ONE_CPU_SPIN, oneCpu, type Row, type RunSettings, type Scenario } from '../lib/scenario.js';
import { median } from '../lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The one-CPU setup pins both processes with taskset, which a minimal system may lack. */
const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

interface Result {
  median: number;
  p99: number;
  mean: number;
  wakeNoWaiterNs: number;
  strategyWakeNs?: number;
}

function collect(child: ReturnType<typeof spawn>): Promise<string> {
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`peer exited ${code}: ${err.trim()}`)))),
  );
}

/** The JS ping-pong of two processes in `mode` (the transport scenario takes its futex round trip). */
export async function runJs(mode: string, rounds: number, spinUs: number, pin: boolean): Promise<Result> {
  const seg = Segment.anonymous(4096);
  try {
    const prefix = pin ? ['taskset', '-c', '0'] : [];
    const start = (role: string) => {
      const argv = [...prefix, process.execPath, ...PEER_EXEC_ARGV, peerFile(HERE, 'pingpong-peer'), role, mode, String(rounds), String(spinUs)];
      return track(spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe', seg.fd!] }));
    };
    const pong = start('pong');
    const ping = start('ping');
    const [out] = await Promise.all([collect(ping), collect(pong)]);
    return JSON.parse(out.trim()) as Result;
  } finally {
    seg.close();
  }
}

function runC(mode: string, rounds: number, spinNs: number, pin: boolean): Result {
  const binary = buildC(join(HERE, 'pingpong.c'));
  // The yield phase matches WaitStrategy's default, as the spin budget matches the JS one.
  const argv = [...(pin ? ['taskset', '-c', '0'] : []), binary, mode, String(rounds), spinNs.toFixed(0), String(DEFAULT_YIELD_US * 1000)];
  return JSON.parse(execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' }).trim()) as Result;
}

export const scenario: Scenario = {
  name: 'pingpong',
  description: 'round trip over one shared word between two processes (sync layer)',
  async run(settings: RunSettings): Promise<Row[]> {
    const rounds = byMode(settings.mode, { tiny: 2_000, quick: 5_000, standard: 20_000, full: 100_000 });
    const reps = byMode(settings.mode, { tiny: 1, quick: 1, standard: 3, full: 5 });
    const spinUs = DEFAULT_SPIN_US;
    const spinNs = spinUs * 1000;
    const setups: Array<{ label: string; js: string; c: string; pin: boolean }> = [
      { label: 'spin', js: 'spin', c: 'spin', pin: false },
      { label: 'futex', js: 'futex', c: 'futex', pin: false },
      { label: 'spin then futex', js: 'hybrid', c: 'hybrid', pin: false },
      { label: 'async wait (vs C futex)', js: 'async', c: 'futex', pin: false },
      { label: 'spin then futex, one CPU', js: 'hybrid', c: 'hybrid', pin: true },
    ];
    const rows: Row[] = [];
    let syncFutexMedian = NaN;
    let noC: string | undefined; // why the C program could not run, if it could not
    for (const setup of setups) {
      if (setup.js === 'spin' && oneCpu(settings)) {
        rows.push({ scenario: 'pingpong', competitor: 'shmring futex', setup: setup.label, figures: {}, skipped: ONE_CPU_SPIN });
        continue;
      }
      if (setup.pin && !hasTaskset) {
        rows.push({ scenario: 'pingpong', competitor: 'shmring futex', setup: setup.label, figures: {}, skipped: 'needs taskset (util-linux) to pin both processes to one CPU' });
        continue;
      }
      const js: Result[] = [];
      const c: Result[] = [];
      for (let r = 0; r < reps; r++) {
        settings.progress(`pingpong: ${setup.label} (${r + 1}/${reps})`);
        // Pair each JS figure with the C figure measured next to it.
        try {
          if (noC === undefined) c.push(runC(setup.c, rounds, spinNs, setup.pin));
        } catch (err) {
          noC = (err as Error).message;
        }
        js.push(await runJs(setup.js, rounds, spinUs, setup.pin));
      }
      const paired = c.length === js.length;
      const jsMedian = median(js.map((x) => x.median));
      const ratios: Record<string, number> = paired
        ? { 'median ÷ C': median(js.map((x, i) => x.median / c[i]!.median)), 'p99 ÷ C': median(js.map((x, i) => x.p99 / c[i]!.p99)) }
        : {};
      if (setup.js === 'futex') syncFutexMedian = jsMedian;
      if (setup.js === 'async' && Number.isFinite(syncFutexMedian)) ratios['median ÷ JS sync futex'] = jsMedian / syncFutexMedian;
      rows.push({
        scenario: 'pingpong',
        competitor: 'shmring futex',
        setup: setup.label,
        figures: {
          median_us: jsMedian,
          p99_us: median(js.map((x) => x.p99)),
          ...(paired ? { c_median_us: median(c.map((x) => x.median)), c_p99_us: median(c.map((x) => x.p99)) } : {}),
          rounds,
          ...(setup.js === 'hybrid' ? { spin_budget_ns: spinNs, yield_budget_ns: DEFAULT_YIELD_US * 1000 } : {}),
        },
        ratios,
        ...(paired ? {} : { note: `without the C program: ${noC}` }),
      });
    }
    settings.progress('pingpong: wake with no waiter');
    const w = await runJs('futex', Math.min(rounds, 2_000), spinUs, false);
    let cWake = NaN;
    try {
      if (noC === undefined) cWake = runC('futex', 1_000, spinNs, false).wakeNoWaiterNs;
    } catch (err) {
      noC = (err as Error).message;
    }
    const strategyWake = w.strategyWakeNs ?? NaN;
    rows.push({
      scenario: 'pingpong',
      competitor: 'shmring futex',
      setup: 'wake, nobody waiting',
      figures: { raw_wake_ns: w.wakeNoWaiterNs, strategy_wake_ns: strategyWake, ...(Number.isFinite(cWake) ? { c_wake_ns: cWake } : {}) },
      ratios: Number.isFinite(cWake) ? { 'raw ÷ C': w.wakeNoWaiterNs / cWake, 'strategy ÷ C raw': strategyWake / cWake } : {},
      ...(Number.isFinite(cWake) ? {} : { note: `without the C program: ${noC}` }),
    });
    return rows;
  },
};
