// The sending half of a Channel: encoded messages go into the outbound ring as frames
// (framing.ts) while they fit, and wait in order in an in-process queue when they do not;
// a pass of writes ends (publish, ring a sleeping peer) at the end of the task or when the
// ring is full. It never blocks, except at process exit (writeAllAtExit) and when asked to
// (flushSync, for threads whose loop may not run again soon), and never drops a message.
// It owns no events: its host (the Channel) publishes, refs, drains and closes.
import { checkInteger, shmError, typeError } from '../errors.js';
import type { Codec } from './codec.js';
import { FIRST, FRAME_HEADER, MORE, WHOLE, writeFrameHeader } from './framing.js';
import type { Claim, SpscRing } from './rings.js';

interface Queued {
  bytes: Uint8Array;
  /** How many bytes of `bytes` are in the ring already (frames are cut by offset). */
  offset: number;
}

/** What the Outbox needs from its Channel. */
export interface OutboxHost {
  /** Publishes what was written and rings the peer if it sleeps. */
  endPass(): void;
  /** Announces that this side waits for room (the peer rings when it frees some). */
  askForRoom(): void;
  updateRef(): void;
  /** The queue emptied; `drain`: a post() returned false since the last time. */
  emptied(drain: boolean): void;
}

/** The sizes an Outbox works with. */
export interface OutboxSizes {
  /** Largest piece of a message one record carries. */
  pieceMax: number;
  /** Largest message the channel allows. */
  maxMessage: number;
  /** Queued bytes from which post() returns false. */
  highWaterMark: number;
}

export class Outbox {
  readonly #ring: SpscRing;
  readonly #codec: Codec;
  readonly #host: OutboxHost;
  readonly #maxMessage: number;
  readonly #highWaterMark: number;
  /** 'drain' is owed once the queue empties. */
  #wantDrain = false;
  #passQueued = false;
  #stopped = false;
  readonly #passTask = (): void => {
    this.#passQueued = false;
    if (!this.#stopped) this.sendQueued();
  };
  /** Publishes before a blocking wait for room (made once: flushSync runs once per result). */
  readonly #publish = (): void => this.#host.endPass();
  /** Largest piece of a message one record carries. */
  readonly #pieceMax: number;
  #queue: Queued[] = [];
  #head = 0;
  #queuedBytes = 0;
  /** Messages given to send(), and of those the ones wholly in the ring. */
  #sent = 0;
  #written = 0;
  #afterWritten: Array<{ target: number; callback: (error?: Error) => void }> = [];

  constructor(ring: SpscRing, codec: Codec, sizes: OutboxSizes, host: OutboxHost) {
    this.#ring = ring;
    this.#codec = codec;
    this.#pieceMax = sizes.pieceMax;
    this.#maxMessage = sizes.maxMessage;
    this.#highWaterMark = sizes.highWaterMark;
    this.#host = host;
  }

  /**
   * Encodes `value` (a value the codec cannot carry throws here, nothing sent) and sends it
   * (see send()); the pass ends at the end of this task. Returns false while the queue holds
   * highWaterMark bytes or more ('drain' follows).
   */
  post(value: unknown): boolean {
    const bytes = this.#codec.encode(value);
    if (!(bytes instanceof Uint8Array)) throw typeError('encoded message', bytes, 'a Uint8Array from the codec');
    if (bytes.length > this.#maxMessage) {
      throw shmError('ERR_MESSAGE_TOO_LARGE', `a message of ${bytes.length} bytes exceeds this channel's maximum of ${this.#maxMessage}`);
    }
    const wasEmpty = this.empty;
    const written = this.send(bytes, this.#codec.fresh === true);
    if (!this.#passQueued) {
      this.#passQueued = true;
      queueMicrotask(this.#passTask);
    }
    if (written) return this.#queuedBytes < this.#highWaterMark;
    if (wasEmpty) {
      this.#host.endPass(); // the ring is full: let the peer start on what is there
      this.#host.updateRef(); // queued messages keep the process alive until written
    }
    if (this.#queuedBytes < this.#highWaterMark) return true;
    this.#wantDrain = true;
    return false;
  }

  /** Writes queued messages while they fit, then publishes; asks the peer for room if some remain. */
  sendQueued(): void {
    for (;;) {
      const done = this.writeQueued();
      this.#host.endPass();
      if (done) break;
      // Full: announce it, then look once more (the peer may have freed room before it
      // could see the announcement).
      this.#host.askForRoom();
      const before = this.#queuedBytes;
      if (!this.writeQueued() && this.#queuedBytes === before) {
        this.#host.endPass();
        return;
      }
    }
    this.#host.updateRef();
    const drain = this.#wantDrain;
    this.#wantDrain = false;
    this.#host.emptied(drain);
  }

  /** The channel ended: no more passes. */
  stop(): void {
    this.#stopped = true;
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
    // Uint8Array's slice copies; a Buffer's own slice() would be a view of the caller's memory.
    this.#queue.push({ bytes: fresh ? bytes : Uint8Array.prototype.slice.call(bytes), offset });
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
   * Blocks this thread until every message posted so far is in shared memory, published for
   * the peer: writes what is queued, waiting for the peer to make room. For a thread whose
   * event loop may not run again soon (a piscina worker between tasks sleeps outside its
   * loop). Throws ERR_TIMEOUT when the peer made no room for `timeoutMs` (what is left stays
   * queued, in order) or ERR_PEER_DEAD.
   */
  flushSync(timeoutMs: number): void {
    checkInteger('timeoutMs', timeoutMs, 0, 2 ** 31 - 1);
    this.writeQueuedSync(timeoutMs, this.#publish);
    this.sendQueued(); // nothing left to write: publishes, rings the peer, settles 'drain'
  }

  /**
   * Blocks until everything queued is in the ring: writes what fits; while the ring is full,
   * publishes (`beforeWait`) and sleeps in the ring's blocking claim (which the consumer's
   * release wakes) until the next frame fits. Throws what that wait throws (ERR_TIMEOUT after
   * `stallMs` without room, ERR_PEER_DEAD); what was not written stays queued, in order.
   */
  writeQueuedSync(stallMs: number, beforeWait: () => void): void {
    while (!this.writeQueued()) {
      let waited = false;
      // The ring is full: the head message's next frame waits for room; the frames after it
      // take what is free, as in writeQueued.
      const claimFn = (length: number): Claim | null => {
        if (waited) return this.#ring.tryClaim(length);
        waited = true;
        beforeWait();
        return this.#ring.claim(length, { timeout: stallMs });
      };
      if (this.#advance(this.#queue[this.#head]!, claimFn)) {
        this.#queue[this.#head++] = undefined!;
        this.#written++;
      }
    }
  }

  /**
   * At process exit: writes everything queued as writeQueuedSync does, for as long as the
   * peer keeps making room, giving up after `stallMs` without any (then what is left is lost
   * with this process).
   */
  writeAllAtExit(stallMs: number, beforeWait: () => void): void {
    try {
      this.writeQueuedSync(stallMs, beforeWait);
    } catch {
      // ERR_TIMEOUT or ERR_PEER_DEAD: the peer stopped reading
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

  /** Writes what fits of a queued message (`claimNow`: how to claim room); true once all of it is in the ring. */
  #advance(item: Queued, claimNow?: (length: number) => Claim | null): boolean {
    const written = this.#writeFrames(item.bytes, item.offset, claimNow);
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
