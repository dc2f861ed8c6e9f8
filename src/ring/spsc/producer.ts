// The producer side of an SPSC handle: reserving room (with a padding record at the
// wrap), copying or claiming records, and publishing them. Protocol: the payload, then the
// record header (length, type), then the tail with Atomics.store. Touches the consumer's
// head only by loading it; never writes the consumer line.
//
// V8: the fields of the write path (tail, room, mask, views) sit on this one object, and a
// write touches no other (SpscRing.tryWrite calls straight in), so its loads stay
// monomorphic and in registers; #writeOne repeats #reserve/#pad on purpose (see there).
import { checkBytes, rangeError, shmError, typeError } from '../../errors.js';
import type { WaitPoint } from '../../sync/wait-strategy.js';
import { flushDeferredIfAny } from '../batching.js';
import { dataWordIndex, HEAD_INDEX, payloadOffset, PRODUCER_CLOSED_INDEX, RECORD_HEADER_SIZE, recordLengthIndex, recordOffset, recordSize, recordTypeIndex, TAIL_INDEX, messageType, TYPE_PADDING } from '../layout/spsc.js';
import { type Claim, SpscClaim } from './claim.js';
import { CORKED, PUBLISH_EACH, type SpscParts, SpscSide } from './side.js';

export class Producer extends SpscSide {
  readonly #dataPoint: WaitPoint;
  // The next write position, what is published, and the free bytes as of the head last
  // seen (a write that fits needs no look at the head).
  #tail = 0;
  #publishedTail = 0;
  #room = 0;
  readonly #claim = new SpscClaim((claim, commit) => this.#finishClaim(claim, commit));
  messages = 0;
  bytes = 0;
  fullWaits = 0;

  constructor(parts: SpscParts) {
    super(parts);
    this.#dataPoint = parts.dataPoint;
  }

  /** After the role was taken: resume at the published tail (bytes past it were never published). */
  resume(): void {
    const tail = Atomics.load(this.i32, TAIL_INDEX) >>> 0;
    const head = Atomics.load(this.i32, HEAD_INDEX) >>> 0;
    this.#tail = this.#publishedTail = tail;
    Atomics.store(this.i32, PRODUCER_CLOSED_INDEX, 0);
    this.checkPositions(tail, head);
    this.#room = this.capacity - ((tail - head) >>> 0);
  }

  /** Opens the fast path, or throws why this handle cannot write now. */
  protected override open(): void {
    if (this.#claim.live) throw shmError('ERR_CLAIM_PENDING', 'commit() or abort() the pending claim first');
    super.open();
  }

  /**
   * Reserves room for a record of `size` bytes and returns its offset from the ring's start,
   * or -1 if the ring is full. Writes a padding record first if the record would cross the
   * end. (#writeOne repeats this inline.)
   */
  #reserve(size: number): number {
    let index = this.#tail & this.mask;
    const toEnd = this.capacity - index;
    const needed = size <= toEnd ? size : toEnd + size;
    if (this.#room < needed) {
      let head = Atomics.load(this.i32, HEAD_INDEX) >>> 0;
      if (this.capacity - ((this.#tail - head) >>> 0) < needed && flushDeferredIfAny()) head = Atomics.load(this.i32, HEAD_INDEX) >>> 0;
      this.checkPositions(this.#tail, head);
      this.#room = this.capacity - ((this.#tail - head) >>> 0);
      if (this.#room < needed) {
        // Room for the padding alone: write it now, so the record can start at 0 later.
        if (size > toEnd && this.#room >= toEnd) this.#pad(index, toEnd);
        return -1;
      }
    }
    if (size > toEnd) {
      this.#pad(index, toEnd);
      index = 0;
    }
    return recordOffset(index);
  }

  #pad(index: number, toEnd: number): void {
    const at = recordOffset(index);
    this.i32[recordLengthIndex(at)] = toEnd - RECORD_HEADER_SIZE;
    this.i32[recordTypeIndex(at)] = TYPE_PADDING;
    this.#tail = (this.#tail + toEnd) >>> 0;
    this.#room -= toEnd;
  }

  /** Writes the header of the record at `at`, whose payload is in place, and moves the tail past it (unpublished). */
  #commitRecord(at: number, length: number, size: number, tag = 0): void {
    this.i32[recordLengthIndex(at)] = length;
    this.i32[recordTypeIndex(at)] = messageType(tag);
    this.#tail = (this.#tail + size) >>> 0;
    this.#room -= size;
    this.messages++;
    this.bytes += length;
  }

  /**
   * Writes one record (unpublished) if it fits now; the fast path is open. Once a lap the
   * tail reaches the end or the room counted runs out: the padding record and the look at
   * the consumer's head are written out here rather than called (#reserve, #pad), because a
   * function that runs once a lap is too seldom run for V8 to optimize it, and running it
   * unoptimized cost over a microsecond between processes. A ring that looks full, a
   * message too large and a head that is not a valid position go to #writeChecked.
   */
  #writeOne(bytes: Uint8Array, tag = 0): boolean {
    const length = bytes.length;
    let index = this.#tail & this.mask;
    const size = recordSize(length);
    if (size > this.#room || size > this.capacity - index || length > this.max) {
      const toEnd = this.capacity - index;
      const needed = size <= toEnd ? size : toEnd + size;
      const room = this.capacity - ((this.#tail - Atomics.load(this.i32, HEAD_INDEX)) >>> 0);
      if (room < needed || (room & 7) !== 0 || length > this.max) return this.#writeChecked(bytes, tag);
      this.#room = room;
      if (size > toEnd) {
        const pad = recordOffset(index);
        this.i32[recordLengthIndex(pad)] = toEnd - RECORD_HEADER_SIZE;
        this.i32[recordTypeIndex(pad)] = TYPE_PADDING;
        this.#tail = (this.#tail + toEnd) >>> 0;
        this.#room -= toEnd;
        index = 0;
      }
    }
    const at = recordOffset(index);
    this.payload.write(bytes, payloadOffset(at));
    this.#commitRecord(at, length, size, tag);
    return true;
  }

  /** #writeOne for a ring that looks full: checks everything, and flushes this thread's held reads. */
  #writeChecked(bytes: Uint8Array, tag: number): boolean {
    const length = bytes.length;
    this.checkFits(length);
    const size = recordSize(length);
    const at = this.#reserve(size);
    if (at < 0) return false;
    this.payload.write(bytes, payloadOffset(at));
    this.#commitRecord(at, length, size, tag);
    return true;
  }

  /**
   * After a record is written (or a claim ends): published now unless batching was asked
   * for. Corked, once per batch. Per task, the first record of a burst (nothing deferred
   * since this thread last flushed) at once, so a consumer waiting for a reply or a lone
   * message sees it without delay; the rest when the consumer sleeps, when a batch is
   * pending, and by the end of this task at the latest. The waiters word is read with a
   * plain load: a hint for latency only; a consumer missed here is still woken, because
   * every publication checks the word with Atomics in wake(). Last, ERR_SHM_TRUNCATED if the
   * segment was truncated: loaded after the call's last shared store, a write that returns reached it.
   */
  #published(): void {
    const hold = this.hold;
    if (hold === PUBLISH_EACH) {
      this.#publish();
    } else if (hold === CORKED) {
      if (((this.#tail - this.#publishedTail) >>> 0) >= this.batchBytes) this.#publish();
    } else if (!this.deferred) {
      this.#publish();
      this.holdToTaskEnd(); // marks the burst: later records of this task wait for its end
    } else if (this.i32[this.#dataPoint.waiters] !== 0 || ((this.#tail - this.#publishedTail) >>> 0) >= this.batchBytes) {
      this.#publish();
    }
    if (this.fault[0] !== 0) this.truncated();
  }

  /**
   * Makes every record written so far visible to the consumer, and wakes it if it sleeps.
   * Records held back (batching) are published only if their pages are still the segment's.
   */
  #publish(): void {
    if (this.#tail === this.#publishedTail) return;
    if (this.hold !== PUBLISH_EACH && !this.#heldIntact()) return;
    this.#publishedTail = this.#tail;
    // Release store: the consumer that loads this tail sees every payload byte and record
    // header written before it.
    Atomics.store(this.i32, TAIL_INDEX, this.#tail | 0);
    this.strategy.wake(this.#dataPoint, 1);
  }

  /**
   * Whether the records held since the last publication are still in the segment. Earlier
   * calls wrote them to the shared pages, and a truncation since then took those pages
   * away without a fault in this process (publishing touches only the header, which a cut
   * keeps). Every held page past the object's new end is at or below the highest held
   * word, so one load there faults if any is gone: the SIGBUS guard then sets the fault
   * word. A cut that ends inside that last page zeroes its tail without a fault: not seen.
   */
  #heldIntact(): boolean {
    const last = (this.#tail - 4) & this.mask;
    let probe = this.i32[dataWordIndex(last)]!;
    // Held records that wrap: the highest held word is the data's last.
    if ((this.#publishedTail & this.mask) > last) probe ^= this.i32[dataWordIndex(this.capacity - 4)]!;
    this.#probe = probe;
    return this.fault[0] === 0;
  }

  /** The last probe's value: the loads are used, so no compiler may drop them as dead code. */
  #probe = 0;

  /** Publishes what this side wrote, if it is the producer of an open, sound ring. */
  flush(): void {
    if (this.h.closed || !this.h.sound()) return;
    this.#publish();
  }

  tryWrite(bytes: Uint8Array): boolean {
    if (!(bytes instanceof Uint8Array)) checkBytes(bytes);
    return this.tryWriteTagged(bytes, 0);
  }

  /** tryWrite of a record with `tag` in its type word (0..MAX_TAG, unchecked: for the transport, which checks `bytes` too). */
  tryWriteTagged(bytes: Uint8Array, tag: number): boolean {
    if (!this.ready) this.open();
    if (this.#writeOne(bytes, tag)) {
      this.#published();
      return true;
    }
    this.countWait(); // ERR_SHM_TRUNCATED for a truncated segment, which looks full
    this.#publish(); // looks full: let the consumer see everything so it can make room
    return false;
  }

  /** The fast path of write() and writeAsync() without options: true if written and published. */
  tryWriteFast(bytes: Uint8Array): boolean {
    if (this.ready && bytes instanceof Uint8Array && this.#writeOne(bytes)) {
      this.#published();
      return true;
    }
    return false;
  }

  tryWriteMany(messages: readonly Uint8Array[]): number {
    if (!Array.isArray(messages)) throw typeError('messages', messages, 'an array of Uint8Array');
    for (let i = 0; i < messages.length; i++) checkBytes(messages[i]);
    if (!this.ready) this.open();
    let n = 0;
    try {
      while (n < messages.length && this.#writeOne(messages[n]!)) {
        n++;
        if (((this.#tail - this.#publishedTail) >>> 0) >= this.batchBytes) this.#publish();
      }
    } finally {
      // Corked, the last records wait for uncork() like any others, unless the ring is full.
      if (this.hold !== CORKED || n < messages.length) this.#publish();
    }
    if (this.fault[0] !== 0) this.truncated();
    if (n < messages.length) this.countWait();
    return n;
  }

  /**
   * One attempt of a blocking producer operation around `put` (null while the ring is
   * full); an attempt that fails publishes what is written, so a consumer that must make
   * room sees it all (see waits.ts).
   */
  attempt<T>(put: () => T | null): T | null {
    if (!this.ready) this.open();
    const value = put();
    if (value === null) this.#publish();
    else this.#published();
    return value;
  }

  countWait(): void {
    this.h.checkIntact();
    this.fullWaits++;
  }

  /** For a blocked producer: ERR_CLOSED, ERR_PEER_DEAD when waiting cannot help. */
  checkWaiting(): void {
    this.h.checkUsable();
    if (this.parts.peerDead()) throw shmError('ERR_PEER_DEAD', 'the consumer died while the ring was full');
  }

  /** Checks a message for a blocking write and opens the fast path; then writeOne(bytes) attempts it. */
  checkWrite(bytes: Uint8Array): void {
    checkBytes(bytes);
    if (!this.ready) this.open();
    this.checkFits(bytes.length);
  }

  /** Writes one record if it fits now (unpublished: attempt() publishes). */
  writeOne(bytes: Uint8Array): true | null {
    return this.#writeOne(bytes) ? true : null;
  }

  // ---- claims --------------------------------------------------------------------------

  tryClaim(length: number): Claim | null {
    this.checkClaim(length);
    const claim = this.claimNow(length);
    if (claim === null) {
      this.countWait();
      this.#publish(); // looks full (and a padding record may have been written)
    }
    return claim;
  }

  /** Checks a claim's length and opens the fast path. */
  checkClaim(length: number): void {
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) throw rangeError('length', length, 'an integer >= 0');
    if (!this.ready) this.open();
    this.checkFits(length);
  }

  /** The claim of `length` checked bytes if they fit now, else null. */
  claimNow(length: number): Claim | null {
    const at = this.#reserve(recordSize(length));
    if (at < 0) return null;
    const claim = this.#claim;
    claim.bytes = this.payload.view(payloadOffset(at), length);
    claim.at = at;
    claim.length = length;
    claim.live = true;
    this.ready = false; // other writes throw ERR_CLAIM_PENDING until the claim ends
    return claim;
  }

  #finishClaim(claim: SpscClaim, commit: boolean): void {
    if (!claim.live) throw shmError('ERR_CLAIM_DONE', 'this claim was already committed or aborted');
    claim.live = false;
    this.h.checkOpen();
    if (commit) this.#commitRecord(claim.at, claim.length, recordSize(claim.length), claim.tag);
    this.ready = true;
    this.#published(); // a padding record may have been written even for an abort
  }

  /**
   * For close(): drops a pending claim, publishes everything, then marks the end of the
   * stream (after the tail: a consumer that sees the flag and nothing to read is done).
   */
  closeSide(): void {
    this.leave();
    this.#claim.live = false;
    this.#publish();
    Atomics.store(this.i32, PRODUCER_CLOSED_INDEX, 1);
    this.strategy.wake(this.#dataPoint);
  }

  /** For close() of a handle that is not (or no longer soundly) the producer. */
  forget(): void {
    this.leave();
  }
}
