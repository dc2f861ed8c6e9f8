// Formatting a ring's header (create) and reading and checking it (open), for both kinds.
// The bytes are layout/header.ts's; this file only writes and validates them, from the
// ring's byteOffset and against its byteLength.
import { badHeaderError } from '../errors.js';
import {
  HEADER_SIZE,
  HEADER_SIZE_OFFSET,
  type HeaderFields,
  type HeaderParams,
  i32Index,
  KIND_OFFSET,
  KIND_SPSC,
  MAGIC_OFFSET,
  PARAM_A_OFFSET,
  PARAM_B_OFFSET,
  PARAM_C_OFFSET,
  RING_MAGIC,
  RING_VERSION,
  STATE_FORMATTING,
  STATE_OFFSET,
  STATE_READY,
  TOTAL_SIZE_OFFSET,
  VERSION_OFFSET,
} from './layout/header.js';
import type { Located } from './target.js';

/** How long open() waits for a ring that is still being formatted. */
export const OPEN_READY_WAIT_MS = 500;

/** Writes the header fields; the caller formats its data area, then calls publishReady. */
export function formatHeader(i32: Int32Array, fields: HeaderFields): void {
  Atomics.store(i32, i32Index(STATE_OFFSET), 0);
  i32.fill(0, i32Index(VERSION_OFFSET), i32Index(HEADER_SIZE));
  Atomics.store(i32, i32Index(MAGIC_OFFSET), RING_MAGIC);
  Atomics.store(i32, i32Index(VERSION_OFFSET), RING_VERSION);
  Atomics.store(i32, i32Index(KIND_OFFSET), fields.kind);
  const [a, b, c] = fields.params;
  Atomics.store(i32, i32Index(PARAM_A_OFFSET), a);
  Atomics.store(i32, i32Index(PARAM_B_OFFSET), b);
  Atomics.store(i32, i32Index(PARAM_C_OFFSET), c);
  Atomics.store(i32, i32Index(HEADER_SIZE_OFFSET), HEADER_SIZE);
  Atomics.store(i32, i32Index(TOTAL_SIZE_OFFSET), fields.totalSize);
}

/** The last store of create(): openers that see READY see everything written before it. */
export function publishReady(i32: Int32Array): void {
  Atomics.store(i32, i32Index(STATE_OFFSET), STATE_READY);
}

function kindName(kind: number): string {
  return kind === KIND_SPSC ? 'SPSC' : 'MPMC';
}

/**
 * Reads and checks the header of an existing ring; never writes. `dataSize(params)` gives
 * the data area the kind needs for its params, or a reason string if the params are bad.
 */
export function readHeader(located: Located, kind: number, dataSize: (params: HeaderParams) => number | string): HeaderFields {
  const { buffer, address, byteOffset, byteLength } = located;
  if (byteLength < HEADER_SIZE) throw badHeaderError(`${byteLength} bytes cannot hold a ring header (${HEADER_SIZE})`, address);
  const i32 = new Int32Array(buffer, byteOffset, HEADER_SIZE / 4);
  if (Atomics.load(i32, i32Index(MAGIC_OFFSET)) !== RING_MAGIC) throw badHeaderError(`no shmring magic${byteOffset === 0 ? '' : ` at byteOffset ${byteOffset}`}`, address);
  const version = Atomics.load(i32, i32Index(VERSION_OFFSET));
  if (version !== RING_VERSION) throw badHeaderError(`version ${version}, this library reads version ${RING_VERSION}`, address);
  const found = Atomics.load(i32, i32Index(KIND_OFFSET));
  if (found !== kind) throw badHeaderError(`it is ${found === 1 || found === 2 ? `an ${kindName(found)} ring` : `of unknown kind ${found}`}, not ${kindName(kind)}`, address);
  const deadline = performance.now() + OPEN_READY_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let state = Atomics.load(i32, i32Index(STATE_OFFSET)); state !== STATE_READY; state = Atomics.load(i32, i32Index(STATE_OFFSET))) {
    if (state !== STATE_FORMATTING) throw badHeaderError(`unknown state ${state}`, address);
    if (performance.now() > deadline) throw badHeaderError('the ring never became ready (its creator died while formatting it?)', address);
    Atomics.wait(pause, 0, 0, 2);
  }
  const params: HeaderParams = [
    Atomics.load(i32, i32Index(PARAM_A_OFFSET)) >>> 0,
    Atomics.load(i32, i32Index(PARAM_B_OFFSET)) >>> 0,
    Atomics.load(i32, i32Index(PARAM_C_OFFSET)) >>> 0,
  ];
  const headerSize = Atomics.load(i32, i32Index(HEADER_SIZE_OFFSET)) >>> 0;
  const totalSize = Atomics.load(i32, i32Index(TOTAL_SIZE_OFFSET)) >>> 0;
  if (headerSize !== HEADER_SIZE) throw badHeaderError(`header size ${headerSize}, expected ${HEADER_SIZE}`, address);
  const data = dataSize(params);
  if (typeof data === 'string') throw badHeaderError(data, address);
  if (totalSize !== HEADER_SIZE + data) throw badHeaderError(`total size ${totalSize} disagrees with its parameters (${HEADER_SIZE + data})`, address);
  if (totalSize > byteLength) throw badHeaderError(`the ring needs ${totalSize} bytes but its region holds ${byteLength} (truncated)`, address);
  return { kind, params, totalSize };
}
