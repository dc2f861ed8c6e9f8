// One run() call: what it sends, how it settles, and piscina's AbortError for a task whose
// signal aborted.
import type { WorkerProcess } from './worker.js';

/** The error of a task whose signal aborted, as piscina's: name 'AbortError', the reason as its cause. */
export class AbortError extends Error {
  constructor(reason?: unknown) {
    super('The task has been aborted', { cause: reason });
  }

  override get name(): string {
    return 'AbortError';
  }
}

export class Task {
  /** The worker running it; undefined while queued. */
  worker: WorkerProcess | undefined = undefined;
  /** performance.now() when run() was called, and when a worker took it (0: not yet). */
  readonly created: number;
  started = 0;
  settled = false;
  /** Removes the signal's listener. */
  unlisten: (() => void) | undefined = undefined;

  constructor(
    readonly id: number,
    readonly task: unknown,
    readonly name: string | null,
    readonly filename: string | null,
    readonly transfer: ArrayBuffer[] | undefined,
    readonly resolve: (value: unknown) => void,
    readonly reject: (reason: unknown) => void,
    timed: boolean,
  ) {
    this.created = timed ? performance.now() : 0;
  }
}
