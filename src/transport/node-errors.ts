// The errors Node's child_process raises around send(), rebuilt with the same
// class, code and message, so that code written against child_process.fork sees no difference
// (the fork tests compare them with Node's own).
import { inspect } from 'node:util';

export type NodeErrorCode =
  | 'ERR_MISSING_ARGS'
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_HANDLE_TYPE'
  | 'ERR_IPC_CHANNEL_CLOSED';

function withCode<E extends Error>(error: E, code: NodeErrorCode): E & { code: NodeErrorCode } {
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  // As Node does: the stack's first line names the code ("TypeError [ERR_X]: ...").
  if (typeof error.stack === 'string') error.stack = error.stack.replace(/^(\w+)(: )/, `$1 [${code}]$2`);
  return error as E & { code: NodeErrorCode };
}

/** How Node's ERR_INVALID_ARG_TYPE describes the value it received. */
function received(value: unknown): string {
  if (value === null || value === undefined) return ` Received ${String(value)}`;
  if (typeof value === 'function') return ` Received function ${value.name}`;
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name ? ` Received an instance of ${name}` : ` Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return ` Received type ${typeof value} (${shown})`;
}

function typeList(types: string[]): string {
  if (types.length === 1) return `of type ${types[0]}`;
  return `one of type ${types.slice(0, -1).join(', ')}, or ${types[types.length - 1]}`;
}

export function missingArgs(name: string): TypeError {
  return withCode(new TypeError(`The "${name}" argument must be specified`), 'ERR_MISSING_ARGS');
}

export function invalidArgType(name: string, types: string[], value: unknown): TypeError {
  const what = name.includes('.') ? 'property' : 'argument';
  return withCode(new TypeError(`The "${name}" ${what} must be ${typeList(types)}.${received(value)}`), 'ERR_INVALID_ARG_TYPE');
}

export function invalidHandleType(): TypeError {
  return withCode(new TypeError('This handle type cannot be sent'), 'ERR_INVALID_HANDLE_TYPE');
}

export function channelClosed(): Error {
  return withCode(new Error('Channel closed'), 'ERR_IPC_CHANNEL_CLOSED');
}
