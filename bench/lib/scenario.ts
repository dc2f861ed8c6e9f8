// What every benchmark scenario file exports, and the shape of its results.

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
}

export interface Scenario {
  name: string;
  description: string;
  run(settings: RunSettings): Promise<Row[]>;
}
