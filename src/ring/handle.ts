// What a handle of either ring kind is, apart from its protocol: its address and the
// segment it may own, open/closed/broken state, its wait strategy, blocking through the
// one wait loop (sync/waiting.ts), the checks and counters both kinds share, and the
// async iteration both offer. Owns no shared bytes.
import { badHeaderError, closedError, rangeError, type ShmError, shmError, truncatedError, typeError } from '../errors.js';
import { faultWord, faultWordOfBuffer, type Segment } from '../segment/segment.js';
import { type BlockOptions, waitAsync, type WaitJob, waitSync } from '../sync/waiting.js';
import { defaultWaitStrategy, WaitStrategy } from '../sync/wait-strategy.js';
import { closeWithSegment, forgetRing, type Located } from './target.js';

/** The fault word of a ring over a SharedArrayBuffer that is no mapping of this process: never set. */
const NO_FAULT = new Int32Array(new SharedArrayBuffer(4));

/** Counters of this handle (not of the ring): what this process did through it. */
export interface RingStats {
  messages: number;
  bytes: number;
  /** Times a write found the ring full and had to wait (or returned false). */
  fullWaits: number;
  /** Times a read found the ring empty and had to wait (or returned null). */
  emptyWaits: number;
}

export function checkStrategy(value: unknown): WaitStrategy {
  if (value === undefined) return defaultWaitStrategy;
  if (!(value instanceof WaitStrategy)) throw typeError('strategy', value, 'a WaitStrategy');
  return value;
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Checks the arguments of drain(fn, max). */
export function checkDrain(fn: unknown, max: unknown): void {
  if (typeof fn !== 'function') throw typeError('fn', fn, 'a function');
  if (typeof max !== 'number' || Number.isNaN(max) || max < 0) throw rangeError('max', max, 'a number >= 0');
}

/** Runs `make` for open(): a segment the ring opened itself from an address is closed if it throws. */
export function openingIn<T>(located: Located, make: () => T): T {
  try {
    return make();
  } catch (err) {
    located.owned?.close();
    throw err;
  }
}

/** The lifecycle and blocking of one ring handle (held by the ring, never exported). */
export class RingHandle {
  readonly address: string;
  readonly strategy: WaitStrategy;
  readonly #closing = new AbortController();
  readonly #owned: Segment | undefined;
  readonly #segment: Segment | undefined;
  readonly #ring: { close(): void };
  closed = false;
  /** Set once a shared value broke an invariant: every later call throws it. */
  broken: ShmError | undefined;
  /**
   * The segment's fault word (Segment.truncated): [0] is 1 once the object was truncated
   * under the mapping. Read once per write or read call, after its last shared access, so
   * that the call during which (or after which) the fault happened reports it.
   */
  readonly fault: Int32Array;

  /** `ring` is closed with its segment (see target.ts). */
  constructor(located: Located, strategy: WaitStrategy, ring: { close(): void }) {
    this.address = located.address;
    this.strategy = strategy;
    this.#owned = located.owned;
    this.#segment = located.segment;
    this.fault = located.segment !== undefined ? faultWord(located.segment) : (faultWordOfBuffer(located.buffer) ?? NO_FAULT);
    this.#ring = ring;
    closeWithSegment(located.segment, ring);
  }

  checkOpen(): void {
    if (this.closed) throw closedError(`ring ${this.address}`);
    if (this.broken !== undefined) throw this.broken;
  }

  /**
   * Marks the ring unusable: a shared value broke an invariant (corruption or a hostile
   * writer), or the segment was truncated under it and now reads as zeros.
   */
  corrupt(reason: string): never {
    this.checkIntact();
    this.broken = badHeaderError(`corrupt ring: ${reason}`, this.address);
    throw this.broken;
  }

  /**
   * ERR_SHM_TRUNCATED, for good, once the segment was truncated under the ring (see
   * Segment.truncated). One load of the fault word. Every write and read call loads it once
   * after its last shared access and comes here when it is set (SpscSide.checkFault,
   * Slots): the call that faulted, or the first one after the fault, throws, so a write that
   * returned was written to memory the peer shares. The slow paths (opening a side, a ring
   * found full or empty, blocking calls and their periodic checks) call it too.
   */
  checkIntact(): void {
    if (this.fault[0] !== 0) this.truncated();
  }

  /** Marks the ring broken by the truncation its fault word reports, and throws ERR_SHM_TRUNCATED. */
  truncated(): never {
    this.broken = truncatedError(this.address);
    throw this.broken;
  }

  /** checkOpen, then checkIntact: for the slow paths that open or re-check a side. */
  checkUsable(): void {
    this.checkOpen();
    this.checkIntact();
  }

  /**
   * Whether this ring may still publish: not broken, and its segment not truncated (which
   * breaks it now). For flush and close, which skip their shared writes on a broken ring.
   */
  sound(): boolean {
    if (this.broken === undefined && this.fault[0] !== 0) this.broken = truncatedError(this.address);
    return this.broken === undefined;
  }

  /** ERR_MESSAGE_TOO_LARGE for a message of `length` bytes when at most `max` fit. */
  checkLength(length: number, max: number, why: string): void {
    if (length > max) throw shmError('ERR_MESSAGE_TOO_LARGE', `a message of ${length} bytes ${why} (at most ${max})`);
  }

  /** Blocks the thread until job gives a value (see sync/waiting.ts). */
  waitSync<T>(job: WaitJob<T>, options: BlockOptions | undefined): T {
    this.checkIntact();
    return waitSync(this.strategy, job, options);
  }

  /** As waitSync without blocking the event loop; ERR_CLOSED when this handle closes meanwhile. */
  waitAsync<T>(job: WaitJob<T>, options: BlockOptions | undefined): Promise<T> {
    try {
      this.checkIntact();
    } catch (err) {
      return Promise.reject(err);
    }
    return waitAsync(this.strategy, job, options, this.#closing.signal, `ring ${this.address}`);
  }

  /** Ends the handle: settles pending async waits with ERR_CLOSED, closes a segment the ring opened itself. */
  end(): void {
    this.closed = true;
    this.#closing.abort();
    forgetRing(this.#segment, this.#ring);
    this.#owned?.close();
  }
}

/** Messages from `read` until it fails with ERR_CLOSED (`ended` says whether an error ends the stream). */
export async function* messages(read: () => Promise<Uint8Array>, ended: (err: unknown) => boolean): AsyncGenerator<Uint8Array> {
  for (;;) {
    try {
      yield await read();
    } catch (err) {
      if (ended(err)) return;
      throw err;
    }
  }
}
