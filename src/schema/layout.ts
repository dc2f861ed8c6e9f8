// The layout rule of typed messages (docs/PROTOCOL.md, "Typed messages"): fields in
// declaration order, each at the next offset that is a multiple of its alignment; a
// struct's alignment is its largest field alignment and its size is rounded up to it. A
// variable-length tail keeps a u32 length in the fixed part (at its 4-aligned place) and
// its bytes follow the fixed part. This file turns a declaration into offsets once; nothing
// else computes one.
import { typeError } from '../errors.js';
import type { Kind, TailKind } from './kinds.js';

/**
 * A field's name: an identifier (it is spelled into C and Python declarations, the canonical
 * form and the generated code of compile.ts), other than __proto__ (an object's prototype,
 * never a field of a plain object).
 */
export const FIELD_NAME = /^(?!__proto__$)[A-Za-z_][A-Za-z0-9_]*$/;

export interface Field {
  readonly name: string;
  readonly kind: Kind;
  readonly offset: number;
}

export interface Tail {
  readonly name: string;
  readonly kind: TailKind;
  /** Offset of its u32 length in the fixed part. */
  readonly lengthOffset: number;
}

export interface Layout {
  readonly fields: readonly Field[];
  readonly tail: Tail | undefined;
  /** Bytes of the fixed part (a multiple of `align`); a tail's bytes follow it. */
  readonly size: number;
  readonly align: number;
  /** The whole layout in one string, nested structs inlined, field names included. */
  readonly canonical: string;
  /** Padding bytes of the fixed part (nested structs' and array elements' included), as [start, end) pairs: zeroed on write. */
  readonly padding: readonly number[];
}

/** Size of a tail's length field, and its alignment. */
export const TAIL_LENGTH_SIZE = 4;

export const alignUp = (offset: number, align: number): number => Math.ceil(offset / align) * align;

/** Lays out `declared` ([name, kind] in declaration order; a TailKind only last). */
export function layOut(declared: ReadonlyArray<readonly [string, Kind | TailKind]>): Layout {
  const fields: Field[] = [];
  let tail: Tail | undefined;
  let offset = 0;
  let align = 1;
  const parts: string[] = [];
  declared.forEach(([name, kind], i) => {
    if (typeof kind === 'string') {
      if (i !== declared.length - 1) throw typeError(name, `${kind}*`, 'a tail (utf8* or bytes*) only as the last field');
      offset = alignUp(offset, TAIL_LENGTH_SIZE);
      tail = { name, kind, lengthOffset: offset };
      parts.push(`${name}:${kind}*@${offset}`);
      offset += TAIL_LENGTH_SIZE;
      align = Math.max(align, TAIL_LENGTH_SIZE);
      return;
    }
    offset = alignUp(offset, kind.align);
    fields.push({ name, kind, offset });
    parts.push(`${name}:${kind.canonical}@${offset}`);
    offset += kind.size;
    align = Math.max(align, kind.align);
  });
  const size = alignUp(offset, align);
  return { fields, tail, size, align, canonical: `struct(${size},${align}){${parts.join(';')}}`, padding: paddingOf(fields, tail, size) };
}

/** The padding of a fixed part: the gaps between fields and at the end, and those inside each field. */
function paddingOf(fields: readonly Field[], tail: Tail | undefined, size: number): number[] {
  const gaps: number[] = [];
  let at = 0;
  const gap = (to: number) => {
    if (to > at) gaps.push(at, to);
  };
  for (const f of fields) {
    gap(f.offset);
    for (const p of f.kind.padding ?? []) gaps.push(f.offset + p);
    at = f.offset + f.kind.size;
  }
  if (tail !== undefined) {
    gap(tail.lengthOffset);
    at = tail.lengthOffset + TAIL_LENGTH_SIZE;
  }
  gap(size);
  return gaps;
}
