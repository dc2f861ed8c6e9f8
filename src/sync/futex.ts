// Cross-process futex on a 32-bit word of shared memory. Atomics.wait/notify cannot do
// this: in V8 they only meet waiters of the same process. wait() blocks the calling
// thread; waitAsync() never blocks the event loop and holds no libuv pool thread (a
// native waiter thread sleeps in futex_waitv for up to 127 words at once).
import { abortError, checkSignal, checkTimeout, closedError, rangeError, ShmError, shmError, truncatedError, typeError } from '../errors.js';
import { native } from '../native.js';
import { onSegmentClose, segmentOf } from '../segment/segment.js';

/**
 * How a futex wait ended: woken ('ok'), the word did not hold the expected value ('not-equal'), or
 * the timeout passed.
 */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';
const RESULTS: readonly WaitResult[] = ['ok', 'not-equal', 'timed-out'];

/** Options of futex.waitAsync. */
export interface WaitAsyncOptions {
  /** Milliseconds; undefined or Infinity waits forever. */
  timeout?: number;
  /** Aborting settles the promise with ERR_ABORTED. */
  signal?: AbortSignal;
  /** false: this pending wait does not keep the process alive (default true). */
  ref?: boolean;
}

/**
 * Checks a word reference and returns nothing; throws
 * TypeError/RangeError/ERR_CLOSED/ERR_SHM_TRUNCATED.
 */
function checkWord(i32: unknown, index: unknown): asserts i32 is Int32Array {
  if (!(i32 instanceof Int32Array)) throw typeError('i32', i32, 'an Int32Array');
  if (!(i32.buffer instanceof SharedArrayBuffer)) {
    throw typeError('i32', i32, 'an Int32Array over a SharedArrayBuffer (a futex on unshared memory can never be woken)');
  }
  if (typeof index !== 'number') throw typeError('index', index, 'a number');
  if (!Number.isInteger(index) || index < 0 || index >= i32.length) {
    throw rangeError('index', index, `an integer from 0 to ${i32.length - 1}`);
  }
  const segment = segmentOf(i32.buffer);
  if (segment !== undefined) {
    if (segment.closed) throw closedError(`segment ${segment.address}`);
    segment.checkIntact(); // ERR_SHM_TRUNCATED: the word now lives on private zero pages
  }
}

function checkExpected(expected: unknown): number {
  if (typeof expected !== 'number' || Number.isNaN(expected)) throw typeError('expected', expected, 'a number');
  return expected | 0;
}

/**
 * The error of a futex call that failed with `err`. The kernel answers EFAULT, not SIGBUS,
 * for a word whose page was truncated away: one load of the word from JavaScript takes the
 * SIGBUS that the segment's guard turns into zero pages, and the error becomes ERR_SHM_TRUNCATED.
 */
function futexError(i32: Int32Array, index: number, err: unknown): unknown {
  if (!(err instanceof ShmError) || err.code !== 'EFAULT') return err;
  const segment = segmentOf(i32.buffer);
  if (segment === undefined) return err;
  Atomics.load(i32, index);
  return segment.truncated ? truncatedError(segment.address) : err;
}

/** Sleeps while i32[index] === expected, until woken or timed out. Blocks the thread. */
export function wait(i32: Int32Array, index: number, expected: number, timeoutMs?: number): WaitResult {
  checkWord(i32, index);
  const value = checkExpected(expected);
  const timeout = checkTimeout(timeoutMs, 'timeoutMs');
  try {
    return RESULTS[native.futexWait(i32, index, value, timeout)]!;
  } catch (err) {
    throw futexError(i32, index, err);
  }
}

/** Wakes up to `count` waiters (default all) on i32[index], in any process; returns how many. */
export function wake(i32: Int32Array, index: number, count = Infinity): number {
  checkWord(i32, index);
  if (typeof count !== 'number' || Number.isNaN(count) || count < 0) throw rangeError('count', count, 'a number >= 0');
  try {
    return native.futexWake(i32, index, count === Infinity ? -1 : Math.floor(count));
  } catch (err) {
    throw futexError(i32, index, err);
  }
}

interface Pending {
  resolve: (result: WaitResult) => void;
  reject: (err: Error) => void;
  buffer: ArrayBufferLike;
  ref: boolean;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const pending = new Map<number, Pending>();
let refs = 0;
let started = false;

function settle(id: number, entry: Pending): void {
  pending.delete(id);
  if (entry.ref && --refs === 0) native.asyncRef(false);
  if (entry.onAbort !== undefined) entry.signal!.removeEventListener('abort', entry.onAbort);
}

function onResults(ids: number[], results: number[]): void {
  for (let i = 0; i < ids.length; i++) {
    const entry = pending.get(ids[i]!);
    if (entry === undefined) continue; // cancelled while the result was on its way
    settle(ids[i]!, entry);
    entry.resolve(RESULTS[results[i]!]!);
  }
}

function cancel(id: number, entry: Pending, err: Error): void {
  native.asyncCancel(id);
  settle(id, entry);
  entry.reject(err);
}

onSegmentClose((segment, buffer) => {
  for (const [id, entry] of pending) {
    if (entry.buffer === buffer) cancel(id, entry, closedError(`segment ${segment.address}`));
  }
});

/**
 * Resolves once i32[index] is woken or no longer equals `expected` ('ok'), at once with
 * 'not-equal' if it already differs, or with 'timed-out'. Spurious 'ok' results happen;
 * callers re-check their condition. Closing the segment rejects with ERR_CLOSED.
 */
export function waitAsync(i32: Int32Array, index: number, expected: number, options: WaitAsyncOptions = {}): Promise<WaitResult> {
  try {
    checkWord(i32, index);
    const value = checkExpected(expected);
    if (options === null || typeof options !== 'object') throw typeError('options', options, 'an options object');
    const timeout = checkTimeout(options.timeout);
    const signal = checkSignal(options.signal);
    if (options.ref !== undefined && typeof options.ref !== 'boolean') throw typeError('ref', options.ref, 'a boolean');
    if (signal?.aborted) return Promise.reject(abortError('futex wait', signal.reason));
    if (Atomics.load(i32, index) !== value) return Promise.resolve('not-equal');
    if (timeout === 0) return Promise.resolve('timed-out');
    if (!started) {
      native.asyncInit(onResults);
      started = true;
    }
    const id = native.asyncAdd(i32, index, value, timeout);
    return new Promise<WaitResult>((resolve, reject) => {
      const entry: Pending = { resolve, reject, buffer: i32.buffer, ref: options.ref !== false, signal, onAbort: undefined };
      pending.set(id, entry);
      if (entry.ref && refs++ === 0) native.asyncRef(true);
      if (signal !== undefined) {
        entry.onAbort = () => cancel(id, entry, abortError('futex wait', signal.reason));
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
    });
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : shmError('EINVAL', String(err)));
  }
}

/**
 * @internal Number of waitAsync() calls not yet settled in this thread (for tests and
 * diagnostics).
 */
export function pendingAsyncWaits(): number {
  return pending.size;
}
