// The flyweight of a schema: one object per schema (and per nested struct field inside it)
// whose getters read each field from the record's bytes when asked. wrap() points it at
// another record and returns the same object, so a view is valid only until the next
// wrap (the next message): whatever it is asked afterwards comes from the bytes it now
// points at. Over ring memory (drain), it is valid only inside the callback; read later, it
// shows whatever the ring holds there by then, which may be another message's bytes.
import { Accessor, type Access } from './access.js';
import type { Layout } from './layout.js';
import { copyOut, type Kind } from './kinds.js';
import { decodeError, Refusal } from './refusal.js';
import { readUtf8 } from './utf8.js';

const ACCESS = Symbol('access');
const BASE = Symbol('base');

interface Flyweight {
  [ACCESS]: Access;
  [BASE]: number;
}

/** A view's prototype: a getter per field (nested structs give their own reused view). */
function viewPrototype(layout: Layout, schemaName: string, nested: (layout: Layout) => object): object {
  const proto = Object.create(null) as Record<string, unknown>;
  const fail = (err: unknown): never => {
    throw decodeError(err, schemaName);
  };
  for (const field of layout.fields) {
    const { name, kind, offset } = field;
    const inner = (kind as Kind & { layout?: Layout }).layout;
    let get: (this: Flyweight) => unknown;
    if (inner !== undefined) {
      const slot = Symbol(name);
      get = function (this: Flyweight) {
        const self = this as Flyweight & Record<symbol, Flyweight>;
        const child = (self[slot] ??= nested(inner) as Flyweight);
        child[ACCESS] = this[ACCESS];
        child[BASE] = this[BASE] + offset;
        return child;
      };
    } else {
      get = function (this: Flyweight) {
        try {
          return kind.read(this[ACCESS], this[BASE] + offset);
        } catch (err) {
          if (err instanceof Refusal) err.path.unshift(name);
          return fail(err);
        }
      };
    }
    Object.defineProperty(proto, name, { get, enumerable: true });
  }
  const tail = layout.tail;
  if (tail !== undefined) {
    const { lengthOffset, kind } = tail;
    const size = layout.size;
    Object.defineProperty(proto, tail.name, {
      enumerable: true,
      get(this: Flyweight) {
        const a = this[ACCESS];
        const length = a.dv.getUint32(this[BASE] + lengthOffset, true); // checked against the record at wrap
        return kind === 'utf8' ? readUtf8(a.buf, this[BASE] + size, length) : copyOut(a, this[BASE] + size, length);
      },
    });
  }
  return proto;
}

/** The flyweight of one schema: wrap(bytes, base) after the caller checked the record's length. */
export class View {
  readonly #accessor = new Accessor();
  readonly #object: Flyweight;

  constructor(layout: Layout, schemaName: string) {
    const protos = new Map<Layout, object>();
    const nested = (inner: Layout): object => {
      let proto = protos.get(inner);
      if (proto === undefined) protos.set(inner, (proto = viewPrototype(inner, schemaName, nested)));
      return Object.create(proto);
    };
    this.#object = nested(layout) as Flyweight;
  }

  wrap(bytes: Uint8Array): object {
    const object = this.#object;
    object[ACCESS] = this.#accessor.of(bytes);
    object[BASE] = bytes.byteOffset;
    return object;
  }
}
