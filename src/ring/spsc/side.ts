// What the producer side and the consumer side of one SPSC handle share: the views and
// geometry of the ring, the publication modes, the check of a pair of positions, and the
// base class of both sides. Owns no position of either side (see producer.ts, consumer.ts).
import type { WaitPoint, WaitStrategy } from '../../sync/wait-strategy.js';
import { defer, type FlushHeld, setCorked } from '../batching.js';
import type { RingHandle } from '../handle.js';
import type { Payload } from '../payload.js';

/** When a side makes its work visible: before each call returns (the default)... */
export const PUBLISH_EACH = 0;
/** ...by the end of the task (batching: 'task')... */
export const BATCH_TASK = 1;
/** ...or once per batch until uncork(). */
export const CORKED = 2;

/**
 * Most bytes a batch may hold back: large enough to amortise the fenced store over dozens
 * of small messages, small enough that a consumer spinning for data sees the next batch
 * before its spin budget runs out and it parks.
 */
export const BATCH_BYTES = 4096;

/** The ring as both sides see it, built once per handle by ring.ts. */
export interface SpscParts {
  handle: RingHandle;
  /** The ring's Int32Array, from its byteOffset. */
  i32: Int32Array;
  capacity: number;
  maxMessageSize: number;
  payload: Payload;
  /** The consumer sleeps on the tail, announcing itself in the consumer waiters word. */
  dataPoint: WaitPoint;
  /** The producer sleeps on the head, announcing itself in the producer waiters word. */
  spacePoint: WaitPoint;
  /** PUBLISH_EACH or BATCH_TASK, as asked at create/open. */
  batching: number;
  /** Takes this side's role (ERR_ROLE_TAKEN, ERR_CLOSED, ...) and resumes at the published positions. */
  takeRole: () => void;
  /** Whether the holder of the other side's role is known to be dead. */
  peerDead: () => boolean;
}

/** The bytes a batch may hold for a ring of this capacity (an eighth of a small ring). */
export function batchBytes(capacity: number): number {
  return Math.min(capacity / 8, BATCH_BYTES);
}

/** Whether `tail` and `head` can be positions of a ring of `capacity`. */
export function goodPositions(capacity: number, tail: number, head: number): boolean {
  return ((tail | head) & 7) === 0 && ((tail - head) >>> 0) <= capacity;
}

/** Why `tail` and `head` (not goodPositions) cannot be positions of a ring of `capacity`. */
export function badPositions(capacity: number, tail: number, head: number): string {
  if ((tail | head) & 7) return `misaligned position (tail ${tail}, head ${head})`;
  return `tail ${tail} and head ${head} are more than the capacity apart`;
}

/**
 * What each side keeps of the ring, and the steps both take: opening the fast path,
 * checking positions, holding work back for batching. The fields are plain properties of
 * the side object itself (not of a shared one) so that V8 keeps the hot loads of a write
 * or read on one object. Measured in one process: 64-byte tryWrite bursts of 64 and drain,
 * per-task batched, run as fast with the two sides as with one object holding both (within
 * the run-to-run spread, 12.7–15.3 M msg/s).
 */
export abstract class SpscSide {
  protected readonly h: RingHandle;
  protected readonly i32: Int32Array;
  protected readonly capacity: number;
  protected readonly mask: number;
  protected readonly max: number;
  protected readonly payload: Payload;
  /** The segment's fault word (RingHandle.fault), loaded once per write or read call. */
  protected readonly fault: Int32Array;
  protected readonly strategy: WaitStrategy;
  protected readonly parts: SpscParts;
  protected readonly batchBytes: number;
  /** The fast path is open: the role is held, the handle open (and, for a producer, no claim pending). */
  protected ready = false;
  /** PUBLISH_EACH, BATCH_TASK or CORKED. */
  protected hold: number;
  /** Registered in this thread's list of work held to the end of the task (batching.ts). */
  protected deferred = false;
  readonly #flushHeld: FlushHeld = () => {
    this.deferred = false;
    this.flush();
  };

  constructor(parts: SpscParts) {
    this.parts = parts;
    this.h = parts.handle;
    this.i32 = parts.i32;
    this.capacity = parts.capacity;
    this.mask = parts.capacity - 1;
    this.max = parts.maxMessageSize;
    this.payload = parts.payload;
    this.fault = parts.handle.fault;
    this.strategy = parts.handle.strategy;
    this.batchBytes = batchBytes(parts.capacity);
    this.hold = parts.batching;
  }

  /** Publishes (releases) what this side holds, if the handle is open and sound. */
  abstract flush(): void;

  /** One attempt of a blocking operation around `op` (null: must wait); see waits.ts. */
  abstract attempt<T>(op: () => T | null): T | null;

  /** For a blocked call: throws (ERR_CLOSED, ERR_PEER_DEAD) when waiting cannot help. */
  abstract checkWaiting(): void;

  /** Counts a call that found the ring full (producer) or empty (consumer) and waits. */
  abstract countWait(): void;

  /** Opens the fast path, or throws why this handle cannot use this side now. */
  protected open(): void {
    this.h.checkUsable();
    this.parts.takeRole();
    this.ready = true;
  }

  /** ERR_MESSAGE_TOO_LARGE for a message of `length` bytes, more than a record of this ring holds. */
  protected checkFits(length: number): void {
    this.h.checkLength(length, this.max, 'can never fit this ring');
  }

  /**
   * V8: the check is a boolean and the reason is built only when it fails. A helper that
   * returned the reason or undefined had V8 convert both positions to strings on every call
   * once inlined (NumberToString was 9% of a write-read loop's profile, ~40 ns a message).
   */
  protected checkPositions(tail: number, head: number): void {
    if (!goodPositions(this.capacity, tail, head)) this.corrupt(badPositions(this.capacity, tail, head));
  }

  /**
   * For a call whose fault word load found it set: the segment was truncated, so what this
   * call wrote or read went to (or came from) private zero pages. Closes the fast path and
   * throws ERR_SHM_TRUNCATED (see RingHandle.checkIntact).
   */
  protected truncated(): never {
    this.ready = false;
    return this.h.truncated();
  }

  /** Closes the fast path and marks the ring broken (see RingHandle.corrupt). */
  protected corrupt(reason: string): never {
    this.ready = false;
    return this.h.corrupt(reason);
  }

  /** Batching per task: makes sure what this side holds is flushed by the end of the task. */
  protected holdToTaskEnd(): void {
    if (!this.deferred) {
      this.deferred = true;
      defer(this.#flushHeld);
    }
  }

  /** Corks (true) or uncorks (false) this side; uncorking publishes (releases) what it held. */
  setCorked(on: boolean): void {
    if (!on) this.flush(); // while still corked: a producer probes what it held (Producer.#heldIntact)
    this.hold = on ? CORKED : this.parts.batching;
    setCorked(this.#flushHeld, on);
  }

  /** For close(): leaves the fast path and forgets any cork. */
  protected leave(): void {
    this.ready = false;
    setCorked(this.#flushHeld, false);
  }
}
