// Where a schema reads and writes: a DataView, a Buffer and a Uint8Array over the whole
// ArrayBuffer (or SharedArrayBuffer) a record lives in, made once per buffer and reused while
// messages keep coming from the same ring, so that encoding or decoding a record allocates
// no view.
import { Buffer } from 'node:buffer';

export interface Access {
  readonly dv: DataView;
  /** For strings (utf8Write, utf8Slice) and copies; over the same bytes as `dv`. */
  readonly buf: Buffer;
  /** For zeroing (TypedArray fill, no call out). */
  readonly u8: Uint8Array;
}

/**
 * The Access of each buffer seen: the last one at hand, the others in a WeakMap (one schema
 * may serve several rings or channels in a process, whose messages interleave). One per
 * reader or writer of a schema.
 */
export class Accessor {
  #buffer: ArrayBufferLike | undefined;
  #access: Access | undefined;
  readonly #seen = new WeakMap<ArrayBufferLike, Access>();

  /** The Access of the buffer `bytes` views. */
  of(bytes: Uint8Array): Access {
    return this.ofBuffer(bytes.buffer);
  }

  /** The Access of `buffer` (for a caller that knows it: reading a view's .buffer cost 10-15 ns here, a third of decoding a small record). */
  ofBuffer(buffer: ArrayBufferLike): Access {
    if (buffer === this.#buffer) return this.#access!;
    let access = this.#seen.get(buffer);
    if (access === undefined) {
      access = { dv: new DataView(buffer), buf: Buffer.from(buffer as ArrayBuffer), u8: new Uint8Array(buffer) };
      this.#seen.set(buffer, access);
    }
    this.#buffer = buffer;
    this.#access = access;
    return access;
  }
}
