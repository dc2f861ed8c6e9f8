// Run and wait times of a pool's tasks, as piscina reports them: Node's HDR histograms
// (perf_hooks.createHistogram) recording nanoseconds, summarised in milliseconds.
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface HistogramSummary {
  average: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  p0_001: number;
  p0_01: number;
  p0_1: number;
  p1: number;
  p2_5: number;
  p10: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
  p97_5: number;
  p99: number;
  p99_9: number;
  p99_99: number;
  p99_999: number;
}

export interface PoolHistogram {
  /** How long tasks ran (from being handed to a worker to their answer), in ms. */
  readonly runTime: HistogramSummary;
  /** How long tasks waited in the queue for a worker, in ms. */
  readonly waitTime: HistogramSummary;
  resetRunTime(): void;
  resetWaitTime(): void;
}

const PERCENTILES = [0.001, 0.01, 0.1, 1, 2.5, 10, 25, 50, 75, 90, 97.5, 99, 99.9, 99.99, 99.999];

function summary(h: RecordableHistogram): HistogramSummary {
  const ms = (ns: number): number => (Number.isFinite(ns) ? ns / 1e6 : 0); // an empty histogram has NaN/huge min
  const s: Record<string, number> = { average: ms(h.mean), mean: ms(h.mean), stddev: ms(h.stddev), min: h.count === 0 ? 0 : ms(h.min), max: ms(h.max) };
  for (const p of PERCENTILES) s[`p${String(p).replace('.', '_')}`] = ms(h.percentile(p));
  return s as unknown as HistogramSummary;
}

export class TaskTimes implements PoolHistogram {
  readonly #run = createHistogram();
  readonly #wait = createHistogram();

  /** Records a duration in ms (performance.now() differences). */
  recordRun(ms: number): void {
    this.#run.record(Math.max(1, Math.round(ms * 1e6)));
  }

  recordWait(ms: number): void {
    this.#wait.record(Math.max(1, Math.round(ms * 1e6)));
  }

  get runCount(): number {
    return this.#run.count;
  }

  get runTime(): HistogramSummary {
    return summary(this.#run);
  }

  get waitTime(): HistogramSummary {
    return summary(this.#wait);
  }

  resetRunTime(): void {
    this.#run.reset();
  }

  resetWaitTime(): void {
    this.#wait.reset();
  }
}
