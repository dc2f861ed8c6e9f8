// The one wait loop of shmring: try; spin on the word; then announce in the waiters word,
// re-check, and park while the word is unchanged. Owns the race-critical announce →
// re-check → park sequence (parkSync/parkAsync) and the loop around it (waitSync/waitAsync),
// with deadlines, periodic checks (peer liveness) and cancellation. Knows nothing of rings:
// callers describe their wait as a WaitJob.
//
// Why the re-check makes a wake-up impossible to miss: the waiter increments `waiters`
// (seq_cst) and then re-reads the word and re-tries; a publisher stores the word (seq_cst)
// and then reads `waiters`. Either the publisher saw the announcement (and wakes), or it
// published before the re-try, which then sees its data.
import { abortError, checkOptions, checkSignal, checkTimeout, closedError, timeoutError } from '../errors.js';
import type { WaitPoint, WaitStrategy } from './wait-strategy.js';

/** How often a blocked waiter runs its job's check() (peer liveness, repairs), in ms. */
export const PEER_CHECK_INTERVAL_MS = 100;

/** Options of the calls that block the thread. */
export interface BlockOptions {
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * A wait as the loop sees it. Built once per handle where it can be, so waiting allocates nothing.
 */
export interface WaitJob<T> {
  what: string;
  /** Does the operation if it can now; null if it must wait. */
  attempt: () => T | null;
  /**
   * Where to sleep. The word must change after any publication that could make attempt()
   * succeed, whenever the waiters word is non-zero.
   */
  point: WaitPoint;
  /** Whether spinning on the word can see progress (false if it changes only for sleepers). */
  spin: boolean;
  /** Runs every checkEveryMs of parking; throws (ERR_PEER_DEAD, ...) when waiting cannot help. */
  check: () => void;
  /** How often check() runs while parked, in ms; default PEER_CHECK_INTERVAL_MS. */
  checkEveryMs?: number;
  /** Once, when the first attempt failed. */
  onWait?: () => void;
  /** Before each park (for example: publish what this thread holds, the peer may wait for it). */
  beforePark?: () => void;
}

/** What parkSync/parkAsync give when the park timed out (null: woken or the word changed). */
export const TIMED_OUT: unique symbol = Symbol('timed-out');

/** `signal` of park() for a park that blocks the thread. */
const SYNC: unique symbol = Symbol('sync');

/**
 * The race-critical sequence, once: announce in the waiters word, re-check with `recheck`
 * (its value if it succeeds), then park on the word as it was before the re-check, for at
 * most timeoutMs (-1: no limit), blocking the thread (SYNC) or not; the announcement is
 * withdrawn once the park is over.
 */
function park<T>(strategy: WaitStrategy, point: WaitPoint, recheck: () => T | null, timeoutMs: number, signal: AbortSignal | undefined | typeof SYNC): T | null | typeof TIMED_OUT | Promise<null | typeof TIMED_OUT> {
  const { i32, word, waiters } = point;
  Atomics.add(i32, waiters, 1);
  let parked: Promise<null | typeof TIMED_OUT> | undefined;
  try {
    const seen = Atomics.load(i32, word);
    const value = recheck();
    if (value !== null) return value;
    if (signal === SYNC) return strategy.park(point, seen, timeoutMs) === 'timed-out' ? TIMED_OUT : null;
    parked = strategy.parkAsync(point, seen, timeoutMs, signal).then((r) => (r === 'timed-out' ? TIMED_OUT : null));
    return parked.finally(() => Atomics.sub(i32, waiters, 1));
  } finally {
    if (parked === undefined) Atomics.sub(i32, waiters, 1);
  }
}

/** Announce → re-check → park (see park), blocking the thread. */
export function parkSync<T>(strategy: WaitStrategy, point: WaitPoint, recheck: () => T | null, timeoutMs: number): T | null | typeof TIMED_OUT {
  return park(strategy, point, recheck, timeoutMs, SYNC) as T | null | typeof TIMED_OUT;
}

/** As parkSync, without blocking the event loop. */
export async function parkAsync<T>(strategy: WaitStrategy, point: WaitPoint, recheck: () => T | null, timeoutMs: number, signal?: AbortSignal): Promise<T | null | typeof TIMED_OUT> {
  return park(strategy, point, recheck, timeoutMs, signal);
}

/** One wait's bookkeeping. */
class Round {
  timeout = -1;
  /** Read from the clock once spinning failed: a wait that ends while spinning never reads it. */
  deadline = NaN;
  waited = false;
  /** How long the next park may last. */
  parkMs = 0;

  start(timeout: number): this {
    this.timeout = timeout;
    this.deadline = NaN;
    this.waited = false;
    return this;
  }
}

// Sync waits never overlap in a thread (nothing they call waits), so they share one Round.
const syncRound = new Round();

/**
 * The loop up to a park: try, count the first wait, spin; then the time left (ERR_TIMEOUT
 * when there is none). The value, or null: park for round.parkMs. The timeout runs from
 * the end of the first spin (a few µs late): reading the clock costs a round trip 2 × 64 ns.
 */
function approach<T>(strategy: WaitStrategy, job: WaitJob<T>, round: Round): T | null {
  const { i32, word } = job.point;
  for (;;) {
    const before = Atomics.load(i32, word);
    const value = job.attempt();
    if (value !== null) return value;
    if (!round.waited) {
      round.waited = true;
      job.onWait?.();
    }
    if (job.spin && strategy.spin(job.point, before)) continue;
    const now = performance.now();
    if (round.deadline !== round.deadline) round.deadline = round.timeout < 0 ? Infinity : now + round.timeout;
    const left = round.deadline - now;
    if (left <= 0) throw timeoutError(job.what, round.timeout);
    round.parkMs = Math.min(left, job.checkEveryMs ?? PEER_CHECK_INTERVAL_MS);
    job.beforePark?.();
    return null;
  }
}

/** Runs job.attempt() until it gives a value, parking in between; blocks the thread. */
export function waitSync<T>(strategy: WaitStrategy, job: WaitJob<T>, options: BlockOptions | undefined): T {
  const round = syncRound.start(checkTimeout(checkOptions(options).timeout));
  for (;;) {
    const value = approach(strategy, job, round) ?? parkSync(strategy, job.point, job.attempt, round.parkMs);
    if (value === TIMED_OUT) job.check();
    else if (value !== null) return value;
  }
}

/** Never aborted: the `closing` of a wait nothing closes. */
const NEVER = new AbortController().signal;

/**
 * As waitSync without blocking the event loop; options.signal aborts it (ERR_ABORTED),
 * `closing` ends it with ERR_CLOSED (`owner` is closed).
 */
export async function waitAsync<T>(strategy: WaitStrategy, job: WaitJob<T>, options: BlockOptions | undefined, closing: AbortSignal = NEVER, owner = job.what): Promise<T> {
  const o = checkOptions(options);
  const round = new Round().start(checkTimeout(o.timeout));
  const user = checkSignal(o.signal);
  if (user?.aborted) throw abortError(job.what, user.reason);
  const signal = user === undefined ? (closing === NEVER ? undefined : closing) : closing === NEVER ? user : AbortSignal.any([user, closing]);
  for (;;) {
    let value: T | null | typeof TIMED_OUT = approach(strategy, job, round);
    if (value !== null) return value;
    try {
      value = await parkAsync(strategy, job.point, job.attempt, round.parkMs, signal);
    } catch (err) {
      if (closing.aborted) throw closedError(owner);
      throw err;
    }
    if (closing.aborted) throw closedError(owner);
    if (value === TIMED_OUT) job.check();
    else if (value !== null) return value;
  }
}
