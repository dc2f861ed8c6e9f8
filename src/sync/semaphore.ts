// A counting semaphore in shared memory, usable from any number of processes.
//
// Layout (16 bytes at a 4-aligned byteOffset), all int32:
//
//   offset  field     written by
//   0       magic     create(), last: it publishes the initialised semaphore
//   4       count     acquire (CAS -1), release (CAS +n)
//   8       waiters   sleepers announce themselves here before parking
//   12      max       create(); release past it is ERR_SEM_OVERFLOW
//
// Protocol: release adds to count with a CAS, then wakes sleepers only if waiters != 0.
import { badHeaderError, checkOptions, checkInteger, checkTimeout, shmError } from '../errors.js';
import { bufferOf, checkRegion, closedSegmentOf, closingOf, segmentClosedError, type SharedTarget } from './region.js';
import { defaultWaitStrategy, type WaitPoint, type WaitStrategy } from './wait-strategy.js';
import { type WaitJob, waitAsync, waitSync } from './waiting.js';

export const SEMAPHORE_MAGIC = 0x314d4553; // "SEM1"
export const SEMAPHORE_MAGIC_OFFSET = 0;
export const SEMAPHORE_COUNT_OFFSET = SEMAPHORE_MAGIC_OFFSET + 4;
export const SEMAPHORE_WAITERS_OFFSET = SEMAPHORE_COUNT_OFFSET + 4;
export const SEMAPHORE_MAX_OFFSET = SEMAPHORE_WAITERS_OFFSET + 4;
export const SEMAPHORE_SIZE = SEMAPHORE_MAX_OFFSET + 4;
export const SEMAPHORE_MAX = 0x7fffffff;

/** Options of Semaphore.create. */
export interface SemaphoreOptions {
  initial?: number;
  max?: number;
  strategy?: WaitStrategy;
}

/** Options of Semaphore.acquire. */
export interface AcquireOptions {
  timeout?: number;
}

/** Options of Semaphore.acquireAsync. */
export interface AcquireAsyncOptions extends AcquireOptions {
  signal?: AbortSignal;
}


/**
 * A counting semaphore in 16 bytes of shared memory, for any processes and threads that map it:
 * create it once, open it elsewhere.
 */
export class Semaphore {
  /** The semaphore's 16 bytes (and nothing else of the segment), its count word and its waiters word. */
  readonly #point: WaitPoint;
  readonly #max: number;
  readonly #strategy: WaitStrategy;
  /** Aborted when the segment closes: from then on every call is ERR_CLOSED. */
  readonly #closing: AbortSignal;
  /**
   * A blocking acquire for the wait loop (waiting.ts); it holds no state of a call. It
   * parks in slices of PEER_CHECK_INTERVAL_MS and re-tries after each: a releaser that died
   * between its CAS and its wake-up leaves a free unit nobody wakes us for.
   */
  readonly #acquireJob: WaitJob<true>;

  private constructor(buffer: SharedArrayBuffer, byteOffset: number, max: number, strategy: WaitStrategy, closing: AbortSignal) {
    this.#point = { i32: new Int32Array(buffer, byteOffset, SEMAPHORE_SIZE / 4), word: SEMAPHORE_COUNT_OFFSET / 4, waiters: SEMAPHORE_WAITERS_OFFSET / 4 };
    this.#acquireJob = { what: 'semaphore acquire', attempt: () => (this.tryAcquire() ? true : null), point: this.#point, spin: true, check: () => {} };
    this.#max = max;
    this.#strategy = strategy;
    this.#closing = closing;
  }

  #checkOpen(): void {
    if (this.#closing.aborted) throw segmentClosedError('semaphore');
  }

  /** Formats a semaphore at byteOffset; the bytes there are overwritten. */
  static create(target: SharedTarget, byteOffset: number, opts?: SemaphoreOptions): Semaphore {
    const buffer = bufferOf(target);
    checkRegion(buffer, byteOffset, SEMAPHORE_SIZE, 4, 'a semaphore');
    const closing = closingOf(buffer, 'semaphore');
    const o = checkOptions(opts);
    const max = o.max === undefined ? SEMAPHORE_MAX : checkInteger('max', o.max, 1, SEMAPHORE_MAX);
    const initial = o.initial === undefined ? 0 : checkInteger('initial', o.initial, 0, max);
    const i32 = new Int32Array(buffer, byteOffset, SEMAPHORE_SIZE / 4);
    Atomics.store(i32, SEMAPHORE_MAGIC_OFFSET / 4, 0);
    Atomics.store(i32, SEMAPHORE_COUNT_OFFSET / 4, initial);
    Atomics.store(i32, SEMAPHORE_WAITERS_OFFSET / 4, 0);
    Atomics.store(i32, SEMAPHORE_MAX_OFFSET / 4, max);
    // Published last: an opener that sees the magic sees the fields above.
    Atomics.store(i32, SEMAPHORE_MAGIC_OFFSET / 4, SEMAPHORE_MAGIC);
    return new Semaphore(buffer, byteOffset, max, o.strategy ?? defaultWaitStrategy, closing);
  }

  /** Attaches to a semaphore another process created; never reinitialises it. */
  static open(target: SharedTarget, byteOffset: number, opts?: { strategy?: WaitStrategy }): Semaphore {
    const buffer = bufferOf(target);
    checkRegion(buffer, byteOffset, SEMAPHORE_SIZE, 4, 'a semaphore');
    const closing = closingOf(buffer, 'semaphore');
    const i32 = new Int32Array(buffer, byteOffset, SEMAPHORE_SIZE / 4);
    if (Atomics.load(i32, SEMAPHORE_MAGIC_OFFSET / 4) !== SEMAPHORE_MAGIC) throw badHeaderError(`no semaphore at byteOffset ${byteOffset}`);
    const max = Atomics.load(i32, SEMAPHORE_MAX_OFFSET / 4);
    const count = Atomics.load(i32, SEMAPHORE_COUNT_OFFSET / 4);
    if (max < 1 || count < 0 || count > max) throw badHeaderError(`semaphore at byteOffset ${byteOffset} has count ${count}, max ${max}`);
    return new Semaphore(buffer, byteOffset, max, checkOptions(opts).strategy ?? defaultWaitStrategy, closing);
  }

  /** The count now; already stale for every other participant. */
  get value(): number {
    this.#checkOpen();
    return Atomics.load(this.#point.i32, this.#point.word);
  }

  get max(): number {
    return this.#max;
  }

  /** Takes one unit if one is free; never blocks. */
  tryAcquire(): boolean {
    this.#checkOpen();
    const { i32, word } = this.#point;
    for (;;) {
      const count = Atomics.load(i32, word);
      if (count <= 0) return false;
      if (Atomics.compareExchange(i32, word, count, count - 1) === count) return true;
    }
  }

  /** Takes one unit, blocking the thread until one is free; ERR_TIMEOUT after `timeout` ms. */
  acquire(opts?: AcquireOptions): void {
    this.#checkOpen();
    checkTimeout(checkOptions(opts).timeout);
    if (!this.tryAcquire()) waitSync(this.#strategy, this.#acquireJob, opts);
  }

  /** As acquire(), without blocking the event loop; abortable. */
  async acquireAsync(opts?: AcquireAsyncOptions): Promise<void> {
    await waitAsync(this.#strategy, this.#acquireJob, opts, this.#closing, closedSegmentOf('semaphore'));
  }

  /** Returns n units (default 1) and wakes as many sleepers; ERR_SEM_OVERFLOW past max. */
  release(n = 1): void {
    checkInteger('n', n, 1, SEMAPHORE_MAX);
    this.#checkOpen();
    const { i32, word } = this.#point;
    for (;;) {
      const count = Atomics.load(i32, word);
      if (count > this.#max - n) {
        throw shmError('ERR_SEM_OVERFLOW', `release(${n}) would take the semaphore past its max of ${this.#max} (count ${count})`);
      }
      if (Atomics.compareExchange(i32, word, count, count + n) === count) break;
    }
    this.#strategy.wake(this.#point, n);
  }
}
