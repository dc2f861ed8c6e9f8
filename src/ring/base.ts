// What both ring kinds share: where the ring lives (Segment, address or plain
// SharedArrayBuffer), formatting and validating the header, roles, and blocking loops
// with deadlines, peer-liveness checks and cancellation.
import { Buffer } from 'node:buffer';
import { abortError, badHeaderError, checkOptions, checkSignal, ShmError, checkTimeout, closedError, rangeError, shmError, timeoutError, typeError } from '../errors.js';
import { onSegmentClose, plainAlias, Segment, segmentOf } from '../segment/segment.js';
import { isStale } from './stale.js';
import { isAlive, SELF_THREAD } from '../sync/identity.js';
import { defaultWaitStrategy, WaitStrategy, type WaitPoint } from '../sync/wait-strategy.js';
import {
  HEADER_SIZE,
  HEADER_SIZE_OFFSET,
  i32Index,
  LINE,
  i64Index,
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
  type HeaderFields,
} from './header.js';

export type RingTarget = Segment | SharedArrayBuffer | string;
export { checkOptions };

/** How long open() waits for a ring that is still being formatted. */
export const OPEN_READY_WAIT_MS = 500;
/** How often a blocked reader or writer checks that its peer still lives. */
export const PEER_CHECK_INTERVAL_MS = 100;

export interface Located {
  buffer: SharedArrayBuffer;
  address: string;
  /** A segment the ring opened itself from an address, closed with the ring. */
  owned: Segment | undefined;
  /** A plain mapping of the same bytes for payload copies, where the target is a Segment. */
  plain: ArrayBuffer | undefined;
  /** The Segment the ring lives in, given or owned (none for a bare SharedArrayBuffer). */
  segment: Segment | undefined;
  /** Where the ring's region starts in `buffer`: every offset of the ring is relative to it. */
  byteOffset: number;
  /** Bytes of the region: the ring never reads or writes past byteOffset + byteLength. */
  byteLength: number;
}

/** A ring region starts on a 128-byte line, so its header lines stay one writer's each. */
export const REGION_ALIGN = LINE;

/** The region options of create() and open(): where in its target a ring lives. */
export interface RegionOptions {
  /** Where the ring starts in its target, a multiple of 128; default 0. */
  byteOffset?: number;
  /** Bytes of the target the ring may use from byteOffset; default: the rest of the target. */
  byteLength?: number;
}

export interface Region {
  byteOffset: number;
  byteLength: number | undefined;
}

/** Checks the region options (their types and alignment; their fit once the target is known). */
export function checkRegionOptions(o: RegionOptions): Region {
  const { byteOffset = 0, byteLength } = o;
  if (typeof byteOffset !== 'number') throw typeError('byteOffset', byteOffset, 'a number');
  if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % REGION_ALIGN !== 0) {
    throw rangeError('byteOffset', byteOffset, `an integer >= 0 and a multiple of ${REGION_ALIGN}`);
  }
  if (byteLength !== undefined) {
    if (typeof byteLength !== 'number') throw typeError('byteLength', byteLength, 'a number');
    if (!Number.isInteger(byteLength) || byteLength < 0) throw rangeError('byteLength', byteLength, 'an integer >= 0');
  }
  return { byteOffset, byteLength };
}

/**
 * Finds the target's buffer and the ring's region in it. `create` (for an address) makes
 * the segment, sized to end where the region does. Nothing is left open on a throw.
 */
export function locate(target: unknown, region: Region, create: { size: number; replaceStale?: boolean } | undefined): Located {
  let found: Omit<Located, 'byteOffset' | 'byteLength'>;
  if (typeof target === 'string') {
    const size = create === undefined ? 0 : region.byteOffset + Math.max(create.size, region.byteLength ?? 0);
    const segment = create === undefined ? Segment.open(target) : createSegment(target, size, create.replaceStale === true);
    found = { buffer: segment.buffer, address: segment.address, owned: segment, plain: plainAlias(segment), segment };
  } else if (target instanceof Segment) {
    found = { buffer: target.buffer, address: target.address, owned: undefined, plain: plainAlias(target), segment: target };
  } else if (target instanceof SharedArrayBuffer) {
    // A segment's own buffer passed bare still closes the ring with the segment.
    found = { buffer: target, address: 'SharedArrayBuffer', owned: undefined, plain: undefined, segment: segmentOf(target) };
  } else {
    throw typeError('target', target, 'a Segment, an address string or a SharedArrayBuffer');
  }
  const total = found.buffer.byteLength;
  const { byteOffset } = region;
  try {
    if (byteOffset > total) throw rangeError('byteOffset', byteOffset, `at most the ${total} bytes of the target`);
    const byteLength = region.byteLength ?? total - byteOffset;
    if (byteOffset + byteLength > total) {
      throw rangeError('byteLength', byteLength, `at most ${total - byteOffset} (the target holds ${total} bytes, the region starts at ${byteOffset})`);
    }
    return { ...found, byteOffset, byteLength };
  } catch (err) {
    found.owned?.close();
    throw err;
  }
}

// The open rings of each Segment of this thread. Closing a segment closes its rings first,
// while the pages are still mapped: they publish what they wrote, give their roles back
// and settle pending waits with ERR_CLOSED. (Afterwards the pages read as zeros and
// nothing written reaches the shared memory: a ring left open would hold its role for
// good and report its zeroed header as corruption.)
const ringsOf = new WeakMap<Segment, Set<{ close(): void }>>();

/** Closes `ring` when `segment` closes (see ringsOf); forgetRing undoes it. */
export function closeWithSegment(segment: Segment | undefined, ring: { close(): void }): void {
  if (segment === undefined) return;
  let rings = ringsOf.get(segment);
  if (rings === undefined) ringsOf.set(segment, (rings = new Set()));
  rings.add(ring);
}

export function forgetRing(segment: Segment | undefined, ring: { close(): void }): void {
  if (segment !== undefined) ringsOf.get(segment)?.delete(ring);
}

onSegmentClose((segment) => {
  const rings = ringsOf.get(segment);
  if (rings === undefined) return;
  ringsOf.delete(segment);
  let first: unknown;
  for (const ring of rings) {
    try {
      ring.close();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
});

/** Typed arrays up to this length live on V8's heap (no separate backing store to allocate). */
export const ON_HEAP_MAX = 64;
/** Copies up to this size are views of a pooled chunk rather than buffers of their own. */
export const POOLED_MAX = 2048;
/** A pool chunk: small enough that a kept message holds little memory, as Node's Buffer pool. */
export const CHUNK_BYTES = 16384;
/**
 * Payloads up to this length are copied out word by word rather than with set(), which
 * needs a view of the source: one allocation per message, and on V8 an allocation per
 * message widens the latency distribution many-fold (p99 of a 64 B round trip 0.3 → 3 µs
 * here). The loop costs about 2 ns per word here, as much as view + set() at 64 bytes and
 * 3.4× more at 256: larger payloads take the view.
 */
const WORD_COPY_MAX = 64;

/**
 * Where a ring copies payloads: the plain alias of its segment's pages when there is one
 * (memmove speed), else the SharedArrayBuffer. The alias is detached when the segment
 * closes; a copy through it then gives ERR_CLOSED rather than a TypeError.
 */
export class Payload {
  readonly buffer: ArrayBufferLike;
  readonly #bytes: Uint8Array;
  readonly #words: Int32Array;
  readonly #aliased: boolean;
  readonly #address: string;
  /** Where the ring's region starts in `buffer`: offsets given to this class are relative to it. */
  readonly #base: number;
  // The last target of copyTo and an Int32Array over its bytes (null: not 4-aligned, or
  // its buffer can change size), so a reused target costs no allocation.
  #target: Uint8Array | undefined;
  #targetWords: Int32Array | null = null;
  // The chunk that copies of up to POOLED_MAX bytes are carved from, and its first free byte.
  #pool: ArrayBuffer = new ArrayBuffer(0);
  #poolFree = 0;

  constructor(located: Located, size: number) {
    this.buffer = located.plain ?? located.buffer;
    this.#base = located.byteOffset;
    this.#bytes = new Uint8Array(this.buffer, this.#base, size);
    this.#words = new Int32Array(this.buffer, this.#base, size >> 2);
    this.#aliased = located.plain !== undefined;
    this.#address = located.address;
  }

  #closed(): ShmError {
    return closedError(`ring ${this.#address} (its segment was closed)`);
  }

  /** Copies `bytes` in at byte `offset`. */
  write(bytes: Uint8Array, offset: number): void {
    try {
      this.#bytes.set(bytes, offset);
    } catch (err) {
      throw this.#aliased && this.#bytes.length === 0 ? this.#closed() : err;
    }
  }

  /** A view of `length` bytes at `offset` (zero-copy reads and claims, sources of copies). */
  view(offset: number, length: number): Uint8Array {
    if (this.#aliased && this.#bytes.length === 0) throw this.#closed();
    return new Uint8Array(this.buffer, this.#base + offset, length);
  }

  /**
   * A copy of `length` bytes at `offset` that the caller owns: on V8's heap up to
   * ON_HEAP_MAX, a view of a pooled chunk shared with neighbouring copies up to POOLED_MAX
   * (as Node's Buffer.allocUnsafe does: a buffer of its own cost 0.5–1 µs here, more than
   * the copy), else a buffer of its own. A chunk is zero-filled, since `m.buffer` shows
   * all of it; a large buffer is not, since the copy overwrites every byte of it.
   */
  copy(offset: number, length: number): Uint8Array {
    let out: Uint8Array;
    if (length <= ON_HEAP_MAX) {
      out = new Uint8Array(length);
    } else if (length <= POOLED_MAX) {
      if (this.#pool.byteLength - this.#poolFree < length) {
        this.#pool = new ArrayBuffer(CHUNK_BYTES);
        this.#poolFree = 0;
      }
      out = new Uint8Array(this.#pool, this.#poolFree, length);
      this.#poolFree += (length + 7) & ~7; // each copy 8-aligned, as in the ring
    } else {
      out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    }
    out.set(this.view(offset, length));
    return out;
  }

  /**
   * Copies `length` bytes at `offset` (4-aligned) to the start of `target`, which holds at
   * least that many. Small payloads allocate nothing (see WORD_COPY_MAX).
   */
  copyTo(offset: number, length: number, target: Uint8Array): void {
    if (length > WORD_COPY_MAX) {
      target.set(this.view(offset, length));
      return;
    }
    const bytes = this.#bytes;
    if (this.#aliased && bytes.length === 0) throw this.#closed();
    if (target !== this.#target) this.#adopt(target);
    let i = 0;
    const to = this.#targetWords;
    if (to !== null) {
      const words = this.#words;
      const from = offset >> 2;
      const n = length >> 2;
      for (; i < n; i++) to[i] = words[from + i]!;
      i <<= 2;
    }
    for (; i < length; i++) target[i] = bytes[offset + i]!;
  }

  #adopt(target: Uint8Array): void {
    this.#target = target;
    this.#targetWords = null;
    const buffer = target.buffer as ArrayBufferLike & { resizable?: boolean; growable?: boolean };
    // A view over a buffer that can shrink could go out of bounds (and drop writes) while
    // the target itself still looks long enough: such targets are copied byte by byte.
    if ((target.byteOffset & 3) === 0 && buffer.resizable !== true && buffer.growable !== true) {
      this.#targetWords = new Int32Array(buffer, target.byteOffset, target.length >> 2);
    }
  }
}

/** Creates the segment of a new ring; over a stale one (see stale.ts) only when asked to. */
function createSegment(address: string, size: number, replaceStale: boolean): Segment {
  try {
    return Segment.create(address, { size });
  } catch (err) {
    if (!replaceStale || !(err instanceof ShmError) || err.code !== 'EEXIST' || !isStale(address)) throw err;
    Segment.unlink(address);
    return Segment.create(address, { size });
  }
}

export function checkStrategy(value: unknown): WaitStrategy {
  if (value === undefined) return defaultWaitStrategy;
  if (!(value instanceof WaitStrategy)) throw typeError('strategy', value, 'a WaitStrategy');
  return value;
}

/** Writes the header fields; the caller formats its data area, then calls publishReady. */
export function formatHeader(i32: Int32Array, fields: HeaderFields): void {
  Atomics.store(i32, i32Index(STATE_OFFSET), 0);
  i32.fill(0, i32Index(VERSION_OFFSET), i32Index(HEADER_SIZE));
  Atomics.store(i32, i32Index(MAGIC_OFFSET), RING_MAGIC);
  Atomics.store(i32, i32Index(VERSION_OFFSET), RING_VERSION);
  Atomics.store(i32, i32Index(KIND_OFFSET), fields.kind);
  Atomics.store(i32, i32Index(PARAM_A_OFFSET), fields.paramA);
  Atomics.store(i32, i32Index(PARAM_B_OFFSET), fields.paramB);
  Atomics.store(i32, i32Index(PARAM_C_OFFSET), fields.paramC);
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
 * Reads and checks the header of an existing ring; never writes. `dataSize(a, b)` gives
 * the data area the kind needs for its params, or a reason string if the params are bad.
 */
export function readHeader(located: Located, kind: number, dataSize: (a: number, b: number, c: number) => number | string): HeaderFields {
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
  const paramA = Atomics.load(i32, i32Index(PARAM_A_OFFSET)) >>> 0;
  const paramB = Atomics.load(i32, i32Index(PARAM_B_OFFSET)) >>> 0;
  const paramC = Atomics.load(i32, i32Index(PARAM_C_OFFSET)) >>> 0;
  const headerSize = Atomics.load(i32, i32Index(HEADER_SIZE_OFFSET)) >>> 0;
  const totalSize = Atomics.load(i32, i32Index(TOTAL_SIZE_OFFSET)) >>> 0;
  if (headerSize !== HEADER_SIZE) throw badHeaderError(`header size ${headerSize}, expected ${HEADER_SIZE}`, address);
  const data = dataSize(paramA, paramB, paramC);
  if (typeof data === 'string') throw badHeaderError(data, address);
  if (totalSize !== HEADER_SIZE + data) throw badHeaderError(`total size ${totalSize} disagrees with its parameters (${HEADER_SIZE + data})`, address);
  if (totalSize > byteLength) throw badHeaderError(`the ring needs ${totalSize} bytes but its region holds ${byteLength} (truncated)`, address);
  return { kind, paramA, paramB, paramC, totalSize };
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** A role (producer or consumer of an SPSC ring) held in one 64-bit owner word. */
export class Role {
  readonly #owners: BigInt64Array;
  readonly #index: number;
  readonly name: string;
  #held = false;

  /** `owners` views the ring's header (from the ring's byteOffset). */
  constructor(owners: BigInt64Array, ownerOffset: number, name: string) {
    this.#owners = owners;
    this.#index = i64Index(ownerOffset);
    this.name = name;
  }

  get held(): boolean {
    return this.#held;
  }

  /** Takes the role; returns true if it was taken over from a dead holder. ERR_ROLE_TAKEN if a live one has it. */
  take(): boolean {
    if (this.#held) return false;
    const previous = Atomics.compareExchange(this.#owners, this.#index, 0n, SELF_THREAD);
    if (previous === 0n) {
      this.#held = true;
      return false;
    }
    if (previous === SELF_THREAD) throw shmError('ERR_ROLE_TAKEN', `the ${this.name} role is held by another handle in this thread`);
    if (isAlive(previous)) throw shmError('ERR_ROLE_TAKEN', `the ${this.name} role is held by live process ${Number(previous & 0x3fffffn)}`);
    if (Atomics.compareExchange(this.#owners, this.#index, previous, SELF_THREAD) !== previous) {
      throw shmError('ERR_ROLE_TAKEN', `another process took over the ${this.name} role first`);
    }
    this.#held = true;
    return true;
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    Atomics.compareExchange(this.#owners, this.#index, SELF_THREAD, 0n);
  }

  /** Whether the peer holding the other role is known to be dead (0 = nobody yet: not dead). */
  static peerDead(owners: BigInt64Array, ownerOffset: number): boolean {
    const owner = Atomics.load(owners, i64Index(ownerOffset));
    return owner !== 0n && !isAlive(owner);
  }
}

export interface BlockOptions {
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * Makes a handle's held writes (or releases) visible to its peer. An internal callback,
 * registered below: rings expose no method for it.
 */
export type FlushHeld = () => void;

// Handles in per-task batching mode registered since the last flush of this thread, each
// once (a handle keeps a flag saying it is registered, cleared when its callback runs).
// One microtask per task flushes them all, so the hot path costs a flag test, and the list
// never grows past one entry per handle.
const deferred: FlushHeld[] = [];
let deferredCount = 0;
let taskQueued = false;
// Corked handles: what they hold is published on uncork(), never at the end of a task, but
// (like the above) before this thread waits in the library, when a ring looks full or
// empty to it, and at process exit.
const corked = new Set<FlushHeld>();

function flushTask(): void {
  taskQueued = false;
  flushDeferred();
}

/**
 * Registers a handle in per-task batching mode whose work must be visible by the end of
 * the current task at the latest. Before this thread parks in any blocking call of the
 * library, when a ring looks empty or full, and when the process exits, everything
 * registered is flushed as well, so deferred publication never makes a peer wait on this
 * thread.
 */
export function defer(flush: FlushHeld): void {
  deferred[deferredCount++] = flush;
  if (!taskQueued) {
    taskQueued = true;
    queueMicrotask(flushTask);
  }
}

/** Registers (true) or forgets (false) a corked handle (see corked). */
export function setCorked(flush: FlushHeld, on: boolean): void {
  if (on) corked.add(flush);
  else corked.delete(flush);
}

/** Makes every deferred write and release of this thread visible now (corked handles stay corked). */
export function flushDeferred(): void {
  for (let i = 0; i < deferredCount; i++) {
    const flush = deferred[i]!;
    deferred[i] = undefined!;
    flush();
  }
  deferredCount = 0;
  if (corked.size !== 0) for (const flush of corked) flush();
}

/**
 * For a ring that looks empty or full: flushes this thread's deferred work (the peer may
 * be another handle in this very thread) and says whether there may have been any, so the
 * caller knows a second look may find more.
 */
export function flushDeferredIfAny(): boolean {
  if (deferredCount === 0 && corked.size === 0) return false;
  flushDeferred();
  return true;
}

process.on('exit', flushDeferred);

/** The pieces a blocking loop needs from a ring. */
export interface Blocking<T> {
  what: string;
  /** Does the operation if it can now; null if it must wait. */
  attempt: () => T | null;
  /**
   * Where to sleep. The word must change after any publication that could make attempt()
   * succeed, whenever the waiters word is non-zero.
   */
  point: WaitPoint;
  /** Whether spinning on the word can see progress (false if it changes only for sleepers). */
  spin: boolean;
  /** Throws (ERR_PEER_DEAD, ERR_CLOSED, ...) when waiting longer cannot help. */
  check: () => void;
  onWait: () => void;
}

// Both loops: try; spin on the word; then announce in the waiters word, read the word,
// try once more and park while the word is unchanged. Trying after announcing is what
// makes a wake-up impossible to miss: a publisher that did not see the announcement
// published before the last try, which then sees its data.
// The timeout runs from the end of the first spin (a few µs late): a wait that ends
// while spinning never reads the clock, which would cost a round trip 2 × 64 ns here.

/** Runs attempt() until it gives a value, parking in between; blocks the thread. */
export function blockSync<T>(strategy: WaitStrategy, b: Blocking<T>, options: BlockOptions | undefined): T {
  const timeout = checkTimeout(checkOptions(options).timeout);
  let deadline = NaN; // read from the clock once spinning failed: a spin that succeeds never looks at it
  const { i32, word, waiters } = b.point;
  let waited = false;
  for (;;) {
    const before = Atomics.load(i32, word);
    let value = b.attempt();
    if (value !== null) return value;
    if (!waited) {
      waited = true;
      b.onWait();
      flushDeferred(); // the peer may be waiting for what this thread has not yet published
    }
    if (b.spin && strategy.spin(b.point, before)) continue;
    const now = performance.now();
    if (deadline !== deadline) deadline = timeout < 0 ? Infinity : now + timeout;
    const left = deadline - now;
    if (left <= 0) throw timeoutError(b.what, timeout);
    let result: 'ok' | 'timed-out';
    flushDeferred();
    Atomics.add(i32, waiters, 1);
    try {
      const seen = Atomics.load(i32, word);
      value = b.attempt();
      if (value !== null) return value;
      result = strategy.park(b.point, seen, Math.min(left, PEER_CHECK_INTERVAL_MS));
    } finally {
      Atomics.sub(i32, waiters, 1);
    }
    if (result === 'timed-out') b.check();
  }
}

/** As blockSync without blocking the event loop; `closing` aborts when the ring closes. */
export async function blockAsync<T>(strategy: WaitStrategy, b: Blocking<T>, options: BlockOptions | undefined, closing: AbortSignal): Promise<T> {
  const o = checkOptions(options);
  const timeout = checkTimeout(o.timeout);
  const user = checkSignal(o.signal);
  if (user?.aborted) throw abortError(b.what, user.reason);
  const signal = user === undefined ? closing : AbortSignal.any([user, closing]);
  let deadline = NaN; // as in blockSync
  const { i32, word, waiters } = b.point;
  let waited = false;
  for (;;) {
    const before = Atomics.load(i32, word);
    let value = b.attempt();
    if (value !== null) return value;
    if (!waited) {
      waited = true;
      b.onWait();
      flushDeferred(); // the peer may be waiting for what this thread has not yet published
    }
    if (b.spin && strategy.spin(b.point, before)) continue;
    const now = performance.now();
    if (deadline !== deadline) deadline = timeout < 0 ? Infinity : now + timeout;
    const left = deadline - now;
    if (left <= 0) throw timeoutError(b.what, timeout);
    let result: 'ok' | 'timed-out';
    flushDeferred();
    Atomics.add(i32, waiters, 1);
    try {
      const seen = Atomics.load(i32, word);
      value = b.attempt();
      if (value !== null) return value;
      result = await strategy.parkAsync(b.point, seen, Math.min(left, PEER_CHECK_INTERVAL_MS), signal);
    } catch (err) {
      if (closing.aborted) throw closedError('ring');
      throw err;
    } finally {
      Atomics.sub(i32, waiters, 1);
    }
    if (closing.aborted) throw closedError('ring');
    if (result === 'timed-out') b.check();
  }
}
