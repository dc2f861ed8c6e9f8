// Frames: how a message of any size travels through ring records. Each record starts with
// a frame header (its bytes: layout.ts); a message that fits one record is a WHOLE frame, a
// larger one is a FIRST frame (declaring the total length) followed by MORE frames, which the
// receiver copies straight from the ring into one buffer of the declared length.
//
// A hostile length never drives an allocation beyond the protocol: a FIRST frame's total
// must exceed what one record carries and stay within the channel's max message size, and
// every piece must fit what is left of that total. The buffer is allocated uninitialised
// (its pages are not touched until bytes arrive), once per message.
import { Buffer } from 'node:buffer';
import { FIRST, FRAME_HEADER, frameKind, frameTotal, MORE, WHOLE } from './layout.js';

export { FIRST, FRAME_HEADER, MORE, WHOLE, writeFrameHeader } from './layout.js';

/** What a frame gave: a complete message's bytes, nothing yet, or a reason it was refused. */
export type FrameResult = { bytes: Uint8Array; owned: boolean } | null | { error: string };

/** Copies up to POOLED_MAX bytes into a shared 16 KiB chunk (as Buffer.allocUnsafe pools). */
const POOLED_MAX = 2048;
const CHUNK = 16384;

/**
 * The receiving half of framing. `accept(view)` takes each record's payload (a view of
 * ring memory, valid only during the call) and returns a message once one is complete.
 */
export class Reassembly {
  readonly #pieceMax: number;
  readonly #maxMessage: number;
  #buffer: Uint8Array | undefined;
  #filled = 0;
  /** After a refused FIRST frame: MORE frames are dropped until the next WHOLE or FIRST. */
  #skipping = false;
  #pool = new ArrayBuffer(0);
  #poolFree = 0;

  /** `pieceMax`: the largest payload one frame carries; `maxMessage`: the largest message. */
  constructor(pieceMax: number, maxMessage: number) {
    this.#pieceMax = pieceMax;
    this.#maxMessage = maxMessage;
  }

  /** Whether part of a message has arrived and the rest has not. */
  get partial(): boolean {
    return this.#buffer !== undefined;
  }

  /**
   * Takes one frame. `copy`: the message must not view ring memory (the codec keeps views
   * of what it decodes), so a WHOLE frame is copied out; otherwise it is handed over as a
   * view, valid only until the caller returns.
   */
  accept(view: Uint8Array, copy: boolean): FrameResult {
    if (view.length < FRAME_HEADER) return this.#refuse(`a record of ${view.length} bytes is shorter than a frame header`);
    const kind = frameKind(view);
    const payload = view.length - FRAME_HEADER;
    if (kind === WHOLE) {
      const dropped = this.#buffer !== undefined;
      this.#reset();
      if (dropped) return this.#refuse('a message ended before all its pieces arrived');
      if (payload > this.#maxMessage) return this.#refuse(`a message of ${payload} bytes exceeds the maximum of ${this.#maxMessage}`);
      const bytes = view.subarray(FRAME_HEADER);
      return copy ? { bytes: this.#copy(bytes), owned: true } : { bytes, owned: false };
    }
    if (kind === FIRST) {
      const dropped = this.#buffer !== undefined;
      this.#reset();
      const total = frameTotal(view);
      if (dropped) {
        this.#skipping = true;
        return this.#refuse('a message ended before all its pieces arrived');
      }
      if (total > this.#maxMessage || total <= payload || payload > this.#pieceMax) {
        this.#skipping = true;
        return this.#refuse(`a message declared ${total} bytes in a first piece of ${payload} (at most ${this.#maxMessage} bytes, pieces of at most ${this.#pieceMax})`);
      }
      this.#buffer = Buffer.allocUnsafeSlow(total);
      this.#buffer.set(view.subarray(FRAME_HEADER), 0);
      this.#filled = payload;
      return null;
    }
    if (kind === MORE) {
      if (this.#skipping) return null;
      const buffer = this.#buffer;
      if (buffer === undefined) return this.#refuse('a piece of a message arrived without its first piece');
      if (payload > buffer.length - this.#filled || payload === 0) {
        this.#reset();
        this.#skipping = true;
        return this.#refuse(`a piece of ${payload} bytes overruns its message (${buffer.length - this.#filled} bytes left)`);
      }
      buffer.set(view.subarray(FRAME_HEADER), this.#filled);
      this.#filled += payload;
      if (this.#filled < buffer.length) return null;
      this.#reset();
      return { bytes: buffer, owned: true };
    }
    this.#reset();
    return this.#refuse(`unknown frame kind ${kind}`);
  }

  #reset(): void {
    this.#buffer = undefined;
    this.#filled = 0;
    this.#skipping = false;
  }

  #refuse(reason: string): { error: string } {
    return { error: reason };
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
      this.#poolFree = 0;
    }
    const out = Buffer.from(this.#pool, this.#poolFree, length);
    out.set(bytes);
    this.#poolFree += (length + 7) & ~7;
    return out;
  }
}
