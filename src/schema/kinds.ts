// The field kinds of a schema: the size and alignment of each (docs/PROTOCOL.md, "Typed
// messages"), its canonical spelling, and how a value of it is checked, written and read at
// a byte offset. check() refuses a value (a Refusal naming what was expected) before
// anything is written; write() trusts a checked value but stays inside its own bytes
// whatever it is given (a getter may answer differently the second time); read() refuses
// bytes no writer would have written.
import type { Access } from './access.js';
import { corrupt, refuseRange, refuseType, within } from './refusal.js';
import { readUtf8, utf8LengthWithin, writeUtf8 } from './utf8.js';

export interface Kind {
  readonly size: number;
  readonly align: number;
  /** How the layout spells this kind (docs/PROTOCOL.md); part of the schema's canonical form. */
  readonly canonical: string;
  check(value: unknown): void;
  write(a: Access, at: number, value: unknown): void;
  read(a: Access, at: number): unknown;
  /** Padding inside it as [start, end) pairs from its start (nested structs and their arrays); none for the others. */
  readonly padding?: readonly number[];
}

// ---- numbers -------------------------------------------------------------------------------

/** A 64-bit integer written as two little-endian 32-bit halves: the high one at +4. */
const HIGH_HALF = 4;

function integer(canonical: string, size: number, min: number, max: number, set: (dv: DataView, at: number, v: number) => void, get: (dv: DataView, at: number) => number): Kind {
  const expected = `an integer from ${min} to ${max}`;
  return {
    size,
    align: size,
    canonical,
    check(value) {
      if (typeof value !== 'number') refuseType(value, `a number (${canonical})`);
      if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) refuseRange(value, expected);
    },
    write: (a, at, value) => set(a.dv, at, value as number),
    read: (a, at) => get(a.dv, at),
  };
}

const I8 = integer('i8', 1, -128, 127, (dv, at, v) => dv.setInt8(at, v), (dv, at) => dv.getInt8(at));
const U8 = integer('u8', 1, 0, 255, (dv, at, v) => dv.setUint8(at, v), (dv, at) => dv.getUint8(at));
const I16 = integer('i16', 2, -32768, 32767, (dv, at, v) => dv.setInt16(at, v, true), (dv, at) => dv.getInt16(at, true));
const U16 = integer('u16', 2, 0, 65535, (dv, at, v) => dv.setUint16(at, v, true), (dv, at) => dv.getUint16(at, true));
const I32 = integer('i32', 4, -(2 ** 31), 2 ** 31 - 1, (dv, at, v) => dv.setInt32(at, v, true), (dv, at) => dv.getInt32(at, true));
const U32 = integer('u32', 4, 0, 2 ** 32 - 1, (dv, at, v) => dv.setUint32(at, v, true), (dv, at) => dv.getUint32(at, true));

function float(canonical: string, size: number, set: (dv: DataView, at: number, v: number) => void, get: (dv: DataView, at: number) => number): Kind {
  return {
    size,
    align: size,
    canonical,
    check(value) {
      if (typeof value !== 'number') refuseType(value, `a number (${canonical})`);
    },
    write: (a, at, value) => set(a.dv, at, value as number),
    read: (a, at) => get(a.dv, at),
  };
}

const F32 = float('f32', 4, (dv, at, v) => dv.setFloat32(at, v, true), (dv, at) => dv.getFloat32(at, true));
const F64 = float('f64', 8, (dv, at, v) => dv.setFloat64(at, v, true), (dv, at) => dv.getFloat64(at, true));

const BOOL: Kind = {
  size: 1,
  align: 1,
  canonical: 'bool',
  check(value) {
    if (typeof value !== 'boolean') refuseType(value, 'a boolean');
  },
  write: (a, at, value) => a.dv.setUint8(at, value === true ? 1 : 0),
  read(a, at) {
    const b = a.dv.getUint8(at);
    if (b > 1) corrupt(`a bool of ${b} (0 or 1)`);
    return b === 1;
  },
};

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

/** A 64-bit integer read as a BigInt (`asNumber` false) or as a number where it is exact (true). */
function int64(signed: boolean, asNumber: boolean): Kind {
  const canonical = signed ? 'i64' : 'u64';
  const min = signed ? I64_MIN : 0n;
  const max = signed ? I64_MAX : U64_MAX;
  if (!asNumber) {
    return {
      size: 8,
      align: 8,
      canonical,
      check(value) {
        if (typeof value !== 'bigint') refuseType(value, `a bigint (${canonical}; declare '${canonical}:number' to use numbers)`);
        if ((value as bigint) < min || (value as bigint) > max) refuseRange(value, `from ${min} to ${max}`);
      },
      write: signed ? (a, at, value) => a.dv.setBigInt64(at, BigInt.asIntN(64, value as bigint), true) : (a, at, value) => a.dv.setBigUint64(at, BigInt.asUintN(64, value as bigint), true),
      read: signed ? (a, at) => a.dv.getBigInt64(at, true) : (a, at) => a.dv.getBigUint64(at, true),
    };
  }
  const lowest = signed ? Number.MIN_SAFE_INTEGER : 0;
  return {
    size: 8,
    align: 8,
    canonical,
    check(value) {
      if (typeof value !== 'number') refuseType(value, `a number (${canonical}:number)`);
      if (!Number.isSafeInteger(value) || (value as number) < lowest) refuseRange(value, `an integer from ${lowest} to ${Number.MAX_SAFE_INTEGER} (exact as a number)`);
    },
    write(a, at, value) {
      // Two 32-bit halves: no BigInt per message. The high half of a negative safe integer is its floor division.
      const v = value as number;
      const high = Math.floor(v / 2 ** 32);
      a.dv.setUint32(at, v - high * 2 ** 32, true);
      a.dv.setInt32(at + HIGH_HALF, high, true);
    },
    read(a, at) {
      const low = a.dv.getUint32(at, true);
      const high = signed ? a.dv.getInt32(at + HIGH_HALF, true) : a.dv.getUint32(at + HIGH_HALF, true);
      // Exact while |high| < 2^21: then high × 2^32 + low is within ±2^53.
      if (high >= 2 ** 21 || high < -(2 ** 21) || (high === -(2 ** 21) && low === 0)) {
        corrupt(`${canonical} ${signed ? a.dv.getBigInt64(at, true) : a.dv.getBigUint64(at, true)} is not exact as a number`);
      }
      return high * 2 ** 32 + low;
    },
  };
}

// ---- strings and bytes ---------------------------------------------------------------------

// A bounded string or byte array (`utf8(N)`, `bytes(N)`), from the field's start:
//   +0  u16  byte length L (L <= N)
//   +2  N    L bytes, then zeros
export const BOUNDED_LENGTH_SIZE = 2;
const BOUNDED_DATA = BOUNDED_LENGTH_SIZE;

/** Largest bound of a bounded string or byte array (its length is a u16). */
export const MAX_BOUND = 65535;
/** Largest fixed-size string or byte array (a record must fit the ring anyway). */
export const MAX_FIXED = 2 ** 24;

/** `utf8(N)`: a u16 byte length, then N bytes (the unused ones zero). */
function boundedUtf8(bound: number): Kind {
  return {
    size: BOUNDED_DATA + bound,
    align: 2,
    canonical: `utf8(${bound})`,
    check(value) {
      if (typeof value !== 'string') refuseType(value, 'a string');
      if (utf8LengthWithin(value as string, bound) < 0) refuseRange(value, `at most ${bound} bytes of UTF-8`);
    },
    write(a, at, value) {
      const n = writeUtf8(a.buf, String(value), at + BOUNDED_DATA, bound);
      a.dv.setUint16(at, n, true);
      zero(a.u8, at + BOUNDED_DATA + n, at + BOUNDED_DATA + bound);
    },
    read(a, at) {
      const n = a.dv.getUint16(at, true);
      if (n > bound) corrupt(`a length of ${n} bytes past its bound of ${bound}`);
      return readUtf8(a.buf, at + BOUNDED_DATA, n);
    },
  };
}

/** `bytes(N)`: a u16 length, then N bytes (the unused ones zero). */
function boundedBytes(bound: number): Kind {
  return {
    size: BOUNDED_DATA + bound,
    align: 2,
    canonical: `bytes(${bound})`,
    check(value) {
      if (!(value instanceof Uint8Array)) refuseType(value, 'a Uint8Array');
      if ((value as Uint8Array).length > bound) refuseRange(value, `at most ${bound} bytes (it has ${(value as Uint8Array).length})`);
    },
    write(a, at, value) {
      const bytes = value as Uint8Array;
      const n = Math.min(bytes.length, bound);
      a.dv.setUint16(at, n, true);
      a.buf.set(n === bytes.length ? bytes : bytes.subarray(0, n), at + BOUNDED_DATA);
      zero(a.u8, at + BOUNDED_DATA + n, at + BOUNDED_DATA + bound);
    },
    read(a, at) {
      const n = a.dv.getUint16(at, true);
      if (n > bound) corrupt(`a length of ${n} bytes past its bound of ${bound}`);
      return copyOut(a, at + BOUNDED_DATA, n);
    },
  };
}

/** `utf8[N]`: exactly N bytes, zero-padded; trailing zero bytes are dropped on read. */
function fixedUtf8(n: number): Kind {
  return {
    size: n,
    align: 1,
    canonical: `utf8[${n}]`,
    check(value) {
      if (typeof value !== 'string') refuseType(value, 'a string');
      if (utf8LengthWithin(value as string, n) < 0) refuseRange(value, `at most ${n} bytes of UTF-8`);
    },
    write(a, at, value) {
      const written = writeUtf8(a.buf, String(value), at, n);
      zero(a.u8, at + written, at + n);
    },
    read(a, at) {
      let end = at + n;
      while (end > at && a.buf[end - 1] === 0) end--;
      return readUtf8(a.buf, at, end - at);
    },
  };
}

/** `bytes[N]`: exactly N bytes. */
function fixedBytes(n: number): Kind {
  return {
    size: n,
    align: 1,
    canonical: `bytes[${n}]`,
    check(value) {
      if (!(value instanceof Uint8Array)) refuseType(value, 'a Uint8Array');
      if ((value as Uint8Array).length !== n) refuseRange(value, `exactly ${n} bytes (it has ${(value as Uint8Array).length})`);
    },
    write(a, at, value) {
      const bytes = value as Uint8Array;
      if (bytes.length === n) a.buf.set(bytes, at);
      else zero(a.u8, at, at + n); // (a value that changed since its check: nothing past the field)
    },
    read: (a, at) => copyOut(a, at, n),
  };
}

/** Shorter zero runs are written byte by byte: TypedArray fill() cost 16 ns here even for none (a string that fills its field). */
const FILL_FROM = 32;

/** Zeroes bytes [from, to) of `u8`. */
function zero(u8: Uint8Array, from: number, to: number): void {
  if (to - from >= FILL_FROM) u8.fill(0, from, to);
  else for (let i = from; i < to; i++) u8[i] = 0;
}

/** A Uint8Array of its own holding `length` bytes at `at` (a decoded value never views ring memory). */
export function copyOut(a: Access, at: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (length > 0) out.set(a.buf.subarray(at, at + length));
  return out;
}

// ---- arrays --------------------------------------------------------------------------------

/** A fixed-length array of `length` elements of `element`: n × its size, its alignment. */
export function arrayKind(element: Kind, length: number): Kind & { element: Kind; length: number } {
  const step = element.size;
  const inner = element.padding ?? [];
  const padding: number[] = [];
  for (let i = 0; i < length && inner.length > 0; i++) for (let j = 0; j < inner.length; j++) padding.push(i * step + inner[j]!);
  return {
    element,
    length,
    padding,
    size: step * length,
    align: element.align,
    canonical: `${element.canonical}[${length}]`,
    check(value) {
      if (!Array.isArray(value) && !(ArrayBuffer.isView(value) && !(value instanceof DataView))) refuseType(value, `an array of ${length}`);
      const items = value as ArrayLike<unknown>;
      if (items.length !== length) refuseRange(value, `an array of exactly ${length} (it has ${items.length})`);
      for (let i = 0; i < length; i++) {
        try {
          element.check(items[i]);
        } catch (err) {
          within(err, i);
        }
      }
    },
    write(a, at, value) {
      const items = value as ArrayLike<unknown>;
      for (let i = 0; i < length; i++) element.write(a, at + i * step, items[i]);
    },
    read(a, at) {
      const out = new Array<unknown>(length);
      for (let i = 0; i < length; i++) {
        try {
          out[i] = element.read(a, at + i * step);
        } catch (err) {
          within(err, i);
        }
      }
      return out;
    },
  };
}

// ---- names ---------------------------------------------------------------------------------

const SCALARS: Record<string, Kind> = {
  i8: I8,
  u8: U8,
  i16: I16,
  u16: U16,
  i32: I32,
  u32: U32,
  f32: F32,
  f64: F64,
  bool: BOOL,
  i64: int64(true, false),
  u64: int64(false, false),
  'i64:number': int64(true, true),
  'u64:number': int64(false, true),
};

/** The tail kinds: a variable-length last field. */
export type TailKind = 'utf8' | 'bytes';

/** Parses a kind's spelling (`u32`, `utf8(16)`, `bytes[8]`, `f64[4]`, `u64:number`, ...); a TailKind for `utf8*`/`bytes*`; undefined if it is none. */
export function parseKind(spec: string): Kind | TailKind | undefined {
  if (spec === 'utf8*' || spec === 'bytes*') return spec === 'utf8*' ? 'utf8' : 'bytes';
  const m = /^(?:(utf8|bytes)([([])(\d{1,8})[)\]]|([a-z0-9]+(?::number)?))((?:\[\d{1,8}\])*)$/.exec(spec);
  if (m === null) return undefined;
  let kind: Kind | undefined;
  if (m[1] !== undefined) {
    const n = Number(m[3]);
    const bounded = m[2] === '(';
    if ((bounded && spec[m[1].length + 1 + m[3]!.length] !== ')') || (!bounded && spec[m[1].length + 1 + m[3]!.length] !== ']')) return undefined;
    if (bounded ? n < 1 || n > MAX_BOUND : n < 1 || n > MAX_FIXED) return undefined;
    kind = m[1] === 'utf8' ? (bounded ? boundedUtf8(n) : fixedUtf8(n)) : bounded ? boundedBytes(n) : fixedBytes(n);
  } else {
    kind = SCALARS[m[4]!];
    if (kind === undefined || !Object.hasOwn(SCALARS, m[4]!)) return undefined;
  }
  for (const dim of m[5]!.match(/\d+/g) ?? []) {
    const n = Number(dim);
    if (n < 1 || n > MAX_FIXED) return undefined;
    kind = arrayKind(kind, n);
  }
  return kind;
}
