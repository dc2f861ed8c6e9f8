// Address strings name shared memory in one string, so they pass through env vars and CLIs:
//   shm:NAME          POSIX shared memory object /dev/shm/NAME
//   file:/abs/path    a regular file mapped MAP_SHARED (persistent)
//   sysv:KEY          System V segment, decimal or 0x hex key
//   sysv:/path:PROJ   System V segment whose key is ftok(path, PROJ)
//   fd:N              an inherited descriptor (a memfd or shm object passed to a child)
import { isAbsolute } from 'node:path';
import { typeError } from '../errors.js';

/** A parsed segment address; `text` is its canonical spelling. */
export type Address =
  | { kind: 'shm'; name: string; text: string }
  | { kind: 'file'; path: string; text: string }
  | { kind: 'sysv'; key: number; text: string }
  | { kind: 'sysv-ftok'; path: string; proj: number; text: string }
  | { kind: 'fd'; fd: number; text: string };

/** Longest POSIX shm name (NAME_MAX), in bytes. */
export const MAX_SHM_NAME_BYTES = 255;

function invalid(text: string, why: string): TypeError {
  return typeError('address', text, `a shmring address (shm:NAME, file:/abs/path, sysv:KEY, sysv:/path:PROJ, fd:N); ${why}`);
}

/**
 * Parses a segment address (`shm:NAME`, `file:/abs/path`, `sysv:KEY`, `sysv:/path:PROJ`, `fd:N`);
 * a TypeError or RangeError names what is wrong with it.
 */
export function parseAddress(text: unknown): Address {
  if (typeof text !== 'string') throw typeError('address', text, 'an address string');
  if (text.includes('\0')) throw invalid(text, 'it contains a NUL byte');
  const colon = text.indexOf(':');
  if (colon < 0) throw invalid(text, 'the scheme is missing');
  const scheme = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  switch (scheme) {
    case 'shm':
      return { kind: 'shm', name: parseShmName(text, rest), text };
    case 'file':
      if (!isAbsolute(rest)) throw invalid(text, 'a file: path must be absolute');
      return { kind: 'file', path: rest, text };
    case 'sysv':
      return parseSysv(text, rest);
    case 'fd': {
      if (!/^\d{1,9}$/.test(rest)) throw invalid(text, 'fd:N needs a descriptor number');
      return { kind: 'fd', fd: Number(rest), text };
    }
    default:
      throw invalid(text, `unknown scheme ${JSON.stringify(scheme)}`);
  }
}

function parseShmName(text: string, name: string): string {
  if (name.length === 0) throw invalid(text, 'the shm name is empty');
  if (name.includes('/')) throw invalid(text, 'a shm name cannot contain "/"');
  if (name === '.' || name === '..') throw invalid(text, 'a shm name cannot be "." or ".."');
  if (Buffer.byteLength(name) > MAX_SHM_NAME_BYTES) {
    throw invalid(text, `a shm name is at most ${MAX_SHM_NAME_BYTES} bytes`);
  }
  return name;
}

function parseSysv(text: string, rest: string): Address {
  if (rest.startsWith('/')) {
    const sep = rest.lastIndexOf(':');
    const path = rest.slice(0, sep);
    const proj = rest.slice(sep + 1);
    if (sep <= 0 || !/^\d{1,3}$/.test(proj) || Number(proj) < 1 || Number(proj) > 255) {
      throw invalid(text, 'sysv:/path:PROJ needs PROJ from 1 to 255');
    }
    return { kind: 'sysv-ftok', path, proj: Number(proj), text };
  }
  if (!/^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(rest)) throw invalid(text, 'sysv:KEY needs a decimal or 0x hex key');
  const key = Number(rest);
  if (key > 0xffffffff) throw invalid(text, 'a sysv key is 32 bits');
  if (key === 0) throw invalid(text, 'key 0 is IPC_PRIVATE, which no other process can open');
  return { kind: 'sysv', key: key | 0, text }; // key_t is a signed 32-bit int
}
