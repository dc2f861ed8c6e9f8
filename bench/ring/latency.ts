// Scenario: round trip of a 64-byte message between two processes over a pair of SPSC
// rings, with the receiver spinning, parking at once, or spinning then parking (reading
// into a reused buffer; one setup spins with tryRead to show what allocating costs) — next to
// the C reference doing the same over two rings of the same layout (bench/ring/cring-rtt.c)
// and a pair of pipes with Node streams, in the same run. Each JS pair is bounded by time as
// well as by count, in its warm-up and its measurement (see rtt-peer.ts): on a busy machine
// it measures fewer round trips, and the table says how many (`rounds`).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SPIN_US, DEFAULT_YIELD_US, SpscRing } from 'shmring';
import { buildC } from '../lib/available.js';
import { benchSegment } from '../lib/segments.js';
import { byMode, ONE_CPU_SPIN, oneCpu, type Row, type RunSettings, type Scenario } from '../lib/scenario.js';
import { peer, peerFile, run } from '../lib/spawn.js';
import { median, type LatencySummary } from '../lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Most time a JS pair may warm up, and measure, in ms: together well inside the 120 s
 * watchdog of bench/lib/spawn.ts however slow a round trip gets.
 */
const WARMUP_MS = { tiny: 2_000, quick: 1_000, standard: 10_000, full: 20_000 } as const;
const MEASURE_MS = { tiny: 5_000, quick: 2_000, standard: 20_000, full: 40_000 } as const;

interface Measured extends LatencySummary {
  /** Round trips measured (fewer than asked when the time bound ended the measurement). */
  rounds: number;
}

async function rings(mode: string, rounds: number, warmup: number, runMode: RunSettings['mode']): Promise<Measured> {
  const a = benchSegment(SpscRing.requiredBytes(4096));
  const b = benchSegment(SpscRing.requiredBytes(4096));
  try {
    SpscRing.create(a.segment, { capacity: 4096 }).close();
    SpscRing.create(b.segment, { capacity: 4096 }).close();
    const file = peerFile(HERE, 'rtt-peer');
    const [ping] = await Promise.all([
      run(peer(file, ['ping', mode, rounds, warmup, WARMUP_MS[runMode], MEASURE_MS[runMode], a.address, b.address])),
      run(peer(file, ['pong', mode, a.address, b.address])),
    ]);
    return JSON.parse(ping.stdout) as Measured;
  } finally {
    a.release();
    b.release();
  }
}

async function pipes(rounds: number, runMode: RunSettings['mode']): Promise<Measured> {
  const out = await run(peer(peerFile(HERE, 'pipe-rtt-peer'), ['ping', rounds, WARMUP_MS[runMode], MEASURE_MS[runMode]]));
  return JSON.parse(out.stdout) as Measured;
}

function c(mode: string, rounds: number, runMode: RunSettings['mode']): Measured {
  const binary = buildC(join(HERE, 'cring-rtt.c'));
  // The hybrid budgets match WaitStrategy's default spin and yield phases in time; the C
  // program is bounded in time like the JS pairs (warm-up and measurement together).
  const argv = [mode, String(rounds), String(DEFAULT_SPIN_US * 1000), String(DEFAULT_YIELD_US * 1000), String(WARMUP_MS[runMode] + MEASURE_MS[runMode])];
  return JSON.parse(execFileSync(binary, argv, { encoding: 'utf8', timeout: 110_000 })) as Measured;
}

/**
 * Round trips each JS pair runs before it measures: until V8 has compiled the hot code. It
 * tiers functions up over thousands of calls, and the first round trips are many times
 * slower (measured here: 1,000 warm-up rounds left p99 at 2.4 µs, 20,000 brought it to
 * 1.2 µs). The compile jobs run on V8's background threads, and on two CPUs one of them
 * pushes the two spinning peers onto one CPU, where they stay for ~10 ms at ~7 µs a round
 * trip: after 20,000 rounds, the last jobs (the peers' loops, WaitStrategy.wake) still came
 * 10,000–30,000 rounds into the measured part, at the same place run after run. 200,000
 * rounds (about 0.1 s spinning) finish them. Parking round trips take long enough that
 * 20,000 do, and the tiny run (the harness test) only checks that everything works.
 */
function warmupRounds(mode: RunSettings['mode'], js: string): number {
  return mode === 'tiny' || mode === 'quick' || js === 'park' ? 20_000 : 200_000;
}

export const scenario: Scenario = {
  name: 'latency',
  description: 'round trip of 64 B over two SPSC rings between two processes',
  async run(settings: RunSettings): Promise<Row[]> {
    const rounds = byMode(settings.mode, { tiny: 2_000, quick: 5_000, standard: 10_000, full: 50_000 });
    const reps = byMode(settings.mode, { tiny: 1, quick: 1, standard: 2, full: 5 });
    // Replies are read into a reused buffer (readInto) except in 'spin-alloc', which shows
    // what a new buffer per message (tryRead) costs: V8 allocation widens the tail.
    const setups = [
      { js: 'spin', c: 'spin', label: 'receiver spins' },
      { js: 'spin-alloc', c: 'spin', label: 'receiver spins, tryRead (a new buffer each)' },
      { js: 'park', c: 'futex', label: 'receiver parks (futex)' },
      { js: 'hybrid', c: 'hybrid', label: 'receiver spins, then parks' },
    ];
    const rows: Row[] = [];
    let noC: string | undefined; // why the C reference could not run, if it could not
    for (const setup of setups) {
      if (setup.js.startsWith('spin') && oneCpu(settings)) {
        rows.push({ scenario: 'latency', competitor: 'shmring SPSC', setup: `64 B, ${setup.label}`, figures: {}, skipped: ONE_CPU_SPIN });
        continue;
      }
      const js: Measured[] = [];
      const ref: Measured[] = [];
      for (let r = 0; r < reps; r++) {
        settings.progress(`latency: ${setup.label} (${r + 1}/${reps})`);
        try {
          if (noC === undefined) ref.push(c(setup.c, rounds, settings.mode));
        } catch (err) {
          noC = (err as Error).message;
        }
        js.push(await rings(setup.js, rounds, warmupRounds(settings.mode, setup.js), settings.mode));
      }
      const paired = ref.length === js.length;
      rows.push({
        scenario: 'latency',
        competitor: 'shmring SPSC',
        setup: `64 B, ${setup.label}`,
        figures: {
          median_us: median(js.map((x) => x.median)),
          p99_us: median(js.map((x) => x.p99)),
          // the fewest round trips one repetition measured (the time bound may end it early)
          rounds: Math.min(...js.map((x) => x.rounds)),
          ...(paired
            ? {
                c_median_us: median(ref.map((x) => x.median)),
                c_p99_us: median(ref.map((x) => x.p99)),
                c_rounds: Math.min(...ref.map((x) => x.rounds)),
              }
            : {}),
        },
        ratios: {
          ...(paired
            ? { 'median ÷ C ring': median(js.map((x, i) => x.median / ref[i]!.median)), 'p99 ÷ C ring': median(js.map((x, i) => x.p99 / ref[i]!.p99)) }
            : {}),
          'pipe median ÷ this median': NaN, // filled in below, from the same run
        },
        ...(paired ? {} : { note: `without the C ring: ${noC}` }),
      });
    }
    const pipe: Measured[] = [];
    for (let r = 0; r < reps; r++) {
      settings.progress(`latency: pipe pair (${r + 1}/${reps})`);
      pipe.push(await pipes(rounds, settings.mode));
    }
    const pipeMedian = median(pipe.map((x) => x.median));
    for (const row of rows) if (row.skipped === undefined) row.ratios!['pipe median ÷ this median'] = pipeMedian / row.figures.median_us!;
    rows.push({
      scenario: 'latency',
      competitor: 'pipe',
      setup: '64 B, a pair of pipes, Node streams (event loop)',
      figures: { median_us: pipeMedian, p99_us: median(pipe.map((x) => x.p99)), rounds: Math.min(...pipe.map((x) => x.rounds)) },
    });
    return rows;
  },
};
