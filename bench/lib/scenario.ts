// What every benchmark scenario file exports, the shape of its results, and the run settings
// a scenario sizes itself by (mode, and how many CPUs this process may use).
import type { MachineInfo } from './machine.js';

export interface RunSettings {
  /**
   * tiny: the harness's own test; quick: a first look, the whole run in about a minute
   * (`--quick`); standard: the default; full: more rounds and repetitions (`--full`).
   */
  mode: 'tiny' | 'quick' | 'standard' | 'full';
  /** CPUs this process may run on (its affinity, not the machine's count). */
  cpus: number;
  progress: (message: string) => void;
}

/** One measured figure: a competitor under one setup, and its numbers. */
export interface Row {
  scenario: string;
  competitor: string;
  setup: string;
  /** Named figures, e.g. { median_us, p99_us } or { msgs_per_s, mb_per_s }. */
  figures: Record<string, number>;
  /** Ratios against the named baseline of the same run, e.g. { 'vs C futex': 1.1 }. */
  ratios?: Record<string, number>;
  /** Why the row has no figures (a competitor missing here, a limit of this machine). */
  skipped?: string;
  /** What a reader must know about figures that were measured (e.g. one CPU, no C reference). */
  note?: string;
  /**
   * Whose row this is, when the competitor's name does not say it (see familyOf in
   * families.ts): 'shmring', a 'reference' (C, memcpy, the JS ceiling) or a Node 'alternative'.
   */
  family?: 'shmring' | 'reference' | 'alternative';
}

/** A whole run as the harness writes it to JSON: the machine, the mode and the rows. */
export interface RunResult {
  machine: MachineInfo;
  mode: RunSettings['mode'];
  /** Seconds each scenario took. */
  seconds?: Record<string, number>;
  rows: Row[];
}

export interface Scenario {
  name: string;
  description: string;
  run(settings: RunSettings): Promise<Row[]>;
}

/**
 * A peer that spins waits for the other one to run, and on one CPU that one runs only when
 * the scheduler takes the CPU from the spinner: the figure would be the scheduler's tick.
 */
export const ONE_CPU_SPIN = 'needs two CPUs: this process may run on one, where a spinning peer only waits for the scheduler';

export function oneCpu(settings: RunSettings): boolean {
  return settings.cpus < 2;
}

/** Picks a count or a time bound by mode. */
export function byMode<T>(mode: RunSettings['mode'], values: Record<RunSettings['mode'], T>): T {
  return values[mode];
}
