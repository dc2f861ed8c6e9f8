// Frames: how a Channel's messages of any size travel through ring records (the bytes:
// layout.ts). The writing half puts a message that fits one record into a WHOLE frame, and
// cuts a larger one into a FIRST frame (declaring the total) and MORE frames; the reading
// half (Reassembly) turns frames back into messages.
//
// A hostile length never drives an allocation beyond what arrived: a FIRST frame's total
// must exceed what one record carries and stay within the receiver's max message size, every
// piece must fit what is left of that total, and the buffer a message is reassembled in
// grows with the pieces that arrive (doubling, from at most GROW_FROM bytes) instead of
// being reserved at the size the first piece declares.
import { Buffer } from 'node:buffer';
import { markAsUntransferable } from 'node:worker_threads';
import type { SpscClaim } from '../ring/spsc/claim.js';
import { tryWriteTagged, type SpscRing } from '../ring/spsc/ring.js';
import { FIRST, MORE, PIECE_HEADER, pieceTotal, WHOLE, writePieceHeader } from './layout.js';

/** How a frame writer gets room: the ring's tryClaim, or a claim that waits (flushSync). */
export type ClaimRoom = (length: number) => SpscClaim | null;

/**
 * Writes the frames of `bytes` from `offset` while they fit; returns how far it got, or -1
 * when nothing of a message that fits one frame was written (so a 0-byte message is told
 * apart). `pieceMax`: the largest piece one record carries.
 */
export function writeFrames(ring: SpscRing, bytes: Uint8Array, offset: number, pieceMax: number, claimRoom?: ClaimRoom): number {
  const total = bytes.length;
  if (offset === 0 && total <= pieceMax) {
    if (claimRoom === undefined) return tryWriteTagged(ring, bytes, WHOLE) ? total : -1;
    const claim = claimRoom(total);
    if (claim === null) return -1;
    claim.bytes.set(bytes);
    claim.commitTagged(WHOLE);
    return total;
  }
  const claimNow = claimRoom ?? ((length: number) => ring.tryClaim(length) as SpscClaim | null);
  while (offset < total) {
    const first = offset === 0;
    const header = first ? PIECE_HEADER : 0;
    const n = Math.min(pieceMax - header, total - offset);
    const claim = claimNow(header + n);
    if (claim === null) return offset;
    if (first) writePieceHeader(claim.bytes, total);
    claim.bytes.set(bytes.subarray(offset, offset + n), header);
    claim.commitTagged(first ? FIRST : MORE);
    offset += n;
  }
  return offset;
}

/**
 * The chunks small received messages share (as Buffer.allocUnsafe's pool). Transferring one
 * would detach its neighbours too: a transfer list refuses them (transfer.ts), and they are
 * marked untransferable for Node's own MessagePort, as Node marks its Buffer pool.
 */
const pooledChunks = new WeakSet<ArrayBuffer>();

/** Whether `buffer` is a chunk several received messages share. */
export function isPooledChunk(buffer: ArrayBuffer): boolean {
  return pooledChunks.has(buffer);
}

/** Copies up to POOLED_MAX bytes into a shared 16 KiB chunk (as Buffer.allocUnsafe pools). */
const POOLED_MAX = 2048;
const CHUNK = 16384;
/** A message reassembled from pieces starts in a buffer of at most this many bytes, and doubles. */
const GROW_FROM = 1 << 20;
const ENDED_EARLY = 'a message ended before all its pieces arrived';

/**
 * The reading half of framing. `accept(view, tag)` takes each record (a view of ring memory,
 * valid only during the call) and returns a message's bytes once one is complete, else
 * undefined; a frame it refuses leaves the reason in `refused`.
 */
export class Reassembly {
  readonly #pieceMax: number;
  readonly #maxMessage: number;
  #buffer: Uint8Array | undefined;
  #total = 0;
  #filled = 0;
  /** After a refused FIRST frame: MORE frames are dropped until the next WHOLE or FIRST. */
  #skipping = false;
  #pool = new ArrayBuffer(0);
  #poolFree = 0;
  /** Why the last accept() returned undefined for a frame it could not use (else undefined). */
  refused: string | undefined;

  /** `pieceMax`: the largest record payload; `maxMessage`: the largest message this side accepts. */
  constructor(pieceMax: number, maxMessage: number) {
    this.#pieceMax = pieceMax;
    this.#maxMessage = maxMessage;
  }


  /**
   * Takes one frame. `copy`: the message must not view ring memory (the codec keeps views of
   * what it decodes), so a WHOLE frame is copied out; otherwise it is handed over as a view,
   * valid only until the caller returns.
   */
  accept(view: Uint8Array, tag: number, copy: boolean): Uint8Array | undefined {
    this.refused = undefined;
    if (tag !== WHOLE && tag !== FIRST) return this.#acceptMore(view, tag);
    // A message that begins while another is incomplete: that one is refused, this one taken.
    const dropped = this.#buffer !== undefined;
    if (dropped) this.#reset();
    const bytes = tag === WHOLE ? this.#acceptWhole(view, copy) : this.#acceptFirst(view);
    if (dropped) this.refused = this.refused === undefined ? ENDED_EARLY : `${ENDED_EARLY}; then ${this.refused}`;
    return bytes;
  }

  #acceptWhole(view: Uint8Array, copy: boolean): Uint8Array | undefined {
    const length = view.length;
    this.#skipping = false;
    if (length > this.#maxMessage) return this.#refuse(`a message of ${length} bytes exceeds the maximum of ${this.#maxMessage}`);
    return copy ? this.#copy(view) : view;
  }

  /** A FIRST frame (nothing pending): its declared total checked, the reassembly buffer begun. */
  #acceptFirst(view: Uint8Array): undefined {
    const payload = view.length - PIECE_HEADER;
    const total = view.length >= PIECE_HEADER ? pieceTotal(view) : 0;
    if (payload < 0 || total > this.#maxMessage || total <= payload || view.length > this.#pieceMax) {
      this.#skipping = true;
      return this.#refuse(`a message declared ${total} bytes in a first piece of ${payload} (at most ${this.#maxMessage} bytes, records of at most ${this.#pieceMax})`);
    }
    this.#skipping = false;
    this.#total = total;
    this.#buffer = Buffer.allocUnsafeSlow(Math.min(total, Math.max(GROW_FROM, 2 * payload)));
    this.#buffer.set(view.subarray(PIECE_HEADER), 0);
    this.#filled = payload;
    return undefined;
  }

  #acceptMore(view: Uint8Array, tag: number): Uint8Array | undefined {
    if (tag === MORE) {
      if (this.#skipping) return undefined;
      const buffer = this.#buffer;
      if (buffer === undefined) return this.#refuse('a piece of a message arrived without its first piece');
      const payload = view.length;
      if (payload > this.#total - this.#filled || payload === 0) {
        const left = this.#total - this.#filled;
        this.#reset();
        this.#skipping = true;
        return this.#refuse(`a piece of ${payload} bytes overruns its message (${left} bytes left)`);
      }
      const target = this.#room(payload);
      target.set(view, this.#filled);
      this.#filled += payload;
      if (this.#filled < this.#total) return undefined;
      this.#reset();
      return target;
    }
    this.#reset();
    return this.#refuse(`unknown frame kind ${tag}`);
  }

  /** The reassembly buffer, grown (doubling, up to the declared total) to hold `more` bytes. */
  #room(more: number): Uint8Array {
    let buffer = this.#buffer!;
    const need = this.#filled + more;
    if (need <= buffer.length) return buffer;
    const grown = Buffer.allocUnsafeSlow(Math.min(this.#total, Math.max(need, 2 * buffer.length)));
    grown.set(buffer.subarray(0, this.#filled));
    this.#buffer = buffer = grown;
    return buffer;
  }

  #reset(): void {
    this.#buffer = undefined;
    this.#filled = 0;
    this.#total = 0;
    this.#skipping = false;
  }

  #refuse(reason: string): undefined {
    this.refused = reason;
    return undefined;
  }

  /** A copy the caller owns: small ones share a pooled chunk, larger ones get their own buffer. */
  #copy(bytes: Uint8Array): Uint8Array {
    const length = bytes.length;
    if (length > POOLED_MAX) {
      const out = Buffer.allocUnsafeSlow(length);
      out.set(bytes);
      return out;
    }
    if (this.#pool.byteLength - this.#poolFree < length) {
      this.#pool = new ArrayBuffer(CHUNK);
      pooledChunks.add(this.#pool);
      markAsUntransferable(this.#pool);
      this.#poolFree = 0;
    }
    const out = Buffer.from(this.#pool, this.#poolFree, length);
    out.set(bytes);
    this.#poolFree += (length + 7) & ~7;
    return out;
  }
}
