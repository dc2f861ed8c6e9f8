// Segment: one mapping of shared memory, whatever holds it. Its `buffer` is a
// SharedArrayBuffer over the mapped pages, so Atomics work on it and it can be posted to
// a worker thread, which then sees the same bytes.
import { checkInteger, checkOptions, closedError, ShmError, truncatedError, typeError } from '../errors.js';
import { native } from '../native.js';
import { type Address, parseAddress } from './address.js';
import type { Mapped } from './backend.js';
import { backendOf } from './backends.js';
import { closeQuietly, createMemfd } from './fd.js';
import { MAX_SEGMENT_SIZE } from './trust.js';

/**
 * Largest segment shmring creates or maps by default (1 TiB); the OS may refuse less (ENOSPC,
 * EINVAL, ENOMEM).
 */
export { MAX_SEGMENT_SIZE };

/** Options of Segment.create. */
export interface CreateOptions {
  /** Bytes, 1 to MAX_SEGMENT_SIZE. */
  size: number;
  /** Permission bits, default 0o600 (owner only); applied as given, not narrowed by the umask. */
  mode?: number;
  /** Fail with EEXIST if it exists (default true); false opens an existing one, growing it to `size`. */
  exclusive?: boolean;
  /**
   * With exclusive=false, adopt an existing object even if another user (not root) owns it or
   * its mode is wider than `mode` (default false: ERR_SHM_NOT_TRUSTED).
   */
  trustForeign?: boolean;
  /** The largest existing object to map (default and cap of `size`: MAX_SEGMENT_SIZE); larger is ERR_SHM_TOO_LARGE. */
  maxSize?: number;
}

/** Options of Segment.open. */
export interface OpenOptions {
  /** Map a private copy-on-write view: shared bytes are visible, local writes never reach others. */
  readOnly?: boolean;
  /** Fail with ERR_SHM_TRUNCATED if the segment holds fewer bytes than this. */
  size?: number;
  /** Map it even if another user (not root) owns it (default false: ERR_SHM_NOT_TRUSTED). */
  trustForeign?: boolean;
  /** Fail with ERR_SHM_TOO_LARGE if the segment holds more bytes than this (default MAX_SEGMENT_SIZE). */
  maxSize?: number;
}

type CloseHook = (segment: Segment, buffer: SharedArrayBuffer) => void;

const segmentsByBuffer = new WeakMap<SharedArrayBuffer, Segment>();
const closeHooks: CloseHook[] = [];

/** The live or closed Segment that made this buffer in this thread, if any. */
export function segmentOf(buffer: ArrayBufferLike): Segment | undefined {
  return segmentsByBuffer.get(buffer as SharedArrayBuffer);
}

/** Lets upper layers (pending async waits) settle their work before a segment unmaps. */
export function onSegmentClose(hook: CloseHook): void {
  closeHooks.push(hook);
}

function checkSize(value: unknown, name = 'size', max = MAX_SEGMENT_SIZE): number {
  return checkInteger(name, value, 1, max);
}

/**
 * maxSize: up to the largest size a number holds exactly, so that no object size rounds below it.
 */
function checkMaxSize(value: unknown): number {
  return value === undefined ? MAX_SEGMENT_SIZE : checkInteger('maxSize', value, 1, Number.MAX_SAFE_INTEGER);
}

function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw typeError(name, value, 'a boolean');
  return value;
}

function withAddress<T>(address: Address, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ShmError) err.address = address.text;
    throw err;
  }
}

/**
 * A plain (non-shared) ArrayBuffer over the same pages as `segment.buffer`, made on first
 * use, or undefined where there can be none (a read-only segment) or after close. V8 copies
 * into and out of a SharedArrayBuffer with a relaxed-atomic loop at about half the speed
 * of memmove; rings copy payloads through this alias and keep positions and waits on the
 * SharedArrayBuffer. It belongs to this thread (it is not shared with workers) and is
 * detached by close(), so views of it are empty afterwards rather than dangling.
 */
export function plainAlias(segment: Segment): ArrayBuffer | undefined {
  return aliasOf(segment);
}

let aliasOf: (segment: Segment) => ArrayBuffer | undefined;

/**
 * The segment's fault word: [0] becomes 1, in every thread of this process, once the object
 * was truncated under the mapping (see Segment.truncated). For the hot paths of rings, which
 * read it once per call: a plain load of a field they hold, rather than a getter.
 */
export function faultWord(segment: Segment): Int32Array {
  return faultOf(segment);
}

/**
 * The fault word of the mapping a bare SharedArrayBuffer views whole: a segment's buffer
 * posted to a worker thread, whose Segment object lives in another thread. undefined for a
 * buffer that is not a mapping of this process.
 */
export function faultWordOfBuffer(buffer: SharedArrayBuffer): Int32Array | undefined {
  const fault = native.faultOf(buffer);
  return fault === undefined ? undefined : new Int32Array(fault);
}

let faultOf: (segment: Segment) => Int32Array;

/**
 * Shared memory mapped into this process: POSIX shm, a file, System V or an inherited descriptor,
 * named by an address (`shm:NAME`, `file:/path`, `sysv:KEY`, `sysv:/path:PROJ`, `fd:N`). `buffer`
 * is a SharedArrayBuffer over it.
 */
export class Segment {
  readonly address: string;
  readonly size: number;
  readonly readOnly: boolean;
  /** The descriptor of an anonymous or inherited segment (kept until close()). */
  #fd: number | undefined;
  #buffer: SharedArrayBuffer | undefined;
  /** close() is running its hooks (a hook that closes the segment again returns at once). */
  #closing = false;
  /** [0] is 1 once the object was truncated under the mapping (see `truncated`). */
  readonly #fault: Int32Array;
  /** A plain second mapping of the same pages for bulk copies (see plainAlias). */
  #alias: ArrayBuffer | undefined;
  #aliasTried = false;

  private constructor(address: string, mapped: Mapped, readOnly: boolean) {
    this.address = address;
    this.size = mapped.size;
    this.readOnly = readOnly;
    this.#fd = mapped.fd;
    this.#buffer = mapped.buffer;
    this.#fault = mapped.fault;
    segmentsByBuffer.set(mapped.buffer, this);
  }

  /** Creates (or with exclusive=false, opens or grows) the named shared memory and maps it. */
  static create(address: string, options: CreateOptions): Segment {
    const parsed = parseAddress(address);
    const opts = checkOptions(options as unknown as Record<string, unknown> | undefined);
    const maxSize = checkMaxSize(opts.maxSize);
    const size = checkSize(opts.size, 'size', Math.min(maxSize, MAX_SEGMENT_SIZE));
    const mode = opts.mode === undefined ? 0o600 : checkInteger('mode', opts.mode, 0, 0o777);
    const exclusive = checkBoolean('exclusive', opts.exclusive, true);
    const trustForeign = checkBoolean('trustForeign', opts.trustForeign, false);
    const req = { size, mode, exclusive, trustForeign, maxSize };
    const mapped = withAddress(parsed, () => backendOf(parsed).create(parsed, req));
    return new Segment(parsed.text, mapped, false);
  }

  /** Maps existing shared memory; never creates or resizes it. */
  static open(address: string, options?: OpenOptions): Segment {
    const parsed = parseAddress(address);
    const opts = checkOptions(options as unknown as Record<string, unknown> | undefined);
    const readOnly = checkBoolean('readOnly', opts.readOnly, false);
    const minSize = opts.size === undefined ? 0 : checkSize(opts.size);
    const trustForeign = checkBoolean('trustForeign', opts.trustForeign, false);
    const maxSize = checkMaxSize(opts.maxSize);
    const req = { readOnly, minSize, trustForeign, maxSize };
    const mapped = withAddress(parsed, () => backendOf(parsed).open(parsed, req));
    return new Segment(parsed.text, mapped, readOnly);
  }

  /** Anonymous shared memory (memfd): share it with a child through `seg.fd`. */
  static anonymous(size: number): Segment {
    return new Segment('anonymous', createMemfd(checkSize(size)), false);
  }

  /** Removes the name (shm_unlink, unlink, IPC_RMID). Mappings already made stay valid. */
  static unlink(address: string): void {
    const parsed = parseAddress(address);
    withAddress(parsed, () => backendOf(parsed).unlink(parsed));
  }

  /**
   * The shared bytes. Throws ERR_CLOSED after close(), ERR_SHM_TRUNCATED once truncated;
   * views taken before then read zeros.
   */
  get buffer(): SharedArrayBuffer {
    if (this.#buffer === undefined) throw closedError(`segment ${this.address}`);
    if (this.#fault[0] !== 0) throw truncatedError(this.address);
    return this.#buffer;
  }

  /**
   * Whether another process truncated the object under this mapping: an access past its new
   * end raised SIGBUS, and shmring replaced the whole mapping with private zero pages instead
   * of letting the signal kill the process. Set only once an access faulted (a truncation
   * nobody touched yet is not seen), in any thread of this process; never cleared.
   */
  get truncated(): boolean {
    return this.#fault[0] !== 0;
  }

  /** @internal Throws ERR_SHM_TRUNCATED if `truncated` (for the slow paths of rings, waits and locks). */
  checkIntact(): void {
    if (this.#fault[0] !== 0) throw truncatedError(this.address);
  }

  /**
   * The descriptor of an anonymous or inherited segment: hand it to a child in its stdio.
   * undefined for named segments, and after close() (the number may belong to another file then).
   */
  get fd(): number | undefined {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#buffer === undefined;
  }

  static {
    aliasOf = (segment) => segment.#plainAlias();
    faultOf = (segment) => segment.#fault;
  }

  #plainAlias(): ArrayBuffer | undefined {
    if (this.#buffer === undefined || this.readOnly) return undefined;
    if (!this.#aliasTried) {
      this.#aliasTried = true;
      this.#alias = native.alias(this.#buffer);
    }
    return this.#alias;
  }

  /** Writes dirty pages of a file: segment to disk (msync MS_SYNC); harmless for others. */
  flush(): void {
    native.flush(this.buffer);
  }

  /**
   * Releases the shared mapping now. Idempotent. Views still held afterwards keep working
   * on private zero pages: they never fault, and nothing they write is shared.
   */
  close(): void {
    const buffer = this.#buffer;
    if (buffer === undefined || this.#closing) return;
    this.#closing = true;
    // The hooks run while the segment is still open: a ring that closes with it publishes and
    // wakes its waiting peer through the mapping. Every hook runs and the mapping is released
    // even if one throws; the first error is rethrown afterwards.
    let first: unknown;
    for (const hook of closeHooks) {
      try {
        hook(this, buffer);
      } catch (err) {
        first ??= err;
      }
    }
    this.#buffer = undefined;
    if (this.#alias !== undefined) native.unalias(this.#alias); // its views become empty
    this.#alias = undefined;
    native.unmap(buffer);
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) closeQuietly(fd);
    if (first !== undefined) throw first;
  }
}
