// The sending half of a Channel: encoded messages go into the outbound ring as frames
// (framing.ts) while they fit, and wait in order in an in-process queue when they do not.
// It never blocks, except at process exit (writeAllBlocking), and never drops a message.
import { FIRST, FRAME_HEADER, MORE, WHOLE, writeFrameHeader } from './framing.js';
import type { Claim, SpscRing } from './rings.js';

interface Queued {
  bytes: Uint8Array;
  /** How many bytes of `bytes` are in the ring already (frames are cut by offset). */
  offset: number;
}

export class Outbox {
  readonly #ring: SpscRing;
  /** Largest piece of a message one record carries. */
  readonly #pieceMax: number;
  #queue: Queued[] = [];
  #head = 0;
  #queuedBytes = 0;
  /** Messages given to send(), and of those the ones wholly in the ring. */
  #sent = 0;
  #written = 0;
  #afterWritten: Array<{ target: number; callback: (error?: Error) => void }> = [];

  constructor(ring: SpscRing, pieceMax: number) {
    this.#ring = ring;
    this.#pieceMax = pieceMax;
  }

  /** Bytes waiting in this process for room in the ring; stale as soon as the peer reads. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  get empty(): boolean {
    return this.#head === this.#queue.length;
  }

  /**
   * Writes `bytes` now if nothing waits before it and it fits; otherwise queues what is
   * left (a copy when `fresh` is false: the caller may rewrite its buffer). True if all of
   * it is in the ring (unpublished until the ring is flushed).
   */
  send(bytes: Uint8Array, fresh: boolean): boolean {
    let offset = 0;
    this.#sent++;
    if (this.empty) {
      const written = this.#writeFrames(bytes, 0);
      if (written === bytes.length) {
        this.#written++;
        return true;
      }
      offset = Math.max(written, 0);
    }
    this.#queue.push({ bytes: fresh ? bytes : bytes.slice(), offset });
    this.#queuedBytes += bytes.length - offset;
    return false;
  }

  /** Writes queued messages while they fit; true once the queue is empty. */
  writeQueued(): boolean {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      if (!this.#advance(queue[this.#head]!)) {
        this.#settle();
        return false;
      }
      queue[this.#head++] = undefined!;
      this.#written++;
    }
    this.#settle();
    this.#queue = [];
    this.#head = 0;
    return true;
  }

  /**
   * At process exit: writes everything queued, waiting for room with the ring's blocking
   * claim (which the consumer's release wakes) for as long as the peer keeps making room,
   * giving up after `stallMs` without any. `beforeWait` runs before each claim (publish and
   * ring the peer). Throws ERR_TIMEOUT or ERR_PEER_DEAD when the peer stops reading.
   */
  writeAllBlocking(stallMs: number, beforeWait: () => void): void {
    const wait = (length: number): Claim => {
      beforeWait();
      return this.#ring.claim(length, { timeout: stallMs }); // each piece needs only a slice of the ring
    };
    while (this.#head < this.#queue.length) {
      const item = this.#queue[this.#head]!;
      const written = this.#writeFrames(item.bytes, item.offset, wait);
      this.#queuedBytes -= Math.max(written, item.offset) - item.offset;
      this.#queue[this.#head++] = undefined!;
      this.#written++;
    }
    this.#settle();
  }

  /**
   * Calls `callback` once every message sent so far is in the ring (on the next tick if
   * they all are now); endWritten() fails the rest when the channel ends first.
   */
  afterWritten(callback: (error?: Error) => void): void {
    if (this.#written >= this.#sent) process.nextTick(callback);
    else this.#afterWritten.push({ target: this.#sent, callback });
  }

  endWritten(reason: Error): void {
    this.#settle();
    for (const { callback } of this.#afterWritten.splice(0)) process.nextTick(callback, reason);
  }

  #settle(): void {
    const waiting = this.#afterWritten;
    if (waiting.length === 0) return;
    let n = 0;
    while (n < waiting.length && waiting[n]!.target <= this.#written) process.nextTick(waiting[n++]!.callback);
    if (n > 0) waiting.splice(0, n);
  }

  /** Writes what fits of a queued message; true once all of it is in the ring. */
  #advance(item: Queued): boolean {
    const written = this.#writeFrames(item.bytes, item.offset);
    if (written < 0) return false;
    this.#queuedBytes -= written - item.offset;
    item.offset = written;
    return written === item.bytes.length;
  }

  /**
   * Writes frames of `bytes` from `offset` while they fit; returns how far it got, or -1
   * when a message that fits one frame was not written (so a 0-byte message is told apart).
   */
  #writeFrames(bytes: Uint8Array, offset: number, claimNow?: (length: number) => Claim | null): number {
    const total = bytes.length;
    const claimFn = claimNow ?? ((length: number) => this.#ring.tryClaim(length));
    if (offset === 0 && total <= this.#pieceMax) {
      const claim = claimFn(FRAME_HEADER + total);
      if (claim === null) return -1;
      writeFrameHeader(claim.bytes, WHOLE, 0);
      claim.bytes.set(bytes, FRAME_HEADER);
      claim.commit();
      return total;
    }
    while (offset < total) {
      const n = Math.min(this.#pieceMax, total - offset);
      const claim = claimFn(FRAME_HEADER + n);
      if (claim === null) return offset;
      writeFrameHeader(claim.bytes, offset === 0 ? FIRST : MORE, offset === 0 ? total : 0);
      claim.bytes.set(bytes.subarray(offset, offset + n), FRAME_HEADER);
      claim.commit();
      offset += n;
    }
    return offset;
  }
}
