// The codec of a pool's Channels: the default 'structured' one for every message, except
// that a task or a result that is a large Uint8Array (a Buffer) travels as its own bytes,
// in a message of its own right after the message that announces it (protocol.ts). Those
// bytes go into the ring as they are, with no encoding: msgpackr copies a Buffer into a
// growing buffer of its own (measured here: 0.6-2 ms to encode 1 MiB, against a tenth of
// that for the copy into the ring), and they come out as a view of the Channel's own copy.
// A Channel is ordered and lossless, so the decoder knows which message is bytes by the one
// before it.
import { structuredCodec, type Codec } from '../transport/codec.js';

/** A task or result at least this large, and a Uint8Array, travels as bytes. */
export const BYTES_MIN = 8192;

/** Whether `value` travels as bytes after its announcement. */
export function travelsAsBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.byteLength >= BYTES_MIN;
}

/** A codec for one end of a pool Channel; `announces(message)` says that bytes come next. */
export function poolCodec(announces: (message: unknown) => boolean): Codec {
  const structured = structuredCodec();
  let bytesNext = false;
  return {
    encode: (value) => (value instanceof Uint8Array ? value : structured.encode(value)),
    decode(bytes) {
      if (bytesNext) {
        bytesNext = false;
        // borrows: the Channel handed over a copy of its own. A Uint8Array, as structured
        // clone gives a Buffer back.
        return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
      const message = structured.decode(bytes);
      bytesNext = announces(message);
      return message;
    },
    fresh: false, // bytes are the caller's own: the Channel copies them if it must queue them
    borrows: true,
  };
}
