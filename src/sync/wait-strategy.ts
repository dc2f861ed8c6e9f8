// Spin, yield, then park. A waiter spins on the word it waits for for a bounded time,
// then gives its CPU to any other runnable thread between looks for a while (so a peer
// that the scheduler queued behind it on the same CPU can run and answer); if the word
// has not changed, it announces itself in a waiters word and parks on the futex. The
// waking side calls futex wake only when the waiters word says someone sleeps, so an
// uncontended hand-over makes no syscall at all.
//
// Ordering: the waiter increments `waiters` (seq_cst) and then re-reads the word; the
// waker stores the word (seq_cst) and then reads `waiters`. Of the two, at least one
// sees the other's store, so a wake-up is never lost.
import { checkOptions, rangeError, typeError } from '../errors.js';
import { native } from '../native.js';
import * as futex from './futex.js';
import { parkAsync, parkSync, TIMED_OUT } from './waiting.js';

/**
 * Default spin, in µs. Short on purpose: on 2 cores a waiter co-scheduled with the process
 * it waits for only delays it by spinning, so past a few microseconds yielding is better.
 * It is a time, not a count of loads, because the cost of a load varies many-fold with the
 * JIT tier and with where the other side's cache line lives.
 */
export const DEFAULT_SPIN_US = 5;

/**
 * Default time to yield between looks after the spin, in µs. A peer queued behind this
 * thread on its CPU runs at the first yield and typically answers within one switch of
 * the CPU (a few µs here); with nothing else runnable, a yield returns at once.
 */
export const DEFAULT_YIELD_US = 10;

/**
 * Default length of the catch-up phase, in µs: how long to keep yielding and looking after
 * this thread woke a sleeping peer. The peer needs a scheduler wake-up (tens of µs) before
 * it answers; parking at once would make this thread the sleeper the peer must wake in
 * turn, and the two would trade wake-ups on every round trip from then on. One longer
 * look lets the pair fall back into spinning. If it fails (the peer is just slow), the
 * catch-up is skipped for exponentially more wake-ups, so a busy CPU is not held for long.
 */
export const DEFAULT_CATCH_UP_US = 40;
const MAX_CATCH_UP_SKIPS = 1024;
/** Loads made in JS (about 1 µs here) before the spin goes native, where the clock is read. */
const JS_LOADS = 256;
/** native.spinWait outcomes. */
const CHANGED_SPINNING = 0;
const CHANGED_AFTER_GIVING_CPU = 2;
const UNCHANGED = 3;

/** Options of a WaitStrategy, in microseconds. */
export interface WaitStrategyOptions {
  /** µs to spin before yielding; 0 parks at once (no yield and no catch-up either). */
  spinUs?: number;
  /** µs to yield the CPU between looks after spinning, before parking; 0: none. */
  yieldUs?: number;
  /** µs to keep yielding and looking after waking a sleeping peer; 0 disables it. */
  catchUpUs?: number;
}

/** Where a waiter sleeps: the word it watches and the word counting sleepers (not exported from the package). */
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

/**
 * How rings, semaphores and mutexes wait: spin for `spinUs`, yield the CPU for `yieldUs`, then
 * sleep on a futex. Handles made without one share a default strategy per thread.
 */
export class WaitStrategy {
  readonly spinUs: number;
  readonly yieldUs: number;
  readonly catchUpUs: number;
  /** The last wake() woke a sleeper: the next wait may catch up (see DEFAULT_CATCH_UP_US). */
  #wokePeer = false;
  #skipCatchUps = 0;
  #catchUpPenalty = 1;
  /**
   * The last wait ended after a yield ran another thread on this CPU: the peer probably
   * shares it, so spinning would only keep it from running. The next wait yields at once.
   */
  #sharingCpu = false;

  constructor(options?: WaitStrategyOptions) {
    const o = checkOptions(options);
    this.spinUs = checkMicroseconds('spinUs', o.spinUs, DEFAULT_SPIN_US);
    this.yieldUs = checkMicroseconds('yieldUs', o.yieldUs, DEFAULT_YIELD_US);
    this.catchUpUs = checkMicroseconds('catchUpUs', o.catchUpUs, DEFAULT_CATCH_UP_US);
  }

  /** @internal
   * Spins, then yields, while the word equals `value`; true if it changed within the
   * budget. Allocates nothing: past the first loads, the loop and its clock run natively.
   */
  spin(point: WaitPoint, value: number): boolean {
    if (this.spinUs === 0) return false;
    const { i32, word } = point;
    for (let i = JS_LOADS; i > 0; i--) if (Atomics.load(i32, word) !== value) return true;
    let yieldUs = this.yieldUs;
    let catchingUp = false;
    if (this.#wokePeer) {
      this.#wokePeer = false;
      if (this.#skipCatchUps > 0) this.#skipCatchUps--;
      else if (this.catchUpUs > yieldUs) {
        yieldUs = this.catchUpUs;
        catchingUp = true;
      }
    }
    const outcome = native.spinWait(i32, word, value, this.#sharingCpu ? 0 : this.spinUs, yieldUs);
    this.#sharingCpu = outcome === CHANGED_AFTER_GIVING_CPU;
    if (catchingUp && outcome !== CHANGED_SPINNING) {
      if (outcome !== UNCHANGED) {
        this.#catchUpPenalty = 1;
      } else {
        this.#skipCatchUps = this.#catchUpPenalty;
        this.#catchUpPenalty = Math.min(this.#catchUpPenalty * 2, MAX_CATCH_UP_SKIPS);
      }
    }
    return outcome !== UNCHANGED;
  }

  /** @internal
   * Blocks the thread while the word equals `value`, for at most timeoutMs (-1: no limit).
   * 'ok' means the word changed or a wake-up came (re-check your condition).
   */
  wait(point: WaitPoint, value: number, timeoutMs: number): 'ok' | 'timed-out' {
    if (this.spin(point, value)) return 'ok';
    return parkSync(this, point, () => (Atomics.load(point.i32, point.word) !== value ? true : null), timeoutMs) === TIMED_OUT ? 'timed-out' : 'ok';
  }

  /** @internal As wait(), without blocking the event loop. */
  async waitAsync(point: WaitPoint, value: number, timeoutMs: number, signal?: AbortSignal): Promise<'ok' | 'timed-out'> {
    if (this.spin(point, value)) return 'ok';
    const recheck = () => (Atomics.load(point.i32, point.word) !== value ? true : null);
    return (await parkAsync(this, point, recheck, timeoutMs, signal)) === TIMED_OUT ? 'timed-out' : 'ok';
  }

  /** @internal
   * Parks without spinning or announcing: for callers that announce themselves in the
   * waiters word and re-check their own condition before parking (see waiting.ts).
   */
  park(point: WaitPoint, value: number, timeoutMs: number): 'ok' | 'timed-out' {
    return futex.wait(point.i32, point.word, value, timeoutMs < 0 ? undefined : timeoutMs) === 'timed-out' ? 'timed-out' : 'ok';
  }

  /** @internal As park(), without blocking the event loop. */
  async parkAsync(point: WaitPoint, value: number, timeoutMs: number, signal?: AbortSignal): Promise<'ok' | 'timed-out'> {
    const timeout = timeoutMs < 0 ? undefined : timeoutMs;
    const result = await futex.waitAsync(point.i32, point.word, value, signal === undefined ? { timeout } : { timeout, signal });
    return result === 'timed-out' ? 'timed-out' : 'ok';
  }

  /** @internal Wakes up to `count` sleepers if the waiters word says there are any; no syscall otherwise. */
  wake(point: WaitPoint, count = Infinity): void {
    if (Atomics.load(point.i32, point.waiters) !== 0) {
      futex.wake(point.i32, point.word, count);
      this.#wokePeer = true;
    }
  }
}

/**
 * The strategy of every ring, semaphore and mutex created or opened without one. Its
 * adaptive state (whether the last wake-up may be caught up with, whether the peer seems to
 * share this CPU) is shared by all of them in this thread: one handle's waits tune the next
 * wait of another. Pass `strategy: new WaitStrategy()` to give a handle its own.
 */
export const defaultWaitStrategy = new WaitStrategy();
