// A robust mutex in shared memory. The lock word is the owner's identity (pid, thread
// and process start time, see identity.ts), taken with one 64-bit compareExchange; if the
// owner dies holding it, the next locker takes it over and is told so (`ownerDied`), so
// it can repair the data the lock protects instead of hanging.
//
// Layout (16 bytes at an 8-aligned byteOffset):
//
//   offset  field             type    written by
//   0       magic             int32   create(), last: publishes the initialised mutex
//   4       waiters           int32   sleepers announce themselves before parking
//   8       owner             int64   0 when free; the owner's identity when held
//
// Sleepers park on the low 32 bits of `owner` (offset 8, little-endian), which change
// whenever the lock is released or taken over.
// Protocol: unlock stores 0 into owner, then wakes one sleeper only if waiters != 0.
import { badHeaderError, checkOptions, checkTimeout, shmError } from '../errors.js';
import { isAlive, SELF_THREAD } from './identity.js';
import { bufferOf, checkRegion, closedSegmentOf, closingOf, segmentClosedError, type SharedTarget } from './region.js';
import { defaultWaitStrategy, type WaitPoint, type WaitStrategy } from './wait-strategy.js';
import { type WaitJob, waitAsync, waitSync } from './waiting.js';

export const MUTEX_MAGIC = 0x3158544d; // "MTX1"
export const MUTEX_MAGIC_OFFSET = 0;
export const MUTEX_WAITERS_OFFSET = MUTEX_MAGIC_OFFSET + 4;
export const MUTEX_OWNER_OFFSET = MUTEX_WAITERS_OFFSET + 4;
export const MUTEX_SIZE = MUTEX_OWNER_OFFSET + 8;

/** How often a blocked locker checks whether the owner still lives, in ms. */
export const OWNER_CHECK_INTERVAL_MS = 50;

/** What a lock call returns once it holds the lock. */
export interface Locked {
  /** The previous owner died holding the lock: the data it protects may be half-updated. */
  readonly ownerDied: boolean;
}

const LOCKED: Locked = Object.freeze({ ownerDied: false });
const LOCKED_OWNER_DIED: Locked = Object.freeze({ ownerDied: true });

/** Options of Mutex.lock. */
export interface LockOptions {
  timeout?: number;
}

/** Options of Mutex.lockAsync. */
export interface LockAsyncOptions extends LockOptions {
  signal?: AbortSignal;
}


/**
 * A robust mutex in 16 bytes of shared memory: if its owner dies holding it, the next locker gets
 * it with `ownerDied: true`. Not recursive.
 */
export class Mutex {
  /** Where waiters sleep: the mutex's 16 bytes (and nothing else of the segment), its owner word and its waiters word. */
  readonly #point: WaitPoint;
  readonly #owner: BigInt64Array;
  readonly #strategy: WaitStrategy;
  /** Aborted when the segment closes: from then on every call is ERR_CLOSED. */
  readonly #closing: AbortSignal;

  private constructor(buffer: SharedArrayBuffer, byteOffset: number, strategy: WaitStrategy, closing: AbortSignal) {
    this.#point = { i32: new Int32Array(buffer, byteOffset, MUTEX_SIZE / 4), word: MUTEX_OWNER_OFFSET / 4, waiters: MUTEX_WAITERS_OFFSET / 4 };
    this.#owner = new BigInt64Array(buffer, byteOffset + MUTEX_OWNER_OFFSET, 1);
    this.#strategy = strategy;
    this.#closing = closing;
  }

  #checkOpen(): void {
    if (this.#closing.aborted) throw segmentClosedError('mutex');
  }

  /** Formats an unlocked mutex at byteOffset; the bytes there are overwritten. */
  static create(target: SharedTarget, byteOffset: number, opts?: { strategy?: WaitStrategy }): Mutex {
    const buffer = bufferOf(target);
    checkRegion(buffer, byteOffset, MUTEX_SIZE, 8, 'a mutex');
    const closing = closingOf(buffer, 'mutex');
    const i32 = new Int32Array(buffer, byteOffset, MUTEX_SIZE / 4);
    Atomics.store(i32, MUTEX_MAGIC_OFFSET / 4, 0);
    Atomics.store(i32, MUTEX_WAITERS_OFFSET / 4, 0);
    Atomics.store(new BigInt64Array(buffer, byteOffset + MUTEX_OWNER_OFFSET, 1), 0, 0n);
    // Published last: an opener that sees the magic sees a free lock.
    Atomics.store(i32, MUTEX_MAGIC_OFFSET / 4, MUTEX_MAGIC);
    return new Mutex(buffer, byteOffset, checkOptions(opts).strategy ?? defaultWaitStrategy, closing);
  }

  /** Attaches to a mutex another process created; never reinitialises it. */
  static open(target: SharedTarget, byteOffset: number, opts?: { strategy?: WaitStrategy }): Mutex {
    const buffer = bufferOf(target);
    checkRegion(buffer, byteOffset, MUTEX_SIZE, 8, 'a mutex');
    const closing = closingOf(buffer, 'mutex');
    if (Atomics.load(new Int32Array(buffer, byteOffset, 1), 0) !== MUTEX_MAGIC) throw badHeaderError(`no mutex at byteOffset ${byteOffset}`);
    return new Mutex(buffer, byteOffset, checkOptions(opts).strategy ?? defaultWaitStrategy, closing);
  }

  /** Whether some thread holds the lock now; stale as soon as it returns. */
  get locked(): boolean {
    this.#checkOpen();
    return Atomics.load(this.#owner, 0) !== 0n;
  }

  /** Takes a free lock; ERR_CLOSED first if the segment closed (the CAS would take a private page). */
  #take(): boolean {
    this.#checkOpen();
    return Atomics.compareExchange(this.#owner, 0, 0n, SELF_THREAD) === 0n;
  }

  /** Takes the lock from a dead owner; false if the owner lives or someone else was faster. */
  #takeOver(): boolean {
    const owner = Atomics.load(this.#owner, 0);
    if (owner === 0n || isAlive(owner)) return false;
    return Atomics.compareExchange(this.#owner, 0, owner, SELF_THREAD) === owner;
  }

  /** A blocking lock() by the thread that holds the lock could never return. */
  #checkNotMine(): void {
    if (Atomics.load(this.#owner, 0) === SELF_THREAD) {
      throw shmError('EDEADLK', 'EDEADLK: this thread already holds the mutex (it is not recursive)');
    }
  }

  /** Takes the lock if it is free or its owner is dead; null if a live owner holds it. */
  tryLock(): Locked | null {
    if (this.#take()) return LOCKED;
    this.#checkNotMine();
    return this.#takeOver() ? LOCKED_OWNER_DIED : null;
  }

  /**
   * A blocking lock for the wait loop (waiting.ts): takes the lock when it is free, and each
   * OWNER_CHECK_INTERVAL_MS of parking takes it over if its owner died (then the next
   * attempt reports ownerDied). One per call: the takeover belongs to that call.
   */
  #lockJob(): WaitJob<Locked> {
    let tookOver = false;
    return {
      what: 'mutex lock',
      attempt: () => (this.#take() ? LOCKED : tookOver ? LOCKED_OWNER_DIED : null),
      point: this.#point,
      spin: true,
      check: () => {
        tookOver ||= this.#takeOver();
      },
      checkEveryMs: OWNER_CHECK_INTERVAL_MS,
    };
  }

  /** Takes the lock, blocking the thread; ERR_TIMEOUT after `timeout` ms. */
  lock(opts?: LockOptions): Locked {
    if (opts !== undefined) checkTimeout(checkOptions(opts).timeout);
    if (this.#take()) return LOCKED;
    this.#checkNotMine();
    return waitSync(this.#strategy, this.#lockJob(), opts);
  }

  /**
   * As lock(), without blocking the event loop; abortable. Another async task of this
   * thread may hold the lock: that is contention, not a deadlock, since this task does not
   * block the thread while it waits.
   */
  lockAsync(opts?: LockAsyncOptions): Promise<Locked> {
    return waitAsync(this.#strategy, this.#lockJob(), opts, this.#closing, closedSegmentOf('mutex'));
  }

  /** Releases the lock; ERR_NOT_OWNER if this thread does not hold it. */
  unlock(): void {
    this.#checkOpen();
    const owner = Atomics.load(this.#owner, 0);
    if (owner !== SELF_THREAD) {
      throw shmError('ERR_NOT_OWNER', owner === 0n ? 'unlock of a mutex that is not locked' : 'unlock of a mutex held by another thread or process');
    }
    // Release store: the protected data written before it is visible to the next owner.
    Atomics.store(this.#owner, 0, 0n);
    this.#strategy.wake(this.#point, 1);
  }
}
