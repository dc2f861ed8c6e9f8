// Payload copies of both ring kinds: into the ring, out of it (a copy the caller owns, or
// into the caller's buffer), and views for zero-copy use, through the plain alias of a
// Segment's pages when there is one. Offsets are from the ring's byteOffset. Owns the copy
// pool; never touches positions, headers or waits.
import { Buffer } from 'node:buffer';
import { closedError, type ShmError } from '../errors.js';
import type { Located } from './target.js';

/** Typed arrays up to this length live on V8's heap (no separate backing store to allocate). */
export const ON_HEAP_MAX = 64;
/** Copies up to this size are views of a pooled chunk rather than buffers of their own. */
export const POOLED_MAX = 2048;
/** A pool chunk: small enough that a kept message holds little memory, as Node's Buffer pool. */
export const CHUNK_BYTES = 16384;
/**
 * Payloads up to this length are copied out word by word rather than with set(), which
 * needs a view of the source: one allocation per message, and on V8 an allocation per
 * message widens the latency distribution many-fold (p99 of a 64 B round trip 0.3 → 3 µs
 * here). The loop costs about 2 ns per word here, as much as view + set() at 64 bytes and
 * 3.4× more at 256: larger payloads take the view.
 */
const WORD_COPY_MAX = 64;

/**
 * Where a ring copies payloads: the plain alias of its segment's pages when there is one
 * (memmove speed), else the SharedArrayBuffer. The alias is detached when the segment
 * closes; a copy through it then gives ERR_CLOSED rather than a TypeError.
 */
export class Payload {
  readonly buffer: ArrayBufferLike;
  readonly #bytes: Uint8Array;
  readonly #words: Int32Array;
  readonly #aliased: boolean;
  readonly #address: string;
  /** Where the ring's region starts in `buffer`: offsets given to this class are relative to it. */
  readonly #base: number;
  // The last target of copyTo and an Int32Array over its bytes (null: not 4-aligned, or
  // its buffer can change size), so a reused target costs no allocation.
  #target: Uint8Array | undefined;
  #targetWords: Int32Array | null = null;
  // The chunk that copies of up to POOLED_MAX bytes are carved from, and its first free byte.
  #pool: ArrayBuffer = new ArrayBuffer(0);
  #poolFree = 0;

  constructor(located: Located, size: number) {
    this.buffer = located.plain ?? located.buffer;
    this.#base = located.byteOffset;
    this.#bytes = new Uint8Array(this.buffer, this.#base, size);
    this.#words = new Int32Array(this.buffer, this.#base, size >> 2);
    this.#aliased = located.plain !== undefined;
    this.#address = located.address;
  }

  #closed(): ShmError {
    return closedError(`ring ${this.#address} (its segment was closed)`);
  }

  /** Copies `bytes` in at byte `offset`. */
  write(bytes: Uint8Array, offset: number): void {
    try {
      this.#bytes.set(bytes, offset);
    } catch (err) {
      throw this.#aliased && this.#bytes.length === 0 ? this.#closed() : err;
    }
  }

  /** A view of `length` bytes at `offset` (zero-copy reads and claims, sources of copies). */
  view(offset: number, length: number): Uint8Array {
    if (this.#aliased && this.#bytes.length === 0) throw this.#closed();
    return new Uint8Array(this.buffer, this.#base + offset, length);
  }

  /**
   * A copy of `length` bytes at `offset` that the caller owns: on V8's heap up to
   * ON_HEAP_MAX, a view of a pooled chunk shared with neighbouring copies up to POOLED_MAX
   * (as Node's Buffer.allocUnsafe does: a buffer of its own cost 0.5–1 µs here, more than
   * the copy), else a buffer of its own. A chunk is zero-filled, since `m.buffer` shows
   * all of it; a large buffer is not, since the copy overwrites every byte of it.
   */
  copy(offset: number, length: number): Uint8Array {
    let out: Uint8Array;
    if (length <= ON_HEAP_MAX) {
      out = new Uint8Array(length);
    } else if (length <= POOLED_MAX) {
      if (this.#pool.byteLength - this.#poolFree < length) {
        this.#pool = new ArrayBuffer(CHUNK_BYTES);
        this.#poolFree = 0;
      }
      out = new Uint8Array(this.#pool, this.#poolFree, length);
      this.#poolFree += (length + 7) & ~7; // each copy 8-aligned, as in the ring
    } else {
      out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    }
    out.set(this.view(offset, length));
    return out;
  }

  /**
   * Copies `length` bytes at `offset` (4-aligned) to the start of `target`, which holds at
   * least that many. Small payloads allocate nothing (see WORD_COPY_MAX).
   */
  copyTo(offset: number, length: number, target: Uint8Array): void {
    if (length > WORD_COPY_MAX) {
      target.set(this.view(offset, length));
      return;
    }
    const bytes = this.#bytes;
    if (this.#aliased && bytes.length === 0) throw this.#closed();
    if (target !== this.#target) this.#adopt(target);
    let i = 0;
    const to = this.#targetWords;
    if (to !== null) {
      const words = this.#words;
      const from = offset >> 2;
      const n = length >> 2;
      for (; i < n; i++) to[i] = words[from + i]!;
      i <<= 2;
    }
    for (; i < length; i++) target[i] = bytes[offset + i]!;
  }

  #adopt(target: Uint8Array): void {
    this.#target = target;
    this.#targetWords = null;
    const buffer = target.buffer as ArrayBufferLike & { resizable?: boolean; growable?: boolean };
    // A view over a buffer that can shrink could go out of bounds (and drop writes) while
    // the target itself still looks long enough: such targets are copied byte by byte.
    if ((target.byteOffset & 3) === 0 && buffer.resizable !== true && buffer.growable !== true) {
      this.#targetWords = new Int32Array(buffer, target.byteOffset, target.length >> 2);
    }
  }
}
