// Where a schema reads and writes: a DataView and a Buffer over the whole ArrayBuffer (or
// SharedArrayBuffer) a record lives in, made once per buffer and reused while messages keep
// coming from the same ring, so that encoding or decoding a record allocates no view.
import { Buffer } from 'node:buffer';

export interface Access {
  readonly dv: DataView;
  /** For strings (utf8Write, utf8Slice) and copies; over the same bytes as `dv`. */
  readonly buf: Buffer;
  /** For zeroing (TypedArray fill, no call out). */
  readonly u8: Uint8Array;
}

/** A one-entry cache of the Access of the last buffer seen (one per reader or writer, so that two rings do not evict each other). */
export class Accessor {
  #buffer: ArrayBufferLike | undefined;
  #access: Access | undefined;

  of(bytes: Uint8Array): Access {
    const buffer = bytes.buffer;
    if (buffer !== this.#buffer || this.#access === undefined) {
      this.#access = { dv: new DataView(buffer), buf: Buffer.from(buffer as ArrayBuffer), u8: new Uint8Array(buffer) };
      this.#buffer = buffer;
    }
    return this.#access;
  }
}
