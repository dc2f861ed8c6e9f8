// Spin, then park. A waiter spins a bounded number of Atomics.load()s on the word it
// waits for; if the word has not changed, it announces itself in a waiters word and
// parks on the futex. The waking side calls futex wake only when the waiters word says
// someone sleeps, so an uncontended hand-over makes no syscall at all.
//
// Ordering: the waiter increments `waiters` (seq_cst) and then re-reads the word; the
// waker stores the word (seq_cst) and then reads `waiters`. Of the two, at least one
// sees the other's store, so a wake-up is never lost.
import { checkInteger, typeError } from '../errors.js';
import * as futex from './futex.js';

/**
 * Default spin budget, in loads. Short on purpose: on 2 cores a waiter co-scheduled with
 * the process it waits for only delays it by spinning, so past a few microseconds
 * parking is cheaper than spinning.
 */
export const DEFAULT_SPINS = 256;

export interface WaitStrategyOptions {
  /** Atomics.load()s before parking; 0 parks at once. */
  spins?: number;
}

/** Where a waiter sleeps: the word it watches and the word counting sleepers. */
export interface WaitPoint {
  readonly i32: Int32Array;
  readonly word: number;
  readonly waiters: number;
}

export class WaitStrategy {
  readonly spins: number;

  constructor(options: WaitStrategyOptions = {}) {
    if (options === null || typeof options !== 'object') throw typeError('options', options, 'an options object');
    this.spins = options.spins === undefined ? DEFAULT_SPINS : checkInteger('spins', options.spins, 0, 1e9);
  }

  /** Spins while the word equals `value`; true if it changed within the budget. */
  spin(point: WaitPoint, value: number): boolean {
    const { i32, word } = point;
    for (let i = this.spins; i > 0; i--) {
      if (Atomics.load(i32, word) !== value) return true;
    }
    return false;
  }

  /**
   * Blocks the thread while the word equals `value`, for at most timeoutMs (-1: no limit).
   * 'ok' means the word changed or a wake-up came (re-check your condition).
   */
  wait(point: WaitPoint, value: number, timeoutMs: number): 'ok' | 'timed-out' {
    if (this.spin(point, value)) return 'ok';
    const { i32, word, waiters } = point;
    Atomics.add(i32, waiters, 1);
    try {
      if (Atomics.load(i32, word) !== value) return 'ok';
      return futex.wait(i32, word, value, timeoutMs < 0 ? undefined : timeoutMs) === 'timed-out' ? 'timed-out' : 'ok';
    } finally {
      Atomics.sub(i32, waiters, 1);
    }
  }

  /** As wait(), without blocking the event loop. */
  async waitAsync(point: WaitPoint, value: number, timeoutMs: number, signal?: AbortSignal): Promise<'ok' | 'timed-out'> {
    if (this.spin(point, value)) return 'ok';
    const { i32, word, waiters } = point;
    Atomics.add(i32, waiters, 1);
    try {
      if (Atomics.load(i32, word) !== value) return 'ok';
      const options = signal === undefined ? { timeout: timeoutMs < 0 ? undefined : timeoutMs } : { timeout: timeoutMs < 0 ? undefined : timeoutMs, signal };
      return (await futex.waitAsync(i32, word, value, options)) === 'timed-out' ? 'timed-out' : 'ok';
    } finally {
      Atomics.sub(i32, waiters, 1);
    }
  }

  /**
   * Parks without spinning or announcing: for callers that announce themselves in the
   * waiters word and re-check their own condition before parking (see ring/base.ts).
   */
  park(point: WaitPoint, value: number, timeoutMs: number): 'ok' | 'timed-out' {
    return futex.wait(point.i32, point.word, value, timeoutMs < 0 ? undefined : timeoutMs) === 'timed-out' ? 'timed-out' : 'ok';
  }

  /** As park(), without blocking the event loop. */
  async parkAsync(point: WaitPoint, value: number, timeoutMs: number, signal?: AbortSignal): Promise<'ok' | 'timed-out'> {
    const timeout = timeoutMs < 0 ? undefined : timeoutMs;
    const result = await futex.waitAsync(point.i32, point.word, value, signal === undefined ? { timeout } : { timeout, signal });
    return result === 'timed-out' ? 'timed-out' : 'ok';
  }

  /** Wakes up to `count` sleepers if the waiters word says there are any; no syscall otherwise. */
  wake(point: WaitPoint, count = Infinity): void {
    if (Atomics.load(point.i32, point.waiters) !== 0) futex.wake(point.i32, point.word, count);
  }
}

export const defaultWaitStrategy = new WaitStrategy();
