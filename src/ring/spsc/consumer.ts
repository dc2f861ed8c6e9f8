// The consumer side of an SPSC handle: finding the next record (skipping padding, checking
// every shared value before using it), copying or viewing it, and releasing its space.
// Protocol: load the tail first, read the records before it, then store the new head.
// Touches the producer's tail only by loading it; never writes the producer line.
//
// V8: the fields of the read path sit on this one object, and a read touches no other
// (SpscRing.tryRead calls straight in), so its loads stay monomorphic.
import { shmError, typeError } from '../../errors.js';
import type { WaitPoint } from '../../sync/wait-strategy.js';
import { flushDeferredIfAny } from '../batching.js';
import { checkDrain } from '../handle.js';
import {
  HEAD_INDEX,
  payloadOffset,
  PRODUCER_CLOSED_INDEX,
  RECORD_HEADER_SIZE,
  recordLengthIndex,
  recordOffset,
  recordSize,
  recordTypeIndex,
  spscRingSize,
  TAIL_INDEX,
  MAX_TAG,
  TAG_SHIFT,
  TYPE_MESSAGE,
  TYPE_PADDING,
} from '../layout/spsc.js';
import { ON_HEAP_MAX, POOLED_MAX } from '../payload.js';
import { READ_AHEAD_BYTES, ReadAhead } from './read-ahead.js';
import { BATCH_TASK, CORKED, PUBLISH_EACH, type SpscParts, SpscSide } from './side.js';

export class Consumer extends SpscSide {
  readonly #end: number;
  readonly #spacePoint: WaitPoint;
  readonly #ahead = new ReadAhead();
  // The next read position, what is released, and the tail last seen.
  #head = 0;
  #releasedHead = 0;
  #cachedTail = 0;
  /** Payload length and tag of the record #next() returned, as read and checked there. */
  #length = 0;
  #tag = 0;
  messages = 0;
  bytes = 0;
  emptyWaits = 0;

  constructor(parts: SpscParts) {
    super(parts);
    this.#end = spscRingSize(parts.capacity);
    this.#spacePoint = parts.spacePoint;
  }

  /**
   * After the role was taken: resume at the released head (records taken but not released
   * by a dead consumer are delivered again).
   */
  resume(): void {
    const head = Atomics.load(this.i32, HEAD_INDEX) >>> 0;
    this.#head = this.#releasedHead = head;
    this.#cachedTail = Atomics.load(this.i32, TAIL_INDEX) >>> 0;
    this.checkPositions(this.#cachedTail, head);
  }

  /**
   * The byte offset of the next message record, skipping padding, or -1 if none is
   * published. Validates every shared value before using it as an index.
   */
  #next(): number {
    for (;;) {
      let available = (this.#cachedTail - this.#head) >>> 0;
      if (available === 0) {
        let tail = Atomics.load(this.i32, TAIL_INDEX) >>> 0;
        if (tail === this.#head && flushDeferredIfAny()) tail = Atomics.load(this.i32, TAIL_INDEX) >>> 0;
        this.checkPositions(tail, this.#releasedHead);
        this.#cachedTail = tail;
        available = (tail - this.#head) >>> 0;
        if (available === 0) return -1;
      }
      const index = this.#head & this.mask;
      const at = recordOffset(index);
      const length = this.i32[recordLengthIndex(at)]!;
      const type = this.i32[recordTypeIndex(at)]!;
      if ((type & ~(MAX_TAG << TAG_SHIFT)) === TYPE_MESSAGE) {
        if (length < 0 || length > this.max) this.corrupt(`record length ${length} at position ${this.#head}`);
        const size = recordSize(length);
        if (size > available || index + size > this.capacity) this.corrupt(`record of ${length} bytes at position ${this.#head} overruns the published data`);
        // Read once and checked: callers use this, never the shared word again (a hostile
        // writer could change it after the check).
        this.#length = length;
        this.#tag = type >>> TAG_SHIFT;
        return at;
      }
      if (type !== TYPE_PADDING) this.corrupt(`record type ${type} at position ${this.#head}`);
      const toEnd = this.capacity - index;
      if (length !== toEnd - RECORD_HEADER_SIZE || toEnd > available) this.corrupt(`padding of ${length} bytes at position ${this.#head}`);
      this.#head = (this.#head + toEnd) >>> 0;
    }
  }

  /**
   * After a record is read: released now unless batching was asked for (corked or per
   * task: once a batch is held, else by uncork() or the end of the task); then
   * ERR_SHM_TRUNCATED if the segment was truncated under the ring, so that a message
   * returned was copied from the shared pages, not from zero pages (the fault word is
   * loaded after the last shared access of the call).
   */
  #released(): void {
    if (this.hold === PUBLISH_EACH || ((this.#head - this.#releasedHead) >>> 0) >= this.batchBytes) {
      this.#release();
    } else if (this.hold === BATCH_TASK) {
      this.holdToTaskEnd();
    }
    if (this.fault[0] !== 0) this.truncated();
  }

  /** Moves past a message record of `size` bytes (payload `length`) and counts it. */
  #consumed(length: number, size: number): void {
    this.#head = (this.#head + size) >>> 0;
    this.messages++;
    this.bytes += length;
  }

  /** As #consumed, for a record read from the ring itself: the read-ahead copy is dropped (see ReadAhead.drop). */
  #consumedFromRing(length: number): void {
    this.#consumed(length, recordSize(length));
    this.#ahead.drop();
  }

  /**
   * Gives the space of consumed records back to the producer, and wakes it if it sleeps on
   * a full ring (wake() looks at the waiters word first: no syscall while it does not): a
   * producer waiting for room is never held up by a consumer that then works elsewhere.
   */
  #release(): void {
    if (this.#head === this.#releasedHead) return;
    this.#releasedHead = this.#head;
    // Release store: the producer may overwrite these bytes once it loads this head.
    Atomics.store(this.i32, HEAD_INDEX, this.#head | 0);
    this.strategy.wake(this.#spacePoint, 1);
  }

  /** Takes the next message as a copy the caller owns, or null if none is published. */
  #take(): Uint8Array | null {
    const ahead = this.#ahead.take(this.#head);
    if (ahead !== null) {
      this.#consumed(this.#ahead.length, recordSize(this.#ahead.length));
      return ahead;
    }
    const at = this.#next();
    if (at < 0) return null;
    const length = this.#length;
    const size = recordSize(length);
    // A large message gets a buffer of its own; so does a lone small one (a request/response
    // exchange): V8 allocates it on its heap, for less than a view of a pool chunk.
    if (length > POOLED_MAX || (length <= ON_HEAP_MAX && ((this.#cachedTail - this.#head) >>> 0) === size)) {
      const copy = this.payload.copy(payloadOffset(at), length);
      this.#consumedFromRing(length);
      return copy;
    }
    const n = Math.min((this.#cachedTail - this.#head) >>> 0, this.#end - at, READ_AHEAD_BYTES);
    this.#ahead.fill(this.payload, at, n, this.#head, size);
    const message = this.#ahead.take(this.#head);
    // #next() checked this record in the ring; its copy no longer agrees: a hostile writer.
    if (message === null) this.corrupt(`record at position ${this.#head} changed while it was read`);
    this.#consumed(length, size);
    return message;
  }

  /** A read found the ring empty: give back everything read so far, and count it. */
  #foundEmpty(): void {
    this.h.checkIntact(); // a truncated segment looks empty or corrupt: say which
    this.#release();
    this.emptyWaits++;
  }

  tryRead(): Uint8Array | null {
    if (!this.ready) this.open();
    const message = this.#take();
    if (message !== null) {
      this.#released();
      return message;
    }
    this.#foundEmpty();
    return null;
  }

  /** The fast path of read() without options: a message, or null to go through the wait loop. */
  readFast(): Uint8Array | null {
    if (!this.ready) return null;
    const message = this.#take();
    if (message !== null) this.#released();
    return message;
  }

  tryReadInto(target: Uint8Array): number {
    if (!(target instanceof Uint8Array)) throw typeError('target', target, 'a Uint8Array or Buffer');
    if (!this.ready) this.open();
    const length = this.#takeInto(target);
    if (length >= 0) {
      this.#released();
      return length;
    }
    this.#foundEmpty();
    return -1;
  }

  /** The fast path of readInto() without options: the length, or -1 to go through the wait loop. */
  readIntoFast(target: Uint8Array): number {
    if (!this.ready) return -1;
    const length = this.#takeInto(target);
    if (length >= 0) this.#released();
    return length;
  }

  #takeInto(target: Uint8Array): number {
    // The read-ahead copy only mirrors unreleased ring bytes: reading the ring itself is
    // always right, and leaves the copy valid for the records after this one.
    const at = this.#next();
    if (at < 0) return -1;
    const length = this.#length;
    if (length > target.length) {
      throw new RangeError(`target of ${target.length} bytes cannot hold the next message (${length} bytes); it stays in the ring`);
    }
    this.payload.copyTo(payloadOffset(at), length, target);
    this.#consumedFromRing(length);
    return length;
  }

  drain(fn: (view: Uint8Array, tag: number) => void, max: number): number {
    checkDrain(fn, max);
    if (!this.ready) this.open();
    let n = 0;
    try {
      while (n < max) {
        const at = this.#next();
        if (at < 0) break;
        const length = this.#length;
        this.#consumedFromRing(length);
        n++;
        // fn never gets a view of pages known to be zeros; a fault while fn reads it is reported after the loop.
        if (this.fault[0] !== 0) this.truncated();
        fn(this.payload.view(payloadOffset(at), length), this.#tag);
        // fn is done with every view so far: a batch's worth goes back to the producer now.
        if (((this.#head - this.#releasedHead) >>> 0) >= this.batchBytes) this.#release();
      }
    } finally {
      // Corked, the last records wait for uncork() (an empty ring was released by #next).
      if (this.hold !== CORKED) this.#release();
    }
    if (this.fault[0] !== 0) this.truncated();
    if (n === 0) {
      this.h.checkIntact();
      this.emptyWaits++;
    }
    return n;
  }

  /** Whether a message can be read now (the fast path of waitReadable). */
  readable(): boolean {
    return this.ready && this.#next() >= 0;
  }

  /**
   * One attempt of a blocking consumer operation around `take` (null while the ring is
   * empty): ends in ERR_CLOSED once the producer closed the ring and everything was read
   * (see waits.ts).
   */
  attempt<T>(take: () => T | null): T | null {
    if (!this.ready) this.open();
    const value = take();
    if (value !== null) {
      this.#released();
      return value;
    }
    this.#release(); // about to wait: give everything back first
    // The producer publishes before it sets the closed flag: with the flag seen and still
    // nothing to read, the stream has ended.
    if (Atomics.load(this.i32, PRODUCER_CLOSED_INDEX) === 1 && this.#next() < 0) {
      throw shmError('ERR_CLOSED', 'the producer closed the ring and every message was read');
    }
    return null;
  }

  countWait(): void {
    this.h.checkIntact();
    this.emptyWaits++;
  }

  /** For a blocked consumer: ERR_CLOSED, or ERR_PEER_DEAD once the producer died and everything it published was read. */
  checkWaiting(): void {
    this.h.checkUsable();
    if (this.parts.peerDead() && this.#next() < 0) throw shmError('ERR_PEER_DEAD', 'the producer died and every message it published was read');
  }

  /** Opens the fast path (or throws why this handle cannot read). */
  enter(): void {
    if (!this.ready) this.open();
  }

  /** The next message as a copy (unreleased: attempt() releases), or null. */
  take(): Uint8Array | null {
    return this.#take();
  }

  /** The next message copied into `target`: its length, or null if none (unreleased). */
  takeInto(target: Uint8Array): number | null {
    const length = this.#takeInto(target);
    return length < 0 ? null : length;
  }

  /** True if a message can be read now, else null (for waitReadable). */
  peek(): true | null {
    return this.#next() >= 0 ? true : null;
  }

  /** Releases what this side read, if the handle is open and sound. */
  flush(): void {
    if (this.h.closed || !this.h.sound()) return;
    this.#release();
  }

  /** For close(): releases everything read (unless broken) and leaves the fast path. */
  closeSide(): void {
    this.leave();
    if (this.h.sound()) this.#release();
  }
}
