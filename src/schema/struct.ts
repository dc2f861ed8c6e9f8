// A schema: a record type declared once (`struct({ id: 'u32', ts: 'f64', symbol: 'utf8(16)' })`)
// and laid out once (layout.ts), then encoded field by field at offsets computed then, and
// decoded into a plain object or read through a flyweight (view.ts). A Schema is a Channel
// codec with a direct path: the Channel writes the record straight into ring memory.
// Every refusal of a value names its field and happens before anything is written
// (encodedLength() checks the whole value); every refusal of a record is ERR_BAD_MESSAGE.
//
// The field-by-field code of each struct is generated once (compile.ts: it pays, and only
// numbers and checked identifiers are spelled into it).
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { checkBytes, checkInteger, rangeError, typeError } from '../errors.js';
import type { BlockOptions } from '../sync/waiting.js';
import type { SpscRing } from '../ring/spsc/ring.js';
import type { Codec, CodecDirect, SchemaIdentity } from '../transport/codec.js';
import { knownSchemas } from '../transport/codec.js';
import { Accessor, type Access } from './access.js';
import { arrayKind, copyOut, MAX_FIXED, parseKind, type Kind, type TailKind } from './kinds.js';
import { compileFields, type FieldsCode } from './compile.js';
import { FIELD_NAME, layOut, type Layout } from './layout.js';
import { corrupt, decodeError, encodeError, refuseType, within } from './refusal.js';
import { toC, toPython, type PythonLayout } from './generators.js';
import { readUtf8, utf8Length, writeUtf8 } from './utf8.js';
import { View } from './view.js';

/** A fixed-length array field: `array('f64', 4)`, `array(Point, 3)`, `array('utf8(8)', 2)`. */
export class FieldArray<E extends FieldSpec = FieldSpec> {
  constructor(
    readonly element: E,
    readonly length: number,
  ) {}
}

/** How a field is declared: a kind's spelling, a nested Schema, or array(element, n). */
// (Schema<any>: a schema of any record type may be nested; Schema<T> is invariant in T.)
export type FieldSpec = string | Schema<any> | FieldArray<any>;

// ---- types of values -------------------------------------------------------------------------
// What TypeScript infers from a declaration, so that `struct({ id: 'u32', payload: 'utf8(40)' })`
// is a Schema<{ id: number; payload: string }>. A spelling it cannot read (a string that is not
// a literal) gives unknown; one struct() will refuse at run time gives never.

/** The value of a kind without array dimensions. */
type ScalarValue<K extends string> = K extends 'u64' | 'i64'
  ? bigint
  : K extends 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'f32' | 'f64' | 'i64:number' | 'u64:number'
    ? number
    : K extends 'bool'
      ? boolean
      : K extends `utf8(${number})`
        ? string
        : K extends `bytes(${number})`
          ? Uint8Array
          : never;

/**
 * `T` in as many arrays as `Dims` ('2', '2][3', ...: what follows the first '[') has dimensions.
 */
type Arrays<Dims extends string, T> = Dims extends `${string}][${infer More}` ? Arrays<More, T>[] : T[];

/**
 * The value of a kind's spelling: 'u32' → number, 'u64' → bigint, 'utf8[8]' → string, 'f64[4]' →
 * number[], 'utf8*' → string.
 */
export type KindValue<K extends string> = string extends K
  ? unknown
  : K extends 'utf8*'
    ? string
    : K extends 'bytes*'
      ? Uint8Array
      : K extends `${infer Base}[${infer Dims}]`
        ? Base extends 'utf8' // utf8[N]: a string of N bytes, then array dimensions if any
          ? Dims extends `${string}][${infer More}`
            ? Arrays<More, string>
            : string
          : Base extends 'bytes'
            ? Dims extends `${string}][${infer More}`
              ? Arrays<More, Uint8Array>
              : Uint8Array
            : Arrays<Dims, ScalarValue<Base>>
        : ScalarValue<K>;

/** The value of a field declared as `S`: a kind's spelling, a nested schema, or an array(). */
export type FieldValue<S> = S extends string ? KindValue<S> : S extends Schema<infer T> ? T : S extends FieldArray<infer E> ? FieldValue<E>[] : unknown;

/** The record type of the fields `F` of struct(). */
export type StructValue<F> = { -readonly [K in keyof F]: FieldValue<F[K]> };

/** The record type of a schema: `Infer<typeof Tick>`. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

export interface StructOptions {
  /** The type's name, in errors and generated declarations. Default 'struct'. */
  name?: string;
}

/** A fixed-length array of `length` (1 to 2^24) elements of `element`, for a struct field. */
export function array<const E extends FieldSpec>(element: E, length: number): FieldArray<E> {
  checkInteger('length', length, 1, MAX_FIXED);
  kindOf(element, 'element'); // refused now rather than at struct()
  return new FieldArray(element, length);
}

/**
 * Declares a record type; see Schema. Its type follows the fields: struct({ id: 'u32', s:
 * 'utf8(8)' }) is a Schema<{ id: number; s: string }>.
 */
export function struct<const F extends Record<string, FieldSpec>>(fields: F, options?: StructOptions): Schema<StructValue<F>> {
  return new Schema<StructValue<F>>(fields, options);
}

/** The nested kind of each schema (a schema with a tail has none: it cannot be nested). */
const nestedKinds = new WeakMap<object, Kind>();

function kindOf(spec: unknown, name: string): Kind | TailKind {
  if (typeof spec === 'string') {
    const kind = parseKind(spec);
    if (kind === undefined) throw typeError(name, spec, "a field kind: i8 u8 i16 u16 i32 u32 i64 u64 ('i64:number', 'u64:number') f32 f64 bool, 'utf8(N)' 'bytes(N)' 'utf8[N]' 'bytes[N]', a kind with [n] for an array, 'utf8*' or 'bytes*' last, a struct, or array()");
    return kind;
  }
  if (spec instanceof Schema) {
    const kind = nestedKinds.get(spec);
    if (kind === undefined) throw typeError(name, spec, 'a struct without a variable-length tail (only the outermost struct may have one)');
    return kind;
  }
  if (spec instanceof FieldArray) {
    const element = kindOf(spec.element, name);
    if (typeof element === 'string') throw typeError(name, spec.element, 'an array element of fixed size (not a tail)');
    return arrayKind(element, spec.length);
  }
  throw typeError(name, spec, "a field kind string ('u32', 'utf8(16)', ...), a struct, or array()");
}

/** The kind of a nested struct: its fields at its own offsets, as a plain object. */
function structKind(layout: Layout): Kind & { layout: Layout } {
  const code = compileFields(layout.fields);
  return {
    size: layout.size,
    align: layout.align,
    canonical: layout.canonical,
    padding: layout.padding,
    layout,
    check(value) {
      if (value === null || typeof value !== 'object') refuseType(value, 'an object');
      code.check(value as Record<string, unknown>);
    },
    write: (a, at, value) => code.write(a, at, value as Record<string, unknown>),
    read: (a, at) => code.read(a, at),
  };
}

/**
 * A record type: its layout (`size`, `align`, `canonical`, `hash`), encode/decode, a
 * flyweight view, ring reads and writes, and C and Python declarations of the same bytes.
 * A Schema is also a Channel codec: `Channel.create(address, { codec: Tick })`.
 */
export class Schema<T = Record<string, unknown>> implements Codec<T> {
  readonly name: string;
  /** Bytes of the fixed part; a record without a tail is exactly this long. */
  readonly size: number;
  readonly align: number;
  /** The whole layout as one string, nested structs inlined (docs/PROTOCOL.md). */
  readonly canonical: string;
  /** The first 8 bytes of SHA-256 of `canonical`, in hex. */
  readonly hash: string;
  /** The same 8 bytes as an unsigned big-endian BigInt (what a Channel's header holds). */
  readonly hashBigInt: bigint;
  readonly #layout: Layout;
  readonly #code: FieldsCode;
  readonly #writer = new Accessor();
  readonly #reader = new Accessor();
  #view: View | undefined;
  /** Decodes `view` into the last record a ring read gave (read, tryRead). */
  #taken: unknown;
  readonly #take = (view: Uint8Array): void => {
    this.#taken = this.decode(view);
  };
  /** For Codec: a decoded record never views its input. */
  readonly fresh = true;
  readonly borrows = false;
  /** For the Channel: the record is written straight into ring memory. */
  readonly direct: CodecDirect<T>;
  readonly identity: SchemaIdentity;

  constructor(fields: Record<string, FieldSpec>, options?: StructOptions) {
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) throw typeError('fields', fields, 'an object of field kinds');
    const name = options?.name ?? 'struct';
    if (typeof name !== 'string' || !FIELD_NAME.test(name)) throw typeError('name', name, 'an identifier');
    const declared: Array<[string, Kind | TailKind]> = [];
    for (const field of Object.keys(fields)) {
      if (!FIELD_NAME.test(field)) throw typeError('field name', field, 'an identifier ([A-Za-z_][A-Za-z0-9_]*) other than __proto__');
      declared.push([field, kindOf(fields[field], field)]);
    }
    if (declared.length === 0) throw typeError('fields', fields, 'at least one field');
    const layout = (this.#layout = layOut(declared));
    this.#code = compileFields(layout.fields);
    this.name = name;
    this.size = layout.size;
    this.align = layout.align;
    this.canonical = layout.canonical;
    this.hash = createHash('sha256').update(layout.canonical).digest('hex').slice(0, 16);
    this.hashBigInt = BigInt(`0x${this.hash}`);
    if (layout.tail === undefined) nestedKinds.set(this, structKind(layout));
    this.identity = { name, canonical: layout.canonical, hash: this.hashBigInt };
    knownSchemas.set(this.hashBigInt, `${name} ${layout.canonical}`);
    this.direct = {
      encodedLength: (value) => this.encodedLength(value),
      encodeInto: (value, bytes, offset) => this.#writeInto(value, bytes, offset, bytes.length - offset),
      encodeAt: (value, buffer, byteOffset, length) => this.#write(value as Record<string, unknown>, this.#writer.ofBuffer(buffer), byteOffset, length),
      decodeAt: (buffer, byteOffset, length) => this.#decode(this.#reader.ofBuffer(buffer), byteOffset, length),
    };
  }

  /** The fields in declaration order with their offsets (the tail's is its u32 length's). */
  get fields(): ReadonlyArray<{ name: string; kind: string; offset: number; size: number }> {
    const out = this.#layout.fields.map((f) => ({ name: f.name, kind: f.kind.canonical, offset: f.offset, size: f.kind.size }));
    const tail = this.#layout.tail;
    if (tail !== undefined) out.push({ name: tail.name, kind: `${tail.kind}*`, offset: tail.lengthOffset, size: 4 });
    return out;
  }

  // ---- encoding ----------------------------------------------------------------------------

  /**
   * Checks `value` against the schema and returns the bytes its record takes (`size`, plus
   * the tail's length). Throws TypeError/RangeError naming the field for a missing field, a
   * wrong type, a number out of range or not an integer, a string or bytes too long.
   */
  encodedLength(value: T): number {
    try {
      if (value === null || typeof value !== 'object') refuseType(value, `an object of schema ${this.name}`);
      const o = value as Record<string, unknown>;
      this.#code.check(o);
      const tail = this.#layout.tail;
      if (tail === undefined) return this.size;
      const t = o[tail.name];
      try {
        if (tail.kind === 'utf8') {
          if (typeof t !== 'string') refuseType(t, 'a string');
          return this.size + utf8Length(t as string);
        }
        if (!(t instanceof Uint8Array)) refuseType(t, 'a Uint8Array');
        return this.size + (t as Uint8Array).length;
      } catch (err) {
        return within(err, tail.name);
      }
    } catch (err) {
      throw encodeError(err, this.name);
    }
  }

  /**
   * Writes the record of `value` into `bytes` at `offset`; returns its length. A refused
   * value throws before anything is written (encodedLength). Only a value whose getters
   * answer differently the second time can throw once writing began (a tail that changed
   * length): then the record's own bytes may be partly written, never a byte outside them.
   */
  encodeInto(value: T, bytes: Uint8Array, offset = 0): number {
    checkBytes(bytes);
    checkInteger('offset', offset, 0, bytes.length);
    const length = this.encodedLength(value);
    if (length > bytes.length - offset) throw rangeError('bytes', bytes, `room for ${length} bytes from offset ${offset} (it has ${bytes.length - offset})`);
    this.#writeInto(value, bytes, offset, length);
    return length;
  }

  /** The record of `value` in a Uint8Array of its own. */
  encode(value: T): Uint8Array {
    const length = this.encodedLength(value);
    const bytes = Buffer.allocUnsafe(length);
    this.#writeInto(value, bytes, 0, length);
    return bytes;
  }

  /** #write() of `value` at `offset` of `bytes`. */
  #writeInto(value: T, bytes: Uint8Array, offset: number, length: number): void {
    this.#write(value as Record<string, unknown>, this.#writer.of(bytes), bytes.byteOffset + offset, length);
  }

  /**
   * Writes a value encodedLength() checked as a record of `length` bytes at byte `base` of
   * the buffer of `a`. Stays inside those bytes whatever the value's getters answer now; a
   * tail whose length changed since it was measured is refused.
   */
  #write(o: Record<string, unknown>, a: Access, base: number, length: number): void {
    // Padding is zero, never old ring bytes or heap garbage.
    const padding = this.#layout.padding;
    for (let i = 0; i < padding.length; i += 2) for (let at = base + padding[i]!; at < base + padding[i + 1]!; at++) a.u8[at] = 0;
    this.#code.write(a, base, o);
    const tail = this.#layout.tail;
    if (tail === undefined) return;
    const room = length - this.size;
    const t = o[tail.name];
    let n: number;
    // (a string measured again: one that grew since would be written cut)
    if (tail.kind === 'utf8') n = typeof t === 'string' && utf8Length(t) === room ? writeUtf8(a.buf, t, base + this.size, room) : -1;
    else {
      n = t instanceof Uint8Array && t.length <= room ? t.length : 0;
      if (n > 0) a.buf.set(t as Uint8Array, base + this.size);
    }
    if (n !== room) throw rangeError(tail.name, t, `the value measured by encodedLength() (it changed while encoded)`);
    a.dv.setUint32(base + tail.lengthOffset, n, true);
  }

  // ---- decoding ----------------------------------------------------------------------------

  /** Checks a record's length against the layout (and its tail's); refuses it otherwise. */
  #checkRecord(a: Access, base: number, length: number): void {
    const tail = this.#layout.tail;
    if (tail === undefined) {
      if (length !== this.size) corrupt(`a record of ${length} bytes (the layout is ${this.size})`);
      return;
    }
    if (length < this.size) corrupt(`a record of ${length} bytes, shorter than the fixed part (${this.size})`);
    const declared = a.dv.getUint32(base + tail.lengthOffset, true);
    if (this.size + declared !== length) corrupt(`a record of ${length} bytes whose tail ${tail.name} declares ${declared} (${this.size} + ${declared} expected)`);
  }

  /** A plain object of the record in `bytes` (a copy: nothing in it views `bytes`). ERR_BAD_MESSAGE for bytes no writer of this schema writes. */
  decode(bytes: Uint8Array): T {
    checkBytes(bytes);
    return this.#decode(this.#reader.of(bytes), bytes.byteOffset, bytes.length);
  }

  /** decode() of the `length` bytes at byte `base` of the buffer of `a`. */
  #decode(a: Access, base: number, length: number): T {
    try {
      this.#checkRecord(a, base, length);
      const out = this.#code.read(a, base);
      const tail = this.#layout.tail;
      if (tail !== undefined) {
        const n = length - this.size;
        out[tail.name] = tail.kind === 'utf8' ? readUtf8(a.buf, base + this.size, n) : copyOut(a, base + this.size, n);
      }
      return out as T;
    } catch (err) {
      throw decodeError(err, this.name);
    }
  }

  /**
   * The flyweight over the record in `bytes`: one object per schema, reused, whose getters
   * read each field from `bytes` when asked. It is valid until the next view() of this
   * schema: afterwards it reads the newer record (and over ring memory, after drain's
   * callback returns, whatever the ring holds there by then). The record's length is checked
   * here; a field's bytes are checked when it is read (ERR_BAD_MESSAGE then).
   */
  view(bytes: Uint8Array): Readonly<T> {
    checkBytes(bytes);
    this.#view ??= new View(this.#layout, this.name);
    const a = this.#reader.of(bytes);
    const base = bytes.byteOffset;
    try {
      this.#checkRecord(a, base, bytes.length);
    } catch (err) {
      throw decodeError(err, this.name);
    }
    return this.#view.wrap(a, base) as Readonly<T>;
  }

  // ---- rings -------------------------------------------------------------------------------

  /** Encodes `value` into a claim of exactly its length (no intermediate buffer); false if the ring is full. Nothing is written if it throws. */
  tryWrite(ring: SpscRing, value: T): boolean {
    const length = this.encodedLength(value);
    const claim = ring.tryClaim(length);
    if (claim === null) return false;
    this.#commit(claim, value, length);
    return true;
  }

  /** As tryWrite(), blocking the thread while the ring is full (SpscRing.claim). */
  write(ring: SpscRing, value: T, options?: BlockOptions): void {
    const length = this.encodedLength(value);
    this.#commit(ring.claim(length, options), value, length);
  }

  #commit(claim: { bytes: Uint8Array; commit(): void; abort(): void }, value: T, length: number): void {
    try {
      this.#writeInto(value, claim.bytes, 0, length);
    } catch (err) {
      claim.abort();
      throw err;
    }
    claim.commit();
  }

  /** The next record of the ring decoded (from ring memory, without a copy first), or null if it is empty. ERR_BAD_MESSAGE for a corrupt record (it is consumed). */
  tryRead(ring: SpscRing): T | null {
    this.#taken = null;
    ring.drain(this.#take, 1);
    const taken = this.#taken as T | null;
    this.#taken = null;
    return taken;
  }

  /** As tryRead(), blocking the thread while the ring is empty (SpscRing.waitReadable). */
  read(ring: SpscRing, options?: BlockOptions): T {
    for (;;) {
      const record = this.tryRead(ring);
      if (record !== null) return record;
      ring.waitReadable(options);
    }
  }

  /**
   * Calls `fn` with the flyweight (view()) of each waiting record, in place in ring memory
   * (at most `max`); the view is valid only inside `fn`. Returns how many were consumed. A
   * corrupt record is consumed and its ERR_BAD_MESSAGE thrown.
   */
  drain(ring: SpscRing, fn: (view: Readonly<T>) => void, max = Infinity): number {
    if (typeof fn !== 'function') throw typeError('fn', fn, 'a function');
    return ring.drain((bytes) => fn(this.view(bytes)), max);
  }

  // ---- other languages ---------------------------------------------------------------------

  /** A C declaration of the same bytes, with _Static_asserts on its size and offsets (generators.ts). */
  toC(name: string = this.name): string {
    return toC(this.#layout, name);
  }

  /** A Python `struct` format and the field names of the same bytes (generators.ts). */
  toPython(): PythonLayout {
    return toPython(this.#layout);
  }
}
