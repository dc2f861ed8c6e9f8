// Declarations of a schema's bytes for other languages, spelled from the layout (layout.ts)
// so that a C or Python peer reads exactly what Node writes. Both are plain strings and
// lists a person pastes into their program; neither is a full binding.
//
// C: one struct of fixed-width types in declaration order (nested structs as inline
// anonymous structs, `utf8(N)`/`bytes(N)` as { uint16_t length; uint8_t bytes[N]; }), whose
// natural padding is the layout rule's on every ABI where u64/f64 align to 8; the
// _Static_asserts on sizeof and offsetof refuse to compile where it is not. A tail's u32
// length is a field; its bytes start at sizeof(the struct) (a flexible array member could
// start before the padding at the end).
//
// Python: a `struct` format (little-endian, no implicit padding: pads are explicit `x`) and
// the name of each value struct.unpack_from() returns. A bounded string or byte array gives
// two values, `<name>.length` (H) then `<name>` (the N bytes: take the first `length`); a
// tail gives `<name>.length` (I), its bytes following the fixed part at `size`.
import type { Kind } from './kinds.js';
import { TAIL_LENGTH_SIZE, type Layout } from './layout.js';

const C_TYPES: Record<string, string> = {
  i8: 'int8_t',
  u8: 'uint8_t',
  i16: 'int16_t',
  u16: 'uint16_t',
  i32: 'int32_t',
  u32: 'uint32_t',
  i64: 'int64_t',
  u64: 'uint64_t',
  f32: 'float',
  f64: 'double',
  bool: 'uint8_t', // 0 or 1
};

const PY_CODES: Record<string, string> = { i8: 'b', u8: 'B', i16: 'h', u16: 'H', i32: 'i', u32: 'I', i64: 'q', u64: 'Q', f32: 'f', f64: 'd', bool: '?' };

type Inner = Kind & { layout?: Layout };

/** The element kind of a (possibly nested) array kind, and its dimensions outermost first. */
function dimensions(kind: Kind): { element: Inner; dims: number[] } {
  const dims: number[] = [];
  let k = kind as Inner & { element?: Kind; length?: number };
  while (k.element !== undefined) {
    dims.push(k.length!);
    k = k.element;
  }
  return { element: k, dims };
}

function cMember(kind: Kind, name: string, indent: string): string {
  const { element, dims } = dimensions(kind);
  const suffix = dims.map((d) => `[${d}]`).join('');
  const c = element.canonical;
  if (element.layout !== undefined) return `${indent}struct {\n${cMembers(element.layout, `${indent}  `)}${indent}} ${name}${suffix};\n`;
  const bounded = /^(utf8|bytes)\((\d+)\)$/.exec(c);
  if (bounded !== null) return `${indent}struct { uint16_t length; uint8_t bytes[${bounded[2]}]; } ${name}${suffix};\n`;
  const fixed = /^(utf8|bytes)\[(\d+)\]$/.exec(c);
  if (fixed !== null) return `${indent}${fixed[1] === 'utf8' ? 'char' : 'uint8_t'} ${name}${suffix}[${fixed[2]}];\n`;
  return `${indent}${C_TYPES[c]} ${name}${suffix};\n`;
}

function cMembers(layout: Layout, indent: string): string {
  let out = '';
  for (const f of layout.fields) out += cMember(f.kind, f.name, indent);
  if (layout.tail !== undefined) out += `${indent}uint32_t ${layout.tail.name}_length; /* ${layout.tail.kind} tail: its bytes start at sizeof the outer struct */\n`;
  return out;
}

/** Offsets to assert: every field, nested struct fields by their dotted path. */
function offsets(layout: Layout, prefix: string, base: number, out: Array<[string, number]>): void {
  for (const f of layout.fields) {
    out.push([`${prefix}${f.name}`, base + f.offset]);
    const inner = (f.kind as Inner).layout;
    if (inner !== undefined) offsets(inner, `${prefix}${f.name}.`, base + f.offset, out);
  }
  if (layout.tail !== undefined) out.push([`${prefix}${layout.tail.name}_length`, base + layout.tail.lengthOffset]);
}

/** The C declaration of `layout` as `typedef struct { ... } name;` with its _Static_asserts. */
export function toC(layout: Layout, name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`name=${JSON.stringify(name)}: expected a C identifier`);
  const fields: Array<[string, number]> = [];
  offsets(layout, '', 0, fields);
  let out = `/* ${layout.canonical} */\n#include <stddef.h>\n#include <stdint.h>\n\ntypedef struct {\n${cMembers(layout, '  ')}} ${name};\n\n`;
  out += `_Static_assert(sizeof(${name}) == ${layout.size}, "${name}: size");\n`;
  out += `_Static_assert(_Alignof(${name}) == ${layout.align}, "${name}: alignment");\n`;
  for (const [path, offset] of fields) out += `_Static_assert(offsetof(${name}, ${path}) == ${offset}, "${name}.${path}: offset");\n`;
  if (layout.tail !== undefined) out += `\n/* The ${layout.tail.name} tail: ${layout.tail.name}_length bytes after the fixed part. */\nstatic inline const uint8_t *${name}_${layout.tail.name}(const ${name} *r) { return (const uint8_t *)r + sizeof(${name}); }\n`;
  return out;
}

export interface PythonLayout {
  /** For struct.unpack_from / struct.pack_into: little-endian, explicit pads. */
  format: string;
  /** The name of each value the format gives, in order (`pos.x`, `vals[2]`, `symbol.length`). */
  names: string[];
  /** Bytes of the fixed part (struct.calcsize(format)). */
  size: number;
  /** The tail, if any: its length is the value named `<name>.length`; its bytes follow at `size`. */
  tail?: { name: string; kind: 'utf8' | 'bytes' };
}

function pyKind(kind: Kind, name: string, out: { format: string; names: string[] }): void {
  const { element, dims } = dimensions(kind);
  const count = dims.reduce((a, b) => a * b, 1);
  const names: string[] = [];
  const index = (i: number): string => {
    let suffix = '';
    for (let d = dims.length - 1, rest = i; d >= 0; d--) {
      suffix = `[${rest % dims[d]!}]${suffix}`;
      rest = Math.floor(rest / dims[d]!);
    }
    return `${name}${suffix}`;
  };
  for (let i = 0; i < count; i++) names.push(index(i));
  for (const n of names) {
    const c = element.canonical;
    if (element.layout !== undefined) {
      pyLayout(element.layout, `${n}.`, out);
      continue;
    }
    const bounded = /^(utf8|bytes)\((\d+)\)$/.exec(c);
    const fixed = /^(utf8|bytes)\[(\d+)\]$/.exec(c);
    if (bounded !== null) {
      out.format += `H${bounded[2]}s`;
      out.names.push(`${n}.length`, n);
    } else if (fixed !== null) {
      out.format += `${fixed[2]}s`;
      out.names.push(n);
    } else {
      out.format += PY_CODES[c];
      out.names.push(n);
    }
  }
}

function pyLayout(layout: Layout, prefix: string, out: { format: string; names: string[] }): void {
  let at = 0;
  const pad = (to: number) => {
    if (to > at) out.format += to - at === 1 ? 'x' : `${to - at}x`;
    at = to;
  };
  for (const f of layout.fields) {
    pad(f.offset);
    pyKind(f.kind, `${prefix}${f.name}`, out);
    at = f.offset + f.kind.size;
  }
  if (layout.tail !== undefined) {
    pad(layout.tail.lengthOffset);
    out.format += 'I';
    out.names.push(`${prefix}${layout.tail.name}.length`);
    at = layout.tail.lengthOffset + TAIL_LENGTH_SIZE;
  }
  pad(layout.size);
}

/** The Python `struct` format and value names of `layout`. */
export function toPython(layout: Layout): PythonLayout {
  const out = { format: '', names: [] as string[] };
  pyLayout(layout, '', out);
  const result: PythonLayout = { format: `<${out.format}`, names: out.names, size: layout.size };
  if (layout.tail !== undefined) result.tail = { name: layout.tail.name, kind: layout.tail.kind };
  return result;
}
