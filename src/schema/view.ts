// The flyweight of a schema: one object per schema (and one per nested struct field inside
// it) whose getters read each field from the record's bytes when asked. wrap() points it at
// another record and returns the same object, so a view is valid only until the next wrap
// (the next message): whatever it is asked afterwards comes from the bytes it now points
// at. Over ring memory (drain), it is valid only inside the callback; read later, it shows
// whatever the ring holds there by then, which may be another message's bytes.
//
// Each struct's view is a class generated once (as compile.ts generates its reader: one call
// site per field), whose getters are its fields and whose state is private (#a, #base), so
// no field name can clash with it. Only numbers and checked identifiers are spelled into it.
import type { Access } from './access.js';
import { FIELD_NAME, type Layout } from './layout.js';
import { copyOut, type Kind } from './kinds.js';
import { decodeError, within } from './refusal.js';
import { readUtf8 } from './utf8.js';

/** A generated view class: `wrap(view, access, base)` points an instance at a record. */
interface ViewClass {
  new (): object;
  wrap(view: object, a: Access, base: number): object;
}

/** The view class of `layout` (nested structs' classes made on the way). */
function viewClass(layout: Layout, schemaName: string): ViewClass {
  const { fields, tail } = layout;
  const key = (name: string): string => {
    if (!FIELD_NAME.test(name)) throw new TypeError(`field name ${JSON.stringify(name)} cannot be compiled`);
    return JSON.stringify(name);
  };
  const nested: Array<ViewClass | undefined> = fields.map((f) => {
    const inner = (f.kind as Kind & { layout?: Layout }).layout;
    return inner === undefined ? undefined : viewClass(inner, schemaName);
  });
  let members = '';
  let slots = '';
  fields.forEach((f, i) => {
    if (nested[i] !== undefined) {
      slots += `  #c${i} = undefined;\n`;
      members += `  get ${key(f.name)}() {\n    const child = (this.#c${i} ??= new nested[${i}]());\n    return nested[${i}].wrap(child, this.#a, this.#base + ${f.offset});\n  }\n`;
    } else {
      members += `  get ${key(f.name)}() {\n    try {\n      return r${i}(this.#a, this.#base + ${f.offset});\n    } catch (err) {\n      return fail(err, ${i});\n    }\n  }\n`;
    }
  });
  if (tail !== undefined) {
    // (its length was checked against the record at wrap)
    members += `  get ${key(tail.name)}() {\n    const length = this.#a.dv.getUint32(this.#base + ${tail.lengthOffset}, true);\n    return readTail(this.#a, this.#base + ${layout.size}, length);\n  }\n`;
  }
  let prelude = '';
  fields.forEach((_, i) => (prelude += `const r${i} = kinds[${i}].read;\n`));
  const source = `${prelude}return class View {\n  #a = undefined;\n  #base = 0;\n${slots}  static wrap(view, a, base) {\n    view.#a = a;\n    view.#base = base;\n    return view;\n  }\n${members}};`;
  const names = fields.map((f) => f.name);
  const fail = (err: unknown, i: number): never => {
    try {
      within(err, names[i]!);
    } catch (refusal) {
      throw decodeError(refusal, schemaName);
    }
    throw err; // (within always throws)
  };
  const readTail = tail === undefined ? undefined : tail.kind === 'utf8' ? (a: Access, at: number, n: number) => readUtf8(a.buf, at, n) : (a: Access, at: number, n: number) => copyOut(a, at, n);
  const make = new Function('kinds', 'nested', 'fail', 'readTail', source) as (...args: unknown[]) => ViewClass;
  const View = make(
    fields.map((f) => f.kind),
    nested,
    fail,
    readTail,
  );
  // Fields are enumerable, as a decoded object's are (for...in, spread of a copy).
  for (const name of [...names, ...(tail === undefined ? [] : [tail.name])]) {
    Object.defineProperty(View.prototype, name, { ...Object.getOwnPropertyDescriptor(View.prototype, name)!, enumerable: true });
  }
  return View;
}

/** The flyweight of one schema: wrap(a, base) after the caller checked the record's length. */
export class View {
  readonly #class: ViewClass;
  readonly #object: object;

  constructor(layout: Layout, schemaName: string) {
    this.#class = viewClass(layout, schemaName);
    this.#object = new this.#class();
  }

  /** Points the flyweight at the record at byte `base` of the buffer of `a` (the caller's Access: a view's .buffer is read once per record). */
  wrap(a: Access, base: number): object {
    return this.#class.wrap(this.#object, a, base);
  }
}
