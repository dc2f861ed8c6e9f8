// What every benchmark scenario file exports, and the shape of its results.
import type { MachineInfo } from './machine.js';

export interface RunSettings {
  /** Tiny runs for the harness test; quick is the default, full is --full. */
  mode: 'tiny' | 'quick' | 'full';
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
  skipped?: string;
  /**
   * Whose row this is, when the competitor's name does not say it (see familyOf in
   * families.ts): 'shmring', a 'reference' (C, memcpy) or a Node 'alternative'.
   */
  family?: 'shmring' | 'reference' | 'alternative';
}

/** A whole run as the harness writes it to JSON: the machine, the mode and the rows. */
export interface RunResult {
  machine: MachineInfo;
  mode: RunSettings['mode'];
  rows: Row[];
}

export interface Scenario {
  name: string;
  description: string;
  run(settings: RunSettings): Promise<Row[]>;
}
