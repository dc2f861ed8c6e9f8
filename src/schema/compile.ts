// The field-by-field code of one struct, generated once per layout: a checker, a writer and a
// reader whose every call to a field's kind is its own call site (a loop over the fields
// shares one site between all kinds, which V8 cannot inline: measured here 180 → 120 ns to
// write and 125 → 60 ns to read { id: u32, ts: f64, payload: utf8(40) }).
//
// A number field of 8 to 32 bits or a float (and a fixed array of up to INLINE_ELEMENTS of
// them) is read and written by DataView calls spelled into the code, not through its kind's
// closures: reading a 64-byte record of f64 fields took 43 ns through the closures against
// 16 ns inline here, writing it 35 against 8. Such a read cannot fail (every bit pattern is a
// value), and such a write stays at its fixed offsets whatever it is given.
//
// Safe to generate: the code holds only numbers, DataView method names from the table
// below, and the field names as JSON string literals, and every name was checked to be an
// identifier other than __proto__ (layout.ts's FIELD_NAME) before it gets here; the kinds
// themselves are passed in as values.
import type { Access } from './access.js';
import type { Kind } from './kinds.js';
import { FIELD_NAME, type Field } from './layout.js';
import { refuseType, within } from './refusal.js';

/** The DataView accessor of each kind read and written inline, and whether it takes an endianness. */
const INLINE: Record<string, { get: string; set: string; wide: boolean }> = {
  i8: { get: 'getInt8', set: 'setInt8', wide: false },
  u8: { get: 'getUint8', set: 'setUint8', wide: false },
  i16: { get: 'getInt16', set: 'setInt16', wide: true },
  u16: { get: 'getUint16', set: 'setUint16', wide: true },
  i32: { get: 'getInt32', set: 'setInt32', wide: true },
  u32: { get: 'getUint32', set: 'setUint32', wide: true },
  f32: { get: 'getFloat32', set: 'setFloat32', wide: true },
  f64: { get: 'getFloat64', set: 'setFloat64', wide: true },
};
/** Arrays of up to this many numbers are unrolled; longer ones go through their kind. */
const INLINE_ELEMENTS = 16;

/** How `kind` is read and written inline: its accessor and, for an array, its length and element size; undefined if through its closures. */
function inline(kind: Kind): { get: string; set: string; end: string; count: number; step: number } | undefined {
  const array = kind as Kind & { element?: Kind; length?: number };
  const element = array.element ?? kind;
  const access = Object.hasOwn(INLINE, element.canonical) ? INLINE[element.canonical]! : undefined;
  if (access === undefined) return undefined;
  if (array.element !== undefined && (array.length! > INLINE_ELEMENTS || !Number.isInteger(array.length))) return undefined;
  return { get: access.get, set: access.set, end: access.wide ? ', true' : '', count: array.element === undefined ? 0 : array.length!, step: element.size };
}

export interface FieldsCode {
  /** Checks every field of `o` (an object); throws a Refusal naming the field. */
  check(o: Record<string, unknown>): void;
  /** Writes every field of `o` at `at` (checked before; stays in each field's bytes whatever it is given). */
  write(a: Access, at: number, o: Record<string, unknown>): void;
  /** Reads every field at `at` into a new plain object; throws a Refusal naming the field. */
  read(a: Access, at: number): Record<string, unknown>;
}

export function compileFields(fields: readonly Field[]): FieldsCode {
  const names = fields.map((f) => f.name);
  for (const name of names) if (!FIELD_NAME.test(name) || name === '__proto__') throw new TypeError(`field name ${JSON.stringify(name)} cannot be compiled`);
  const key = (i: number): string => JSON.stringify(names[i]);
  const missing = (i: number): never => refuseType(undefined, `a field ${names[i]} (${fields[i]!.kind.canonical}): it is missing`);
  let prelude = '';
  let check = 'let i = 0;\ntry {\n';
  let write = '';
  let read = 'let i = 0;\ntry {\n';
  let literal = '';
  fields.forEach((f, i) => {
    prelude += `const c${i} = kinds[${i}].check, w${i} = kinds[${i}].write, r${i} = kinds[${i}].read;\n`;
    check += `  i = ${i};\n  const v${i} = o[${key(i)}];\n  if (v${i} === undefined && !(${key(i)} in o)) missing(${i});\n  c${i}(v${i});\n`;
    const direct = inline(f.kind);
    if (direct === undefined) {
      write += `  w${i}(a, at + ${f.offset}, o[${key(i)}]);\n`;
      read += `  i = ${i};\n  const v${i} = r${i}(a, at + ${f.offset});\n`;
    } else if (direct.count === 0) {
      write += `  a.dv.${direct.set}(at + ${f.offset}, o[${key(i)}]${direct.end});\n`;
      read += `  const v${i} = a.dv.${direct.get}(at + ${f.offset}${direct.end});\n`;
    } else {
      const at = (j: number): number => f.offset + j * direct.step;
      write += `  const a${i} = o[${key(i)}];\n`;
      for (let j = 0; j < direct.count; j++) write += `  a.dv.${direct.set}(at + ${at(j)}, a${i}[${j}]${direct.end});\n`;
      read += `  const v${i} = [${Array.from({ length: direct.count }, (_, j) => `a.dv.${direct.get}(at + ${at(j)}${direct.end})`).join(', ')}];\n`;
    }
    literal += `${key(i)}: v${i}, `;
  });
  check += '} catch (err) {\n  within(err, names[i]);\n}';
  read += `  return { ${literal}};\n} catch (err) {\n  return within(err, names[i]);\n}`;
  const source = `${prelude}return {\n  check(o) {\n${check}\n  },\n  write(a, at, o) {\n${write}  },\n  read(a, at) {\n${read}\n  },\n};`;
  const make = new Function('kinds', 'names', 'within', 'missing', source) as (kinds: unknown, names: string[], w: typeof within, m: typeof missing) => FieldsCode;
  return make(
    fields.map((f) => f.kind),
    names,
    within,
    missing,
  );
}
