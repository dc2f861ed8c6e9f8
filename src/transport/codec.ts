// Codecs: how a Channel turns a value into bytes and back. Each is data behind one
// interface ({ encode, decode } and two facts about its buffers); the Channel never asks
// which codec it holds.
//
// The default ('structured') carries what structured clone carries, fast. It is msgpackr
// in its structuredClone mode with records shared along the stream (`sequential`: a record
// shape is defined once, inline, and later messages refer to it; a Channel is ordered and
// lossless, which is what that mode needs). Measured here (busy 2-core machine, one run,
// encode + decode): { id, ts, payload: 'x' × 40 } 0.81 µs against 5.3 µs for v8.serialize
// and 1.25 µs for JSON; an array of 1,000 of them 0.55 ms against 0.93 (v8) and 1.03 (JSON).
// msgpackr does not carry everything structured clone does: -0 arrives as 0, holes of a
// sparse array as undefined, an Error without its stack, Boolean/String/Number objects as
// plain objects, and a function is silently dropped where structured clone refuses it.
// A value holding any of these (or a cycle, or nesting deeper than MAX_DEPTH) is sent with
// v8.serialize instead, behind a marker byte that msgpack never uses (0xc1); the check is a
// walk of the value that costs a few percent of the encoding.
import { Buffer } from 'node:buffer';
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import { Packr, Unpackr } from 'msgpackr';
import { typeError } from '../errors.js';

/** A codec of messages of type T (unknown: any value it carries); a Schema<T> is a Codec<T>. */
export interface Codec<T = unknown> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  /** encode() returns bytes nothing else will write (else the Channel copies what it queues). */
  readonly fresh?: boolean;
  /** decode() may keep views of its input (else the Channel may decode from shared memory). */
  readonly borrows?: boolean;
  /**
   * For a codec whose bytes are the UTF-8 of a string (JSON): that string, for the Channel to
   * write straight into ring memory (encode() is then Buffer.from(text(value))). Throws as
   * encode() does.
   */
  readonly text?: (value: T) => string;
  /** A codec that writes a message in place (a schema): the Channel claims ring memory and encodes into it. */
  readonly direct?: CodecDirect<T>;
  /** A schema codec's identity: it goes into the channel's header at create and must match at connect. */
  readonly identity?: SchemaIdentity;
}

/**
 * The direct path of a codec: encodedLength(value) checks the value (throwing as encode()
 * does) and returns its length; encodeInto(value, bytes, offset), called right after it with
 * the same value, writes exactly that many bytes at `offset` (ring memory). If encodeInto
 * throws, the bytes may be partly written: the Channel drops its claim, nothing is sent.
 */
export interface CodecDirect<T = unknown> {
  encodedLength(value: T): number;
  encodeInto(value: T, bytes: Uint8Array, offset: number): void;
  /**
   * As encodeInto(), of `length` bytes at `byteOffset` of `buffer`: for a caller that knows
   * the buffer its views are of (a ring's claims all view one), since reading a view's
   * `.buffer` cost 10-15 ns here, a tenth of a small schema message. Offsets are not checked.
   */
  encodeAt?(value: T, buffer: ArrayBufferLike, byteOffset: number, length: number): void;
  /** As the codec's decode() of the `length` bytes at `byteOffset` of `buffer` (as encodeAt). */
  decodeAt?(buffer: ArrayBufferLike, byteOffset: number, length: number): T;
}

/** What names a schema on the wire (src/schema): its canonical form and that form's hash. */
export interface SchemaIdentity {
  readonly name: string;
  readonly canonical: string;
  /** First 8 bytes of SHA-256 of `canonical`, big-endian; never 0 in practice (0 means "no schema" in a header). */
  readonly hash: bigint;
}

/** Schemas made in this process by hash, so that a mismatch can name the other side's schema when it is known here. */
export const knownSchemas = new Map<bigint, string>();

export type CodecOption = 'structured' | 'advanced' | 'json' | 'raw' | Codec;

/** An error like the one structured clone throws for a value it cannot carry. */
export function dataCloneError(message: string, cause?: unknown): Error {
  const err = new DOMException(message, 'DataCloneError');
  if (cause !== undefined) Object.defineProperty(err, 'cause', { value: cause, configurable: true, writable: true });
  return err;
}

// The v8 and JSON formats, written once for the Channel's codecs and for fork()'s (fork-codec.ts),
// which differ only in the error thrown for a value the format cannot carry (`Refusal`: a
// DataCloneError on a Channel, the format's own error under fork, as child_process throws it)
// and, for v8, in the serializer pair.

/** Turns a format's own error for a value it cannot carry into the error the codec throws. */
export type Refusal = (error: Error) => Error;

/** The serializer pair of a v8 format: v8's defaults, or subclasses (Node's IPC pair, fork-codec.ts). */
export interface V8Format {
  readonly Serializer: new () => DefaultSerializer;
  readonly Deserializer: new (buffer: Buffer) => DefaultDeserializer;
}

/** Structured clone, as worker_threads and v8.serialize do it. */
export const V8_DEFAULT: V8Format = { Serializer: DefaultSerializer, Deserializer: DefaultDeserializer };

/** v8-serializes `value` after an optional marker byte (`marker` >= 0). */
function v8Encode(format: V8Format, refuse: Refusal, value: unknown, marker: number): Buffer {
  const serializer = new format.Serializer();
  if (marker >= 0) serializer.writeRawBytes(Buffer.of(marker));
  serializer.writeHeader();
  try {
    serializer.writeValue(value);
  } catch (err) {
    throw refuse(err as Error);
  }
  return serializer.releaseBuffer();
}

/** The value v8Encode() wrote into `bytes` after `skip` bytes. A decoded Buffer views `bytes`. */
function v8Decode(format: V8Format, bytes: Uint8Array, skip: number): unknown {
  const deserializer = new format.Deserializer(Buffer.from(bytes.buffer, bytes.byteOffset + skip, bytes.byteLength - skip));
  deserializer.readHeader();
  return deserializer.readValue();
}

/** A codec of v8.serialize in `format`. */
export function v8Codec(format: V8Format, refuse: Refusal): Codec {
  return {
    encode: (value) => v8Encode(format, refuse, value, -1),
    decode: (bytes) => v8Decode(format, bytes, 0),
    fresh: true,
    borrows: true, // a decoded Buffer is a view of the input
  };
}

/** A codec of JSON text in UTF-8. A value JSON has no text for (a function, a symbol) is refused too. */
export function jsonCodecRefusing(refuse: Refusal): Codec {
  const text = (value: unknown): string => {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      throw refuse(err as Error); // a BigInt, a cycle, or a toJSON() that threw
    }
    if (json === undefined) throw refuse(new TypeError(`${typeof value} cannot be sent as JSON`));
    return json;
  };
  return {
    encode: (value) => Buffer.from(text(value)),
    decode: (bytes) => JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString()),
    fresh: true,
    borrows: false,
    text,
  };
}

const cloneRefusal: Refusal = (err) => dataCloneError(err.message, err);

export const advancedCodec: Codec = v8Codec(V8_DEFAULT, cloneRefusal);

export const jsonCodec: Codec = jsonCodecRefusing((err) => dataCloneError(`${err.message} (codec 'json')`, err));

export const rawCodec: Codec = {
  encode(value) {
    if (!(value instanceof Uint8Array)) throw typeError('message', value, "a Uint8Array with codec 'raw'");
    return value;
  },
  // A Uint8Array (not a Buffer) over the bytes the Channel copied out for this message.
  decode: (bytes) => (bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
  fresh: false, // the caller's own buffer
  borrows: true,
};

/** msgpack never uses this byte: a default-codec message starting with it is v8-serialized. */
const V8_MARKER = 0xc1;
/** Values nested deeper than this (or cyclic) go through v8.serialize. */
const MAX_DEPTH = 64;

const objectProto = Object.prototype;
const arrayProto = Array.prototype;

/** Whether msgpackr carries `value` exactly as structured clone would (see the top of the file). */
function msgpackCarries(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'number':
      return value !== 0 || 1 / value > 0;
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return true;
    case 'object':
      break;
    default:
      return false; // function, symbol
  }
  if (value === null) return true;
  if (depth > MAX_DEPTH) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto === arrayProto) {
    const array = value as unknown[];
    for (let i = 0; i < array.length; i++) {
      const item = array[i];
      if (item === undefined ? !(i in array) : !msgpackCarries(item, depth + 1)) return false;
    }
    return true;
  }
  if (proto === objectProto || proto === null) {
    for (const key in value as object) {
      if (!Object.hasOwn(value as object, key)) return false; // inherited enumerables: msgpackr would send them
      if (!msgpackCarries((value as Record<string, unknown>)[key], depth + 1)) return false;
    }
    return true;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp) return true;
  if (value instanceof Map) {
    for (const [k, v] of value) if (!msgpackCarries(k, depth + 1) || !msgpackCarries(v, depth + 1)) return false;
    return true;
  }
  if (value instanceof Set) {
    for (const v of value) if (!msgpackCarries(v, depth + 1)) return false;
    return true;
  }
  return false; // Error, boxed primitives, class instances, host objects: v8 decides
}

/**
 * A fresh options object for each Packr/Unpackr: msgpackr stores its record shapes in the
 * options object it is given (`options.structures`), so two codecs sharing one object would
 * share, and corrupt, each other's record state.
 */
function msgpackOptions() {
  return { structuredClone: true, sequential: true, useBigIntExtension: true, copyBuffers: true };
}

/** The default codec: one per direction of a Channel, since record shapes are shared along the stream. */
export function structuredCodec(): Codec {
  let packr = new Packr(msgpackOptions());
  const unpackr = new Unpackr(msgpackOptions());
  return {
    encode(value) {
      if (!msgpackCarries(value, 0)) return v8Encode(V8_DEFAULT, cloneRefusal, value, V8_MARKER);
      try {
        return packr.pack(value);
      } catch (err) {
        // A getter that threw, or a value msgpackr refuses: its record state may now hold a
        // shape the peer never saw, so start over with a fresh encoder and let v8 decide
        // (it throws DataCloneError or carries the value; both leave no state behind).
        packr = new Packr(msgpackOptions());
        return v8Encode(V8_DEFAULT, cloneRefusal, value, V8_MARKER);
      }
    },
    decode(bytes) {
      // A v8-decoded Buffer views its input: that input must be a copy of our own.
      // (Uint8Array's slice copies, whatever view `bytes` is; a Buffer's would not.)
      if (bytes.length > 0 && bytes[0] === V8_MARKER) return v8Decode(V8_DEFAULT, Uint8Array.prototype.slice.call(bytes), 1);
      return unpackr.unpack(bytes); // copyBuffers: nothing decoded views `bytes`
    },
    fresh: true, // msgpackr hands out consecutive slices of its buffer and never rewrites them
    borrows: false,
  };
}

/** The schema identity of a codec option (a schema object), else undefined: without making the codec. */
export function codecIdentity(option: unknown): SchemaIdentity | undefined {
  if (option === null || typeof option !== 'object') return undefined;
  const { direct, identity } = option as Codec;
  return direct !== undefined && typeof identity?.hash === 'bigint' ? identity : undefined;
}

/** The codec a Channel uses for `option` (a fresh pair of states for the default). */
export function resolveCodec(option: unknown): Codec {
  switch (option) {
    case undefined:
    case 'structured':
      return structuredCodec();
    case 'advanced':
      return advancedCodec;
    case 'json':
      return jsonCodec;
    case 'raw':
      return rawCodec;
  }
  if (option !== null && typeof option === 'object' && typeof (option as Codec).encode === 'function' && typeof (option as Codec).decode === 'function') {
    const custom = option as Codec;
    const codec: Codec = { encode: (v) => custom.encode(v), decode: (b) => custom.decode(b), fresh: custom.fresh === true, borrows: custom.borrows !== false };
    // A schema (src/schema): its direct path and identity come along, checked as it made them.
    const { direct, identity } = custom;
    if (direct !== undefined && typeof direct.encodedLength === 'function' && typeof direct.encodeInto === 'function') {
      return typeof identity?.hash === 'bigint' ? { ...codec, direct, identity } : { ...codec, direct };
    }
    return codec;
  }
  throw typeError('codec', option, "'structured', 'advanced', 'json', 'raw' or { encode, decode }");
}
