// The one error class of shmring and the factories every throw goes through, so each
// error is created where it is thrown (fresh stack) and reads the same way everywhere.

/**
 * Every code shmring itself gives a ShmError (test/source-rules.test.ts checks that each
 * code thrown in src/ is here). Native calls add the OS's errno names (ENOENT, EEXIST, EACCES, ...).
 */
export const SHM_ERROR_CODES = [
  'ERR_SHM_BAD_HEADER', // not a shmring ring, wrong version, truncated or corrupt
  'ERR_SHM_TRUNCATED', // a segment smaller than the caller requires, or truncated under its mapping
  'ERR_SHM_NOT_TRUSTED', // an existing object another user owns, or wider than the mode asked
  'ERR_SHM_TOO_LARGE', // an object larger than maxSize, or than a number holds exactly
  'ERR_MESSAGE_TOO_LARGE', // a message that can never fit the ring
  'ERR_CLOSED', // the handle (or its segment) is closed; a producer closed the stream
  'ERR_TIMEOUT',
  'ERR_ABORTED', // an AbortSignal ended the wait
  'ERR_PEER_DEAD', // the process on the other side died
  'ERR_ROLE_TAKEN', // a live process holds the SPSC role
  'ERR_CLAIM_PENDING', // a write while a zero-copy claim is open
  'ERR_CLAIM_DONE', // commit() or abort() of a claim that already ended
  'ERR_TOO_MANY_PARTICIPANTS', // every MPMC registry entry is held by a live handle
  'ERR_NOT_OWNER', // unlocking a mutex this thread does not hold
  'ERR_SEM_OVERFLOW', // a semaphore released past its max
  'ERR_NOT_SUPPORTED', // what this platform or transport cannot do (a socket handle through fork())
  'ERR_BAD_MESSAGE', // a channel record that cannot be a message ('messageerror'), a record its schema refuses
  'ERR_SCHEMA_MISMATCH', // Channel.connect with another schema (or none) than the channel was created with
  'ERR_WORKER_EXITED', // a ProcessPool worker ended (exit code or signal) with tasks of its own
  'ERR_QUEUE_FULL', // ProcessPool.run() past maxQueue
  'EDEADLK', // locking a mutex this thread holds (errno name, raised in TypeScript)
  'EINVAL', // not a shared memory object or regular file (errno name, raised in TypeScript)
  'ELOOP', // a symbolic link at a segment's name, never followed (errno name, raised in TypeScript)
  'ENOENT', // connectParent() in a process no shmring fork() started (errno name, raised in TypeScript)
] as const;

/**
 * The codes a ShmError carries: shmring's own (`ERR_...`, listed with their meaning in
 * `SHM_ERROR_CODES`) or an OS errno name.
 */
export type ShmErrorCode =
  | (typeof SHM_ERROR_CODES)[number]
  | (string & {}); // errno names from the OS: ENOENT, EEXIST, EACCES, ...

export interface ShmErrorDetails {
  errno?: number | undefined;
  syscall?: string | undefined;
  address?: string | undefined;
  cause?: unknown;
}

/**
 * The error of every expected failure: `code` is an OS errno name (`ENOENT`, with `errno`,
 * `syscall` and `address`) or one of shmring's codes (`ShmErrorCode`).
 */
export class ShmError extends Error {
  readonly code: ShmErrorCode;
  readonly errno?: number;
  readonly syscall?: string;
  address?: string;

  constructor(code: ShmErrorCode, message: string, details: ShmErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ShmError';
    this.code = code;
    if (details.errno !== undefined) this.errno = details.errno;
    if (details.syscall !== undefined) this.syscall = details.syscall;
    if (details.address !== undefined) this.address = details.address;
  }
}

/** Formats a value for `name=value` messages without dumping large objects. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  return Object.prototype.toString.call(value).slice(8, -1);
}

export function typeError(name: string, value: unknown, expected: string): TypeError {
  return new TypeError(`${name}=${show(value)}: expected ${expected}`);
}

export function rangeError(name: string, value: unknown, expected: string): RangeError {
  return new RangeError(`${name}=${show(value)}: must be ${expected}`);
}

export function shmError(code: ShmErrorCode, message: string, details?: ShmErrorDetails): ShmError {
  return new ShmError(code, message, details);
}

export function closedError(what: string): ShmError {
  return new ShmError('ERR_CLOSED', `${what} is closed`);
}

export function timeoutError(what: string, ms: number): ShmError {
  return new ShmError('ERR_TIMEOUT', `${what} timed out after ${ms} ms`);
}

export function abortError(what: string, reason: unknown): ShmError {
  return new ShmError('ERR_ABORTED', `${what} was aborted`, { cause: reason });
}

export function badHeaderError(reason: string, address?: string): ShmError {
  const where = address === undefined ? '' : ` (${address})`;
  return new ShmError('ERR_SHM_BAD_HEADER', `not a usable shmring segment${where}: ${reason}`, { address });
}

export function truncatedError(address: string): ShmError {
  return new ShmError(
    'ERR_SHM_TRUNCATED',
    `segment ${address} was truncated by another process while mapped: its pages now read as zeros and nothing written reaches the shared memory`,
    { address },
  );
}

const NO_OPTIONS = Object.freeze({});

/** Checks an options argument and returns it (a shared empty object when undefined). */
export function checkOptions<T extends object>(value: T | undefined, name = 'options'): Partial<T> {
  if (value === undefined) return NO_OPTIONS; // shared: blocking calls without options allocate nothing
  if (value === null || typeof value !== 'object') throw typeError(name, value, 'an options object');
  return value;
}

/** Checks a bytes argument (Uint8Array or Buffer) and returns it. */
export function checkBytes(bytes: unknown, name = 'bytes'): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw typeError(name, bytes, 'a Uint8Array or Buffer');
  return bytes;
}

/** Checks an integer argument and returns it. */
export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw typeError(name, value, 'a number');
  if (!Number.isInteger(value) || value < min || value > max) {
    throw rangeError(name, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

/** Checks an optional timeout in milliseconds; undefined and Infinity mean no timeout (-1). */
export function checkTimeout(value: unknown, name = 'timeout'): number {
  if (value === undefined || value === Infinity) return -1;
  if (typeof value !== 'number') throw typeError(name, value, 'a number of milliseconds');
  if (Number.isNaN(value) || value < 0) throw rangeError(name, value, 'a number >= 0');
  return value;
}

export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw typeError('signal', value, 'an AbortSignal');
  return value;
}
