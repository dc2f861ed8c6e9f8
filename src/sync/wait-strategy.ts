// Spin, then park. A waiter spins on the word it waits for for a bounded time; if the
// word has not changed, it announces itself in a waiters word and parks on the futex.
// The waking side calls futex wake only when the waiters word says someone sleeps, so an
// uncontended hand-over makes no syscall at all.
//
// Ordering: the waiter increments `waiters` (seq_cst) and then re-reads the word; the
// waker stores the word (seq_cst) and then reads `waiters`. Of the two, at least one
// sees the other's store, so a wake-up is never lost.
import { checkOptions, rangeError, typeError } from '../errors.js';
import * as futex from './futex.js';

/**
 * Default spin, in µs. Short on purpose: on 2 cores a waiter co-scheduled with the process
 * it waits for only delays it by spinning, so past a few microseconds parking is cheaper.
 * It is a time, not a count of loads, because the cost of a load varies many-fold with the
 * JIT tier and with where the other side's cache line lives.
 */
export const DEFAULT_SPIN_US = 5;

/**
 * Default length of the catch-up spin, in µs. After this thread woke a sleeping peer, the
 * peer needs a scheduler wake-up (tens of µs) before it answers; parking after the short
 * spin would make this thread the sleeper the peer must wake in turn, and the two would
 * trade wake-ups on every round trip from then on. One longer spin lets the pair fall back
 * into spinning. If it fails (the peer shares this CPU, or is just slow), the catch-up is
 * skipped for exponentially more wake-ups, so a crowded CPU is not robbed for long.
 */
export const DEFAULT_CATCH_UP_US = 40;
const MAX_CATCH_UP_SKIPS = 1024;
/** Loads between two looks at the clock. */
const LOADS_PER_CHECK = 64;

export interface WaitStrategyOptions {
  /** µs to spin before parking; 0 parks at once (and disables the catch-up spin). */
  spinUs?: number;
  /** µs of the catch-up spin after waking a sleeping peer; 0 disables it. */
  catchUpUs?: number;
}

/** Where a waiter sleeps: the word it watches and the word counting sleepers. */
export interface WaitPoint {
  readonly i32: Int32Array;
  readonly word: number;
  readonly waiters: number;
}

function checkMicroseconds(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(name, value, 'a number of microseconds');
  if (!(value >= 0 && value <= 1e6)) throw rangeError(name, value, 'from 0 to 1e6');
  return value;
}

/** Spins while i32[word] === value for at most `us` µs; true if it changed. */
function spinFor(i32: Int32Array, word: number, value: number, us: number): boolean {
  for (let i = LOADS_PER_CHECK; i > 0; i--) if (Atomics.load(i32, word) !== value) return true;
  const until = performance.now() + us / 1000;
  do {
    for (let i = LOADS_PER_CHECK; i > 0; i--) if (Atomics.load(i32, word) !== value) return true;
  } while (performance.now() < until);
  return false;
}

export class WaitStrategy {
  readonly spinUs: number;
  readonly catchUpUs: number;
  /** The last wake() woke a sleeper: the next spin may catch up (see DEFAULT_CATCH_UP_US). */
  #wokePeer = false;
  #skipCatchUps = 0;
  #catchUpPenalty = 1;

  constructor(options?: WaitStrategyOptions) {
    const o = checkOptions(options);
    this.spinUs = checkMicroseconds('spinUs', o.spinUs, DEFAULT_SPIN_US);
    this.catchUpUs = checkMicroseconds('catchUpUs', o.catchUpUs, DEFAULT_CATCH_UP_US);
  }

  /** Spins while the word equals `value`; true if it changed within the budget. */
  spin(point: WaitPoint, value: number): boolean {
    if (this.spinUs === 0) return false;
    if (spinFor(point.i32, point.word, value, this.spinUs)) return true;
    if (!this.#wokePeer || this.catchUpUs === 0) return false;
    this.#wokePeer = false;
    if (this.#skipCatchUps > 0) {
      this.#skipCatchUps--;
      return false;
    }
    if (spinFor(point.i32, point.word, value, this.catchUpUs)) {
      this.#catchUpPenalty = 1;
      return true;
    }
    this.#skipCatchUps = this.#catchUpPenalty;
    this.#catchUpPenalty = Math.min(this.#catchUpPenalty * 2, MAX_CATCH_UP_SKIPS);
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
      return this.park(point, value, timeoutMs);
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
      return await this.parkAsync(point, value, timeoutMs, signal);
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
    if (Atomics.load(point.i32, point.waiters) !== 0) {
      futex.wake(point.i32, point.word, count);
      this.#wokePeer = true;
    }
  }
}

export const defaultWaitStrategy = new WaitStrategy();
