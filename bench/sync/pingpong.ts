// Scenario: round trip between two processes over one shared word — spin, futex,
// spin-then-futex (hybrid) and async wait — against a C program doing the same ping-pongs
// in the same run, on two CPUs and with both processes pinned to one CPU.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { DEFAULT_SPIN_US, DEFAULT_YIELD_US, Segment } from 'shmring';
import { buildC } from '../lib/c.js';
import type { Row, RunSettings, Scenario } from '../lib/scenario.js';
import { median } from '../lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));

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
      const argv = [...prefix, process.execPath, '--import=tsx', join(HERE, 'pingpong-peer.ts'), role, mode, String(rounds), String(spinUs)];
      return spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe', seg.fd!] });
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
    const rounds = settings.mode === 'tiny' ? 2_000 : settings.mode === 'quick' ? 20_000 : 100_000;
    const reps = settings.mode === 'full' ? 5 : settings.mode === 'quick' ? 3 : 1;
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
    for (const setup of setups) {
      const js: Result[] = [];
      const c: Result[] = [];
      for (let r = 0; r < reps; r++) {
        settings.progress(`pingpong: ${setup.label} (${r + 1}/${reps})`);
        // Pair each JS figure with the C figure measured next to it.
        c.push(runC(setup.c, rounds, spinNs, setup.pin));
        js.push(await runJs(setup.js, rounds, spinUs, setup.pin));
      }
      const jsMedian = median(js.map((x) => x.median));
      const jsP99 = median(js.map((x) => x.p99));
      const cMedian = median(c.map((x) => x.median));
      const cP99 = median(c.map((x) => x.p99));
      const ratios: Record<string, number> = {
        'median ÷ C': median(js.map((x, i) => x.median / c[i]!.median)),
        'p99 ÷ C': median(js.map((x, i) => x.p99 / c[i]!.p99)),
      };
      if (setup.js === 'futex') syncFutexMedian = jsMedian;
      if (setup.js === 'async') ratios['median ÷ JS sync futex'] = jsMedian / syncFutexMedian;
      rows.push({
        scenario: 'pingpong',
        competitor: 'shmring futex',
        setup: setup.label,
        figures: {
          median_us: jsMedian,
          p99_us: jsP99,
          c_median_us: cMedian,
          c_p99_us: cP99,
          rounds,
          ...(setup.js === 'hybrid' ? { spin_budget_ns: spinNs, yield_budget_ns: DEFAULT_YIELD_US * 1000 } : {}),
        },
        ratios,
      });
    }
    settings.progress('pingpong: wake with no waiter');
    const w = await runJs('futex', Math.min(rounds, 2_000), spinUs, false);
    const cw = runC('futex', 1_000, spinNs, false);
    rows.push({
      scenario: 'pingpong',
      competitor: 'shmring futex',
      setup: 'wake, nobody waiting',
      figures: { raw_wake_ns: w.wakeNoWaiterNs, strategy_wake_ns: w.strategyWakeNs ?? NaN, c_wake_ns: cw.wakeNoWaiterNs },
      ratios: { 'raw ÷ C': w.wakeNoWaiterNs / cw.wakeNoWaiterNs, 'strategy ÷ C raw': (w.strategyWakeNs ?? NaN) / cw.wakeNoWaiterNs },
    });
    return rows;
  },
};
