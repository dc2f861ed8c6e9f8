// Why a value cannot be encoded, or a record decoded, and where in the schema: a leaf kind
// throws a Refusal without a path, each struct or array on the way up adds its field name
// or index (a catch costs nothing until something throws), and the schema's public method
// turns it into the error the user sees: TypeError or RangeError `field=value: ...` for a
// value, ERR_BAD_MESSAGE for a record.
import { rangeError, shmError, typeError, type ShmError } from '../errors.js';

export type RefusalKind = 'type' | 'range' | 'corrupt';

export class Refusal {
  /** Field names and array indexes from the outermost struct down. */
  readonly path: Array<string | number> = [];
  constructor(
    readonly kind: RefusalKind,
    readonly value: unknown,
    readonly expected: string,
  ) {}

  /** The path as a user writes it: `pos.x`, `levels[2].price`. */
  where(): string {
    let out = '';
    for (const step of this.path) out += typeof step === 'number' ? `[${step}]` : out === '' ? step : `.${step}`;
    return out;
  }
}

/** Adds `step` to the path of a Refusal passing through; rethrows anything else as it is. */
export function within(err: unknown, step: string | number): never {
  if (err instanceof Refusal) err.path.unshift(step);
  throw err;
}

export const refuseType = (value: unknown, expected: string): never => {
  throw new Refusal('type', value, expected);
};
export const refuseRange = (value: unknown, expected: string): never => {
  throw new Refusal('range', value, expected);
};
export const corrupt = (reason: string): never => {
  throw new Refusal('corrupt', undefined, reason);
};

/** The public error for a value refused at encode (a Refusal), or `err` itself. */
export function encodeError(err: unknown, schema: string): unknown {
  if (!(err instanceof Refusal)) return err;
  const name = err.where() || 'value';
  if (err.kind === 'type') return typeError(name, err.value, `${err.expected} (schema ${schema})`);
  return rangeError(name, err.value, `${err.expected} (schema ${schema})`);
}

/** The public error for a record refused at decode. */
export function decodeError(err: unknown, schema: string): ShmError | unknown {
  if (!(err instanceof Refusal)) return err;
  const where = err.where();
  return shmError('ERR_BAD_MESSAGE', `not a record of schema ${schema}: ${where === '' ? '' : `field ${where}: `}${err.expected}`);
}
