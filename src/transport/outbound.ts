// The sending half of a Channel: it owns the outbound ring and the in-process send queue.
// A posted value is encoded at once (a value the codec cannot carry throws, nothing sent),
// then its frames (framing.ts) go into the ring while they fit; what does not fit waits in
// the queue, in order, until the peer frees room. Every record is published as it is
// committed (the ring publishes each write), and the peer is rung right then if it sleeps:
// a post that returned is in shared memory for the peer, whatever this process does next.
// It never blocks, except when asked to (flushSync, writeAllAtExit), and never drops.
import { Buffer } from 'node:buffer';
import { checkInteger, shmError, typeError } from '../errors.js';
import type { SpscClaim } from '../ring/spsc/claim.js';
import { tryWriteTagged, type SpscRing } from '../ring/spsc/ring.js';
import type { Codec, CodecDirect } from './codec.js';
import { writeFrames, type ClaimRoom } from './framing.js';
import { WHOLE } from './layout.js';
import type { Signals } from './signals.js';
import { detach } from './transfer.js';

/** Text messages from this many UTF-16 units are encoded in place (#postText); shorter ones cost the same either way. */
const TEXT_IN_PLACE = 1024;
const utf8 = new TextEncoder();
const EMPTY = new ArrayBuffer(0);
const EMPTY_BYTES = new Uint8Array(0);

interface Queued {
  /** The message's bytes; empty while `text` holds it instead. */
  bytes: Uint8Array;
  /** A text message (JSON) not yet encoded: encoded straight into the ring when room appears. */
  text: string | undefined;
  /** Its length in bytes. */
  length: number;
  /** How many bytes of `bytes` are in the ring already (frames are cut by offset). */
  offset: number;
}

/** The sizes an Outbound works with. */
export interface OutboundSizes {
  /** Largest record payload: a message up to this size is one WHOLE frame. */
  pieceMax: number;
  /** Largest message the channel allows. */
  maxMessage: number;
  /** Queued bytes from which post() returns false. */
  highWaterMark: number;
}

/** A zero-copy send (Channel.claim): fill `bytes`, then commit() or abort(). */
export interface ChannelClaim {
  /** The message's bytes: ring memory when it fit now, else a buffer of this process's own. Valid until commit() or abort(). */
  readonly bytes: Uint8Array;
  /** Sends the bytes as one message; false above the high-water mark, as postMessage. ERR_CLAIM_DONE if already ended. */
  commit(): boolean;
  /** Drops the claim: nothing is sent. */
  abort(): void;
}

export class Outbound {
  readonly #ring: SpscRing;
  readonly #codec: Codec;
  readonly #signals: Signals;
  readonly #pieceMax: number;
  readonly #maxMessage: number;
  readonly #highWaterMark: number;
  #queue: Queued[] = [];
  #head = 0;
  #queuedBytes = 0;
  /** 'drain' is owed once the queue empties. */
  #wantDrain = false;
  /** A claim is open: nothing else may write until it ends. */
  #claimOpen = false;
  /** Messages sent, and of those the ones wholly in the ring. */
  #sent = 0;
  #written = 0;
  #afterWritten: Array<{ target: number; callback: (error?: Error) => void }> = [];
  /** Why the channel ended, once it did: what was not written by then never will be. */
  #ended: Error | undefined;
  /** The buffer the ring's claims view (#postDirect), once one was made. */
  #claimBuffer: ArrayBufferLike | undefined;
  /** The codec's encoder at an offset of a buffer (a schema's), if it has one. */
  readonly #encodeAt: ((value: unknown, buffer: ArrayBufferLike, byteOffset: number, length: number) => void) | undefined;

  constructor(ring: SpscRing, codec: Codec, signals: Signals, sizes: OutboundSizes) {
    this.#ring = ring;
    this.#codec = codec;
    this.#signals = signals;
    this.#pieceMax = sizes.pieceMax;
    this.#maxMessage = sizes.maxMessage;
    this.#highWaterMark = sizes.highWaterMark;
    const direct = codec.direct;
    this.#encodeAt = typeof direct?.encodeAt === 'function' ? direct.encodeAt.bind(direct) : undefined;
  }

  /** ERR_MESSAGE_TOO_LARGE for a message longer than the channel allows (nothing is sent). */
  #checkSize(length: number): void {
    if (length > this.#maxMessage) {
      throw shmError('ERR_MESSAGE_TOO_LARGE', `a message of ${length} bytes exceeds this channel's maximum of ${this.#maxMessage}`);
    }
  }

  /** Bytes waiting in this process for room in the ring; stale as soon as the peer reads. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  get empty(): boolean {
    return this.#head === this.#queue.length;
  }

  /**
   * Encodes `value` and sends it; `transfer` (checked by the caller) lists ArrayBuffers the
   * sender gives up: they are detached, and a transferred buffer the message's bytes view
   * is queued as it is, never copied (as is every message with `kept`: the caller leaves its
   * bytes alone until they are written). Returns false while the queue holds highWaterMark
   * bytes or more ('drain' follows once it empties).
   */
  post(value: unknown, transfer: ArrayBuffer[] | undefined, kept = false): boolean {
    if (this.#claimOpen) throw shmError('ERR_CLAIM_PENDING', 'commit() or abort() the pending claim first');
    const codec = this.#codec;
    if (codec.direct !== undefined) return this.#postDirect(codec.direct, value, transfer);
    let bytes: Uint8Array;
    if (codec.text !== undefined) {
      const text = codec.text(value);
      if (text.length >= TEXT_IN_PLACE) return this.#postText(text, transfer);
      bytes = Buffer.from(text); // (encoded once: getters and toJSON run once)
    } else {
      bytes = codec.encode(value);
    }
    if (!(bytes instanceof Uint8Array)) throw typeError('encoded message', bytes, 'a Uint8Array from the codec');
    const length = bytes.length;
    this.#checkSize(length);
    let fresh = kept || codec.fresh === true;
    if (transfer !== undefined) {
      const moved = detach(transfer, bytes.buffer);
      if (moved !== undefined) {
        bytes = new Uint8Array(moved, bytes.byteOffset, length);
        fresh = true;
      }
    }
    this.#sent++;
    if (this.#head === this.#queue.length && length <= this.#pieceMax) {
      if (!tryWriteTagged(this.#ring, bytes, WHOLE)) return this.#enqueue(bytes, fresh, 0); // full: no second try
      this.#written++;
      this.#signals.published();
      return this.#queuedBytes < this.#highWaterMark;
    }
    return this.#sendRest(bytes, fresh);
  }

  /**
   * A long text message (JSON): its UTF-8 is written straight into ring memory when it fits
   * one record and the ring has room, instead of into a buffer of its own first (allocating
   * that buffer cost more than the encoding: 46 µs against 3 µs for 72 KB here).
   */
  #postText(text: string, transfer: ArrayBuffer[] | undefined): boolean {
    const length = Buffer.byteLength(text);
    this.#checkSize(length);
    if (transfer !== undefined) detach(transfer, EMPTY);
    this.#sent++;
    if (this.empty && length <= this.#pieceMax) {
      const claim = this.#ring.tryClaim(length) as SpscClaim | null;
      if (claim !== null) {
        utf8.encodeInto(text, claim.bytes);
        claim.commitTagged(WHOLE);
        this.#written++;
        this.#signals.published();
        return this.#queuedBytes < this.#highWaterMark;
      }
    }
    if (this.empty && length > this.#pieceMax) return this.#sendRest(Buffer.from(text), true);
    // Behind others, or the ring is full: the string waits as it is (it cannot change).
    this.#queue.push({ bytes: EMPTY_BYTES, text, length, offset: 0 });
    this.#queuedBytes += length;
    return this.#queued();
  }

  /**
   * A message of a codec with a direct path (a schema): checked and measured, then encoded
   * straight into a claim of ring memory when it fits one record and the ring has room (no
   * buffer of its own; the claim is dropped if encoding throws); otherwise into a buffer of
   * its own, queued as any other.
   */
  #postDirect(direct: CodecDirect, value: unknown, transfer: ArrayBuffer[] | undefined): boolean {
    const length = direct.encodedLength(value);
    this.#checkSize(length);
    // (transferred buffers are detached once encoded: a field may hold one)
    if (this.empty && length <= this.#pieceMax) {
      const claim = this.#ring.tryClaim(length) as SpscClaim | null;
      if (claim !== null) {
        try {
          const bytes = claim.bytes;
          // Every claim of the ring views one buffer: it is read once (.buffer costs a tenth of a small message).
          const encodeAt = this.#encodeAt;
          if (encodeAt !== undefined) encodeAt(value, (this.#claimBuffer ??= bytes.buffer), bytes.byteOffset, length);
          else direct.encodeInto(value, bytes, 0);
          if (transfer !== undefined) detach(transfer, EMPTY);
        } catch (err) {
          claim.abort();
          throw err;
        }
        this.#sent++;
        claim.commitTagged(WHOLE);
        this.#written++;
        this.#signals.published();
        return this.#queuedBytes < this.#highWaterMark;
      }
    }
    // From Buffer's pool for small ones: consecutive messages share one ArrayBuffer, which a
    // schema's writer keeps its views of (a new ArrayBuffer each would cost it three views).
    const bytes = Buffer.allocUnsafe(length);
    direct.encodeInto(value, bytes, 0);
    if (transfer !== undefined) detach(transfer, EMPTY);
    this.#sent++;
    return this.empty && length <= this.#pieceMax ? this.#enqueue(bytes, true, 0) : this.#sendRest(bytes, true);
  }

  /** post()'s way for a message that is larger than a record, or waits behind others, or found the ring full. */
  #sendRest(bytes: Uint8Array, fresh: boolean): boolean {
    let offset = 0;
    if (this.empty) {
      const written = writeFrames(this.#ring, bytes, 0, this.#pieceMax);
      if (written > 0 || written === bytes.length) this.#signals.published(); // (a 0-byte message written too)
      if (written === bytes.length) {
        this.#written++;
        return this.#queuedBytes < this.#highWaterMark;
      }
      offset = Math.max(written, 0);
    }
    return this.#enqueue(bytes, fresh, offset);
  }

  /** Queues what is left of a message from `offset` (a copy unless `fresh`); post()'s result. */
  #enqueue(bytes: Uint8Array, fresh: boolean, offset: number): boolean {
    // Uint8Array's slice copies; a Buffer's own slice() would be a view of the caller's memory.
    this.#queue.push({ bytes: fresh ? bytes : Uint8Array.prototype.slice.call(bytes), text: undefined, length: bytes.length, offset });
    this.#queuedBytes += bytes.length - offset;
    return this.#queued();
  }

  /** A message was queued: if the queue just began, ask for room and look once more. post()'s result. */
  #queued(): boolean {
    if (this.#head === this.#queue.length - 1) this.sendQueued();
    if (this.#queuedBytes < this.#highWaterMark) return true;
    this.#wantDrain = true;
    return false;
  }

  /**
   * A zero-copy send of `length` bytes (checked by the caller): ring memory if the message
   * fits one record and the ring has room now (nothing queued before it), else a buffer of
   * this process's own that commit() sends (copied into the ring once, as room appears).
   */
  claim(length: number): ChannelClaim {
    if (this.#claimOpen) throw shmError('ERR_CLAIM_PENDING', 'commit() or abort() the pending claim first');
    this.#checkSize(length);
    const ringClaim = this.empty && length <= this.#pieceMax ? (this.#ring.tryClaim(length) as SpscClaim | null) : null;
    let done = false;
    const end = (): void => {
      if (done) throw shmError('ERR_CLAIM_DONE', 'this claim was already committed or aborted');
      done = true;
      this.#claimOpen = false;
    };
    if (ringClaim !== null) {
      this.#claimOpen = true;
      return {
        bytes: ringClaim.bytes,
        commit: () => {
          end();
          this.#sent++;
          ringClaim.commitTagged(WHOLE);
          this.#written++;
          this.#signals.published();
          return this.#queuedBytes < this.#highWaterMark;
        },
        abort: () => {
          end();
          if (ringClaim.live) ringClaim.abort(); // (closing the channel dropped it already)
        },
      };
    }
    const own = new Uint8Array(length);
    this.#claimOpen = true;
    return {
      bytes: own,
      commit: () => {
        end();
        this.#sent++;
        return this.#sendRest(own, true);
      },
      abort: end,
    };
  }

  /**
   * Writes queued messages while they fit (each frame published as it is committed, the
   * peer rung if it sleeps). True once the queue is empty; false while the ring is full
   * (the peer rings when it frees room).
   */
  sendQueued(): boolean {
    const before = this.#queuedBytes;
    const writtenBefore = this.#written;
    let done = this.writeQueued();
    if (!done) {
      // Full: ask for room, then look once more (the peer may have freed room before it could see the ask).
      this.#signals.askForRoom();
      done = this.writeQueued();
    }
    if (this.#queuedBytes !== before || this.#written !== writtenBefore) this.#signals.published();
    return done;
  }

  /** Whether 'drain' is owed now (the queue emptied after a post() returned false); clears it. */
  takeDrain(): boolean {
    const owed = this.#wantDrain && this.empty;
    if (owed) this.#wantDrain = false;
    return owed;
  }

  /** Writes queued messages while they fit; true once the queue is empty. */
  writeQueued(claimRoom?: ClaimRoom): boolean {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      if (!this.#advance(queue[this.#head]!, claimRoom)) {
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
   * event loop may not run again soon. Throws ERR_TIMEOUT when the peer made no room for
   * `timeoutMs` (what is left stays queued, in order) or ERR_PEER_DEAD.
   */
  flushSync(timeoutMs: number): void {
    checkInteger('timeoutMs', timeoutMs, 0, 2 ** 31 - 1);
    this.#writeQueuedSync(timeoutMs);
    this.#signals.published(); // what was written without a wait rang nobody yet
    this.#settle();
  }

  /**
   * At process exit: writes everything queued as flushSync does, for as long as the peer
   * keeps making room, giving up after `stallMs` without any (what is left is then lost
   * with this process).
   */
  writeAllAtExit(stallMs: number): void {
    try {
      this.#writeQueuedSync(stallMs);
    } catch {
      // ERR_TIMEOUT or ERR_PEER_DEAD: the peer stopped reading
    }
    this.#signals.published();
    this.#settle();
  }

  /**
   * Writes what fits; while the ring is full, rings the peer and sleeps in the ring's
   * blocking claim (which the consumer's release wakes) until the next frame fits. Throws
   * what that wait throws; what was not written stays queued, in order.
   */
  #writeQueuedSync(stallMs: number): void {
    while (!this.writeQueued()) {
      let waited = false;
      // The head message's next frame waits for room; the frames after it take what is free.
      const claimRoom: ClaimRoom = (length) => {
        if (waited) return this.#ring.tryClaim(length) as SpscClaim | null;
        waited = true;
        this.#signals.published();
        return this.#ring.claim(length, { timeout: stallMs }) as SpscClaim;
      };
      if (this.#advance(this.#queue[this.#head]!, claimRoom)) {
        this.#queue[this.#head++] = undefined!;
        this.#written++;
      }
    }
  }

  /**
   * Calls `callback` once every message sent so far is in the ring (on the next tick if
   * they all are now); endWritten() fails the rest when the channel ends first.
   */
  afterWritten(callback: (error?: Error) => void): void {
    if (this.#written >= this.#sent) process.nextTick(callback);
    else if (this.#ended !== undefined) process.nextTick(callback, this.#ended);
    else this.#afterWritten.push({ target: this.#sent, callback });
  }

  endWritten(reason: Error): void {
    this.#ended = reason;
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
  #advance(item: Queued, claimRoom?: ClaimRoom): boolean {
    const text = item.text;
    if (text !== undefined) {
      if (item.length <= this.#pieceMax) {
        const claim = claimRoom !== undefined ? claimRoom(item.length) : (this.#ring.tryClaim(item.length) as SpscClaim | null);
        if (claim === null) return false;
        utf8.encodeInto(text, claim.bytes);
        claim.commitTagged(WHOLE);
        this.#queuedBytes -= item.length;
        return true;
      }
      item.bytes = Buffer.from(text); // larger than a record: cut into pieces as bytes
      item.text = undefined;
    }
    const written = writeFrames(this.#ring, item.bytes, item.offset, this.#pieceMax, claimRoom);
    if (written < 0) return false;
    this.#queuedBytes -= written - item.offset;
    item.offset = written;
    return written === item.length;
  }
}
