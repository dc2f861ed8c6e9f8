// SpscRing: one producer and one consumer (processes or threads) exchanging
// variable-length messages through a ring of bytes in shared memory.
//
// Protocol: the producer writes the payload, then the record header (length, type), then
// publishes the new tail with Atomics.store; the consumer loads the tail first, reads the
// records before it, and releases their space by storing the new head.
//
// Publication: a write that returned is published (tryWrite, write, writeAsync,
// claim.commit() store the tail before they return), and a read releases its record's
// space before it returns. Batching is asked for: between cork() and uncork() a handle
// publishes (or releases) once per BATCH_BYTES; tryWriteMany and drain once per
// BATCH_BYTES and at their end; `batching: 'task'` keeps publication for the end of the
// current task (a microtask) after the first record of a burst. Whatever is held is
// published before this thread blocks in the library, when the ring looks full or empty,
// on flush(), close() and process exit. A handle that finds its ring empty (or full) first
// flushes the held work of its own thread, so a producer and a consumer in one thread see
// each other at once.
import { badHeaderError, checkBytes, closedError, ShmError, shmError, typeError } from '../errors.js';
import type { Segment } from '../segment/segment.js';
import type { WaitPoint, WaitStrategy } from '../sync/wait-strategy.js';
import {
  blockAsync,
  blockSync,
  type Blocking,
  defer,
  type FlushHeld,
  flushDeferredIfAny,
  setCorked,
  type BlockOptions,
  checkOptions,
  checkRegionOptions,
  checkStrategy,
  closeWithSegment,
  forgetRing,
  formatHeader,
  isPowerOfTwo,
  locate,
  ON_HEAP_MAX,
  POOLED_MAX,
  CHUNK_BYTES,
  Payload,
  publishReady,
  readHeader,
  Role,
  type RegionOptions,
  type RingTarget,
} from './base.js';
import {
  CONSUMER_OWNER_OFFSET,
  CONSUMER_WAITERS_OFFSET,
  HEADER_SIZE,
  i32Index,
  KIND_SPSC,
  PRODUCER_CLOSED_OFFSET,
  PRODUCER_OWNER_OFFSET,
  PRODUCER_WAITERS_OFFSET,
} from './header.js';
import {
  DATA_OFFSET,
  HEAD_OFFSET,
  MAX_CAPACITY,
  maxMessageSize,
  MIN_CAPACITY,
  RECORD_HEADER_SIZE,
  RECORD_LENGTH_OFFSET,
  RECORD_TYPE_OFFSET,
  recordSize,
  spscRingSize,
  TAIL_OFFSET,
  TYPE_MESSAGE,
  TYPE_PADDING,
} from './spsc-layout.js';

export type SpscRole = 'producer' | 'consumer';

/**
 * When a handle makes its writes (releases) visible: 'none' (the default) before each call
 * returns; 'task' the first record of a burst at once and the rest by the end of the
 * current task (a microtask), for event-loop producers that write many messages per task.
 */
export type SpscBatching = 'none' | 'task';

export interface SpscCreateOptions extends RegionOptions {
  /** Data bytes, a power of two from 64 to 2^30; default: the largest that fits a given segment. */
  capacity?: number;
  role?: SpscRole;
  strategy?: WaitStrategy;
  /** 'none' (default): every write is published before it returns; 'task': see SpscBatching. */
  batching?: SpscBatching;
  /** At an address that exists: replace the segment if it is stale (no process maps it, its participants all died). */
  replaceStale?: boolean;
}

export interface SpscOpenOptions extends RegionOptions {
  role?: SpscRole;
  strategy?: WaitStrategy;
  /** 'none' (default): every write is published before it returns; 'task': see SpscBatching. */
  batching?: SpscBatching;
}

/** Counters of this handle (not of the ring): what this process did through it. */
export interface RingStats {
  messages: number;
  bytes: number;
  /** Times a write found the ring full and had to wait (or returned false). */
  fullWaits: number;
  /** Times a read found the ring empty and had to wait (or returned null). */
  emptyWaits: number;
}

/** A zero-copy write: fill `bytes`, then commit() to publish it or abort() to drop it. */
export interface Claim {
  readonly bytes: Uint8Array;
  commit(): void;
  abort(): void;
}

/**
 * Most bytes a deferred publication or release may hold back: large enough to amortise
 * the fenced store over dozens of small messages, small enough that a consumer spinning
 * for data sees the next batch before its spin budget runs out and it parks.
 */
const BATCH_BYTES = 4096;

/** Most bytes copied ahead at once. */
const READ_AHEAD_BYTES = 8192;

/** Publication (release) modes of a handle: each call, per task, or corked. */
const PUBLISH_EACH = 0;
const BATCH_TASK = 1;
const CORKED = 2;

const IDLE = 0;
const PRODUCING = 1;
const CONSUMING = 2;

/** The one reusable claim object of a producer handle; `generation` tells stale claims apart. */
class SpscClaim implements Claim {
  bytes: Uint8Array = new Uint8Array(0);
  at = 0;
  length = 0;
  generation = 0;
  live = false;
  constructor(
    private readonly finish: (claim: SpscClaim, commit: boolean) => void,
  ) {}
  commit(): void {
    this.finish(this, true);
  }
  abort(): void {
    this.finish(this, false);
  }
}

function checkCapacity(value: unknown): number {
  if (typeof value !== 'number') throw typeError('capacity', value, 'a number');
  if (!Number.isInteger(value) || !isPowerOfTwo(value) || value < MIN_CAPACITY || value > MAX_CAPACITY) {
    throw new RangeError(`capacity=${value}: must be a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY}`);
  }
  return value;
}

function checkBatching(value: unknown): number {
  if (value === undefined || value === 'none') return PUBLISH_EACH;
  if (value === 'task') return BATCH_TASK;
  throw typeError('batching', value, "'none' or 'task'");
}

function checkRole(value: unknown): SpscRole | undefined {
  if (value === undefined || value === 'producer' || value === 'consumer') return value;
  throw typeError('role', value, "'producer' or 'consumer'");
}

function checkRingFits(capacity: number, byteLength: number | undefined): void {
  if (byteLength !== undefined && spscRingSize(capacity) > byteLength) {
    throw new RangeError(`capacity=${capacity}: the ring needs ${spscRingSize(capacity)} bytes, its region holds ${byteLength}`);
  }
}

/** Largest power-of-two capacity whose ring fits in `bytes`. */
function fittingCapacity(bytes: number): number {
  const room = Math.min(bytes - DATA_OFFSET, MAX_CAPACITY);
  if (room < MIN_CAPACITY) throw new RangeError(`a region of ${bytes} bytes is too small for an SPSC ring (needs ${spscRingSize(MIN_CAPACITY)})`);
  return 2 ** Math.floor(Math.log2(room));
}

export class SpscRing implements AsyncIterable<Uint8Array> {
  readonly capacity: number;
  readonly maxMessageSize: number;
  readonly address: string;
  readonly #i32: Int32Array;
  readonly #owners: BigInt64Array;
  readonly #mask: number;
  readonly #strategy: WaitStrategy;
  readonly #owned;
  readonly #segment: Segment | undefined;
  readonly #producer: Role;
  readonly #consumer: Role;
  readonly #closing = new AbortController();
  readonly #tailIndex = i32Index(TAIL_OFFSET);
  readonly #headIndex = i32Index(HEAD_OFFSET);
  /** The consumer sleeps on the tail, announcing itself in the consumer waiters word. */
  readonly #dataPoint: WaitPoint;
  /** The producer sleeps on the head, announcing itself in the producer waiters word. */
  readonly #spacePoint: WaitPoint;
  #readBlock: Blocking<Uint8Array> | undefined;
  #readableBlock: Blocking<true> | undefined;
  #readIntoBlock: Blocking<number> | undefined;
  /** The target of the readInto() in progress (its Blocking is built once per handle). */
  #intoTarget: Uint8Array | undefined;
  #closed = false;
  #broken: ShmError | undefined;
  // Producer state: the next write position, what is published, the head last seen.
  #tail = 0;
  #publishedTail = 0;
  /** Free bytes as of the head last seen: a write that fits needs no look at the head. */
  #room = 0;
  readonly #claim = new SpscClaim((claim, commit) => this.#finishClaim(claim, commit));
  /** Registered in this thread's list of handles with deferred work (see base.ts defer). */
  #deferred = false;
  /** PUBLISH_EACH or BATCH_TASK, as asked at create/open. */
  readonly #batching: number;
  /** The mode in force: #batching, or CORKED between cork() and uncork(). */
  #hold: number;
  /** cork() calls not yet matched by uncork(). */
  #corks = 0;
  /** What base.ts calls to publish this handle's held work (at the end of a task, before a wait, at exit). */
  readonly #flushHeld: FlushHeld = () => {
    this.#deferred = false;
    this.flush();
  };
  /** The head as of the last wake-up of a sleeping producer (see #release). */
  #wokenHead = 0;
  // Consumer state: the next read position, what is released, the tail last seen.
  #head = 0;
  #releasedHead = 0;
  #cachedTail = 0;
  /** Payload length of the record #next() returned, as read and checked there. */
  #length = 0;
  /** Bytes that may wait for a deferred publication or release. */
  readonly #batchBytes: number;
  /** Fast paths are open (PRODUCING or CONSUMING); IDLE sends every call through the checks. */
  #mode = IDLE;
  // Payload copies and zero-copy views use the plain alias of a Segment's pages when there
  // is one (memmove speed), else the SharedArrayBuffer itself.
  readonly #payload: Payload;
  // The consumer's read-ahead copy (see #takeAhead): ring positions aheadPos.. of
  // aheadLen bytes sit at aheadBase in the current chunk; chunk bytes from chunkFree on
  // were never handed out.
  #aheadBuffer: ArrayBuffer = new ArrayBuffer(0);
  #chunk = new Uint8Array(0);
  #aheadI32 = new Int32Array(0);
  #aheadPos = 0;
  #aheadBase = 0;
  #aheadLen = 0;
  #chunkFree = CHUNK_BYTES;
  // Counters (see stats).
  #messages = 0;
  #bytes = 0;
  #fullWaits = 0;
  #emptyWaits = 0;

  private constructor(located: ReturnType<typeof locate>, capacity: number, strategy: WaitStrategy, batching: number) {
    const { buffer, byteOffset } = located;
    this.address = located.address;
    this.#owned = located.owned;
    this.#segment = located.segment;
    closeWithSegment(located.segment, this);
    this.capacity = capacity;
    this.maxMessageSize = maxMessageSize(capacity);
    this.#mask = capacity - 1;
    this.#batchBytes = Math.min(capacity / 8, BATCH_BYTES);
    // Every view starts at the ring's region: offsets from the layout files are relative to it.
    this.#i32 = new Int32Array(buffer, byteOffset, spscRingSize(capacity) / 4);
    this.#payload = new Payload(located, spscRingSize(capacity));
    this.#owners = new BigInt64Array(buffer, byteOffset, HEADER_SIZE / 8);
    this.#strategy = strategy;
    this.#batching = this.#hold = batching;
    this.#producer = new Role(this.#owners, PRODUCER_OWNER_OFFSET, 'producer');
    this.#consumer = new Role(this.#owners, CONSUMER_OWNER_OFFSET, 'consumer');
    this.#dataPoint = { i32: this.#i32, word: this.#tailIndex, waiters: i32Index(CONSUMER_WAITERS_OFFSET) };
    this.#spacePoint = { i32: this.#i32, word: this.#headIndex, waiters: i32Index(PRODUCER_WAITERS_OFFSET) };
  }

  /** Segment bytes a ring of this capacity needs. */
  static requiredBytes(capacity: number): number {
    return spscRingSize(checkCapacity(capacity));
  }

  /** Formats a new ring (an address creates its segment). Overwrites whatever the bytes held. */
  static create(target: RingTarget, options?: SpscCreateOptions): SpscRing {
    const o = checkOptions(options);
    const role = checkRole(o.role);
    const strategy = checkStrategy(o.strategy);
    const batching = checkBatching(o.batching);
    const region = checkRegionOptions(o);
    let capacity: number;
    let located;
    if (typeof target === 'string') {
      if (o.capacity === undefined) throw typeError('capacity', undefined, 'a capacity when creating a ring at an address');
      capacity = checkCapacity(o.capacity);
      checkRingFits(capacity, region.byteLength);
      located = locate(target, region, { size: spscRingSize(capacity), replaceStale: o.replaceStale === true });
    } else {
      located = locate(target, region, undefined);
      capacity = o.capacity === undefined ? fittingCapacity(located.byteLength) : checkCapacity(o.capacity);
      checkRingFits(capacity, located.byteLength);
    }
    const i32 = new Int32Array(located.buffer, located.byteOffset, HEADER_SIZE / 4);
    formatHeader(i32, { kind: KIND_SPSC, paramA: capacity, paramB: 0, paramC: 0, totalSize: spscRingSize(capacity) });
    publishReady(i32);
    const ring = new SpscRing(located, capacity, strategy, batching);
    if (role !== undefined) ring.#takeRole(role);
    return ring;
  }

  /** Attaches to an existing ring; validates its header and never reinitialises it. */
  static open(target: RingTarget, options?: SpscOpenOptions): SpscRing {
    const o = checkOptions(options);
    const role = checkRole(o.role);
    const strategy = checkStrategy(o.strategy);
    const batching = checkBatching(o.batching);
    const located = locate(target, checkRegionOptions(o), undefined);
    try {
      const header = readHeader(located, KIND_SPSC, (capacity) =>
        isPowerOfTwo(capacity) && capacity >= MIN_CAPACITY && capacity <= MAX_CAPACITY ? capacity : `capacity ${capacity} is not a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY}`,
      );
      const ring = new SpscRing(located, header.paramA, strategy, batching);
      if (role !== undefined) ring.#takeRole(role);
      return ring;
    } catch (err) {
      located.owned?.close();
      throw err;
    }
  }

  // ---- roles -------------------------------------------------------------------------

  /** The role this handle holds, if any. */
  get role(): SpscRole | undefined {
    return this.#producer.held ? 'producer' : this.#consumer.held ? 'consumer' : undefined;
  }

  #takeRole(role: SpscRole): void {
    if (role === 'producer') {
      if (this.#consumer.held) throw shmError('ERR_ROLE_TAKEN', 'this handle is the consumer; open another handle to produce');
      this.#producer.take();
      // A new producer, or one taking over from a dead one, resumes at the published tail:
      // bytes past it were never published and are overwritten.
      const tail = Atomics.load(this.#i32, this.#tailIndex) >>> 0;
      this.#tail = this.#publishedTail = tail;
      const head = Atomics.load(this.#i32, this.#headIndex) >>> 0;
      Atomics.store(this.#i32, i32Index(PRODUCER_CLOSED_OFFSET), 0);
      this.#checkPositions(tail, head);
      this.#room = this.capacity - ((tail - head) >>> 0);
    } else {
      if (this.#producer.held) throw shmError('ERR_ROLE_TAKEN', 'this handle is the producer; open another handle to consume');
      this.#consumer.take();
      // The consumer resumes at the released head: records taken but not released by a
      // dead consumer are delivered again.
      const head = Atomics.load(this.#i32, this.#headIndex) >>> 0;
      this.#head = this.#releasedHead = this.#wokenHead = head;
      this.#cachedTail = Atomics.load(this.#i32, this.#tailIndex) >>> 0;
      this.#checkPositions(this.#cachedTail, head);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(`ring ${this.address}`);
    if (this.#broken !== undefined) throw this.#broken;
  }

  /** Marks the ring unusable: a shared value broke an invariant (corruption or a hostile writer). */
  #corrupt(reason: string): never {
    this.#mode = IDLE;
    this.#broken = badHeaderError(`corrupt ring: ${reason}`, this.address);
    throw this.#broken;
  }

  #checkPositions(tail: number, head: number): void {
    if ((tail | head) & 7) this.#corrupt(`misaligned position (tail ${tail}, head ${head})`);
    if (((tail - head) >>> 0) > this.capacity) this.#corrupt(`tail ${tail} and head ${head} are more than the capacity apart`);
  }

  // ---- producer ----------------------------------------------------------------------

  /** Sets up the producer fast path, or throws why this handle cannot write now. */
  #enterProducer(): void {
    this.#checkOpen();
    if (this.#claim.live) throw shmError('ERR_CLAIM_PENDING', 'commit() or abort() the pending claim first');
    if (!this.#producer.held) this.#takeRole('producer');
    this.#mode = PRODUCING;
  }

  /**
   * Reserves room for a record of `size` bytes and returns its offset in the buffer, or -1
   * if the ring is full. Writes a padding record first if the record would cross the end.
   */
  #reserve(size: number): number {
    let index = this.#tail & this.#mask;
    const toEnd = this.capacity - index;
    const needed = size <= toEnd ? size : toEnd + size;
    if (this.#room < needed) {
      let head = Atomics.load(this.#i32, this.#headIndex) >>> 0;
      if (this.capacity - ((this.#tail - head) >>> 0) < needed && flushDeferredIfAny()) head = Atomics.load(this.#i32, this.#headIndex) >>> 0;
      this.#checkPositions(this.#tail, head);
      this.#room = this.capacity - ((this.#tail - head) >>> 0);
      if (this.#room < needed) {
        // Room for the padding alone: write it now, so the record can start at 0 later.
        if (size > toEnd && this.#room >= toEnd) this.#pad(index, toEnd);
        return -1;
      }
    }
    if (size > toEnd) {
      this.#pad(index, toEnd);
      index = 0;
    }
    return DATA_OFFSET + index;
  }

  #pad(index: number, toEnd: number): void {
    const at = (DATA_OFFSET + index) >> 2;
    this.#i32[at + (RECORD_LENGTH_OFFSET >> 2)] = toEnd - RECORD_HEADER_SIZE;
    this.#i32[at + (RECORD_TYPE_OFFSET >> 2)] = TYPE_PADDING;
    this.#tail = (this.#tail + toEnd) >>> 0;
    this.#room -= toEnd;
  }

  /** Copies the payload into the record at `at`, writes its header and moves the tail (unpublished). */
  #put(bytes: Uint8Array, at: number, length: number, size: number): void {
    this.#payload.write(bytes, at + RECORD_HEADER_SIZE);
    this.#commitRecord(at, length, size);
  }

  /** Writes the header of the record at `at`, whose payload is in place, and moves the tail past it (unpublished). */
  #commitRecord(at: number, length: number, size: number): void {
    this.#writeHeader(at, length);
    this.#tail = (this.#tail + size) >>> 0;
    this.#room -= size;
    this.#messages++;
    this.#bytes += length;
  }

  #writeHeader(at: number, length: number): void {
    this.#i32[(at + RECORD_LENGTH_OFFSET) >> 2] = length;
    this.#i32[(at + RECORD_TYPE_OFFSET) >> 2] = TYPE_MESSAGE;
  }

  /**
   * After a record is written (or a claim ends): published now unless batching was asked
   * for. Corked, once per batch. Per task, the first record of a burst (nothing deferred
   * since this thread last flushed) at once, so a consumer waiting for a reply or a lone
   * message sees it without delay; the rest when the consumer sleeps, when a batch is
   * pending, and by the end of this task at the latest. The waiters word is read with a
   * plain load: it is a hint for latency only. A consumer that announced itself and was
   * missed here is still woken, because every publication checks the word with Atomics in
   * wake().
   */
  #published(): void {
    const hold = this.#hold;
    if (hold === PUBLISH_EACH) {
      this.#publish();
    } else if (hold === CORKED) {
      if (((this.#tail - this.#publishedTail) >>> 0) >= this.#batchBytes) this.#publish();
    } else if (!this.#deferred) {
      this.#publish();
      this.#defer(); // marks the burst: later records of this task wait for its end
    } else if (this.#i32[this.#dataPoint.waiters] !== 0 || ((this.#tail - this.#publishedTail) >>> 0) >= this.#batchBytes) {
      this.#publish();
    }
  }

  /** Makes sure deferred work is flushed by the end of the task. */
  #defer(): void {
    if (!this.#deferred) {
      this.#deferred = true;
      defer(this.#flushHeld);
    }
  }

  /**
   * Holds back publication (a producer) or release (a consumer) until uncork(): what this
   * handle writes (reads) becomes visible once per 4 KiB of records (an eighth of the ring
   * if that is less), on uncork(), flush(), close(), before this thread blocks in the
   * library, when the ring looks full (empty), and at process exit. Calls nest, as a
   * writable stream's cork() does: the last matching uncork() publishes.
   */
  cork(): void {
    this.#checkOpen();
    if (this.#corks++ === 0) {
      this.#hold = CORKED;
      setCorked(this.#flushHeld, true);
    }
  }

  /** Ends one cork(); the last one publishes (releases) everything held. Extra calls do nothing. */
  uncork(): void {
    if (this.#corks === 0) return;
    if (--this.#corks === 0) {
      this.#hold = this.#batching;
      setCorked(this.#flushHeld, false);
      this.flush();
    }
  }

  /** How many cork() calls await their uncork(). */
  get corked(): number {
    return this.#corks;
  }

  /** Makes every record written so far visible to the consumer, and wakes it if it sleeps. */
  #publish(): void {
    if (this.#tail === this.#publishedTail) return;
    this.#publishedTail = this.#tail;
    // Release store: the consumer that loads this tail sees every payload byte and
    // record header written before it.
    Atomics.store(this.#i32, this.#tailIndex, this.#tail | 0);
    this.#strategy.wake(this.#dataPoint, 1);
  }

  #checkLength(length: number): void {
    if (length > this.maxMessageSize) {
      throw shmError('ERR_MESSAGE_TOO_LARGE', `a message of ${length} bytes can never fit this ring (at most ${this.maxMessageSize})`);
    }
  }

  /**
   * Writes one record (unpublished) if it fits now. The caller is in producer mode. Once a
   * lap the tail reaches the end or the room counted runs out: the padding record and the
   * look at the consumer's head are written out here rather than called, because a
   * function that runs once a lap is too seldom run for V8 to optimize it, and running it
   * unoptimized cost over a microsecond between processes. A ring that looks full, a
   * message too large and a head that is not a valid position go to #writeChecked.
   */
  #writeOne(bytes: Uint8Array): boolean {
    const length = bytes.length;
    let index = this.#tail & this.#mask;
    const size = recordSize(length);
    if (size > this.#room || size > this.capacity - index || length > this.maxMessageSize) {
      const toEnd = this.capacity - index;
      const needed = size <= toEnd ? size : toEnd + size;
      const room = this.capacity - ((this.#tail - Atomics.load(this.#i32, this.#headIndex)) >>> 0);
      if (room < needed || (room & 7) !== 0 || length > this.maxMessageSize) return this.#writeChecked(bytes);
      this.#room = room;
      if (size > toEnd) {
        const pad = (DATA_OFFSET + index) >> 2;
        this.#i32[pad + (RECORD_LENGTH_OFFSET >> 2)] = toEnd - RECORD_HEADER_SIZE;
        this.#i32[pad + (RECORD_TYPE_OFFSET >> 2)] = TYPE_PADDING;
        this.#tail = (this.#tail + toEnd) >>> 0;
        this.#room -= toEnd;
        index = 0;
      }
    }
    this.#put(bytes, DATA_OFFSET + index, length, size);
    return true;
  }

  /** #writeOne for a ring that looks full: checks everything, and flushes this thread's deferred reads. */
  #writeChecked(bytes: Uint8Array): boolean {
    const length = bytes.length;
    this.#checkLength(length);
    const size = recordSize(length);
    const at = this.#reserve(size);
    if (at < 0) return false;
    this.#put(bytes, at, length, size);
    return true;
  }

  /** Writes one message if it fits now; false if the ring is full. Never blocks. */
  tryWrite(bytes: Uint8Array): boolean {
    if (!(bytes instanceof Uint8Array)) checkBytes(bytes);
    if (this.#mode !== PRODUCING) this.#enterProducer();
    if (this.#writeOne(bytes)) {
      this.#published();
      return true;
    }
    this.#publish(); // looks full: let the consumer see everything so it can make room
    this.#fullWaits++;
    return false;
  }

  /**
   * Writes as many of `messages` as fit now, in order, and publishes them with one store
   * per 4 KiB of records (an eighth of the ring if that is less), so large messages reach
   * the consumer while the rest are copied in. Returns how many were written. Never blocks.
   */
  tryWriteMany(messages: readonly Uint8Array[]): number {
    if (!Array.isArray(messages)) throw typeError('messages', messages, 'an array of Uint8Array');
    for (let i = 0; i < messages.length; i++) checkBytes(messages[i]);
    if (this.#mode !== PRODUCING) this.#enterProducer();
    let n = 0;
    try {
      while (n < messages.length && this.#writeOne(messages[n]!)) {
        n++;
        if (((this.#tail - this.#publishedTail) >>> 0) >= this.#batchBytes) this.#publish();
      }
    } finally {
      // Corked, the last records wait for uncork() like any others, unless the ring is full.
      if (this.#hold !== CORKED || n < messages.length) this.#publish();
    }
    if (n < messages.length) this.#fullWaits++;
    return n;
  }

  #writeBlocking(bytes: Uint8Array): Blocking<true> {
    checkBytes(bytes);
    if (this.#mode !== PRODUCING) this.#enterProducer();
    this.#checkLength(bytes.length);
    return this.#producerBlocking('ring write', () => (this.#writeOne(bytes) ? true : null));
  }

  /**
   * A blocking producer operation around `put` (which gives null while the ring is full).
   * Each attempt publishes what is written, so a waiting consumer sees it at once and one
   * that must make room sees everything first.
   */
  #producerBlocking<T>(what: string, put: () => T | null): Blocking<T> {
    return {
      what,
      attempt: () => {
        if (this.#mode !== PRODUCING) this.#enterProducer();
        const value = put();
        if (value === null) this.#publish(); // full: the consumer must see everything to make room
        else this.#published();
        return value;
      },
      point: this.#spacePoint,
      spin: true,
      check: () => {
        this.#checkOpen();
        if (Role.peerDead(this.#owners, CONSUMER_OWNER_OFFSET)) throw shmError('ERR_PEER_DEAD', 'the consumer died while the ring was full');
      },
      onWait: () => this.#fullWaits++,
    };
  }

  /** Writes one message, blocking the thread while the ring is full. ERR_TIMEOUT, ERR_PEER_DEAD. */
  write(bytes: Uint8Array, options?: BlockOptions): void {
    if (options === undefined && this.#mode === PRODUCING && bytes instanceof Uint8Array && this.#writeOne(bytes)) {
      this.#published();
      return;
    }
    blockSync(this.#strategy, this.#writeBlocking(bytes), options);
  }

  /** As write(), without blocking the event loop. */
  async writeAsync(bytes: Uint8Array, options?: BlockOptions): Promise<void> {
    if (options === undefined && this.#mode === PRODUCING && bytes instanceof Uint8Array && this.#writeOne(bytes)) {
      this.#published();
      return;
    }
    await blockAsync(this.#strategy, this.#writeBlocking(bytes), options, this.#closing.signal);
  }

  /**
   * Zero-copy write: room for `length` bytes in the ring, or null if full. Fill
   * `claim.bytes`, then commit() (published like tryWrite) or abort(). One claim at a time;
   * the claim object is reused by the next tryClaim.
   */
  tryClaim(length: number): Claim | null {
    this.#checkClaim(length);
    const claim = this.#claimNow(length);
    if (claim === null) {
      this.#publish(); // looks full (and a padding record may have been written)
      this.#fullWaits++;
    }
    return claim;
  }

  /** As tryClaim(), blocking the thread while the ring is full. ERR_TIMEOUT, ERR_PEER_DEAD. */
  claim(length: number, options?: BlockOptions): Claim {
    this.#checkClaim(length);
    return this.#claimNow(length) ?? blockSync(this.#strategy, this.#claimBlocking(length), options);
  }

  /** As claim(), without blocking the event loop. */
  async claimAsync(length: number, options?: BlockOptions): Promise<Claim> {
    this.#checkClaim(length);
    return this.#claimNow(length) ?? (await blockAsync(this.#strategy, this.#claimBlocking(length), options, this.#closing.signal));
  }

  #checkClaim(length: number): void {
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
      throw new RangeError(`length=${String(length)}: must be an integer >= 0`);
    }
    if (this.#mode !== PRODUCING) this.#enterProducer();
    this.#checkLength(length);
  }

  /** The claim of `length` checked bytes if they fit now, else null. The caller is in producer mode. */
  #claimNow(length: number): Claim | null {
    const at = this.#reserve(recordSize(length));
    if (at < 0) return null;
    const claim = this.#claim;
    claim.bytes = this.#payload.view(at + RECORD_HEADER_SIZE, length);
    claim.at = at;
    claim.length = length;
    claim.generation++;
    claim.live = true;
    this.#mode = IDLE; // other writes throw ERR_CLAIM_PENDING until the claim ends
    return claim;
  }

  #claimBlocking(length: number): Blocking<Claim> {
    return this.#producerBlocking('ring claim', () => this.#claimNow(length));
  }

  #finishClaim(claim: SpscClaim, commit: boolean): void {
    if (!claim.live) throw shmError('ERR_CLAIM_DONE', 'this claim was already committed or aborted');
    claim.live = false;
    this.#checkOpen();
    if (commit) this.#commitRecord(claim.at, claim.length, recordSize(claim.length));
    this.#mode = PRODUCING;
    this.#published(); // a padding record may have been written even for an abort
  }

  // ---- consumer ----------------------------------------------------------------------

  /** Sets up the consumer fast path, or throws why this handle cannot read now. */
  #enterConsumer(): void {
    this.#checkOpen();
    if (!this.#consumer.held) this.#takeRole('consumer');
    this.#mode = CONSUMING;
  }

  /**
   * The buffer offset of the next message record, skipping padding, or -1 if none is
   * published. Validates every shared value before using it as an index.
   */
  #next(): number {
    for (;;) {
      let available = (this.#cachedTail - this.#head) >>> 0;
      if (available === 0) {
        let tail = Atomics.load(this.#i32, this.#tailIndex) >>> 0;
        if (tail === this.#head && flushDeferredIfAny()) tail = Atomics.load(this.#i32, this.#tailIndex) >>> 0;
        this.#checkPositions(tail, this.#releasedHead);
        this.#cachedTail = tail;
        available = (tail - this.#head) >>> 0;
        if (available === 0) return -1;
      }
      const index = this.#head & this.#mask;
      const at = DATA_OFFSET + index;
      const length = this.#i32[(at + RECORD_LENGTH_OFFSET) >> 2]!;
      const type = this.#i32[(at + RECORD_TYPE_OFFSET) >> 2]!;
      if (type === TYPE_MESSAGE) {
        if (length < 0 || length > this.maxMessageSize) this.#corrupt(`record length ${length} at position ${this.#head}`);
        const size = recordSize(length);
        if (size > available || index + size > this.capacity) this.#corrupt(`record of ${length} bytes at position ${this.#head} overruns the published data`);
        // Read once and checked: callers use this, never the shared word again (a hostile
        // writer could change it after the check).
        this.#length = length;
        return at;
      }
      if (type !== TYPE_PADDING) this.#corrupt(`record type ${type} at position ${this.#head}`);
      const toEnd = this.capacity - index;
      if (length !== toEnd - RECORD_HEADER_SIZE || toEnd > available) this.#corrupt(`padding of ${length} bytes at position ${this.#head}`);
      this.#head = (this.#head + toEnd) >>> 0;
    }
  }

  /**
   * After a record is read: released now unless batching was asked for (corked or per
   * task: once a batch is held, else by uncork() or the end of the task).
   */
  #released(): void {
    if (this.#hold === PUBLISH_EACH || ((this.#head - this.#releasedHead) >>> 0) >= this.#batchBytes) {
      this.#release(false);
    } else if (this.#hold === BATCH_TASK) {
      this.#defer();
    }
  }

  /** Moves past a message record of `size` bytes (payload `length`) and counts it. */
  #consumed(length: number, size: number): void {
    this.#head = (this.#head + size) >>> 0;
    this.#messages++;
    this.#bytes += length;
  }

  /**
   * As #consumed, for a record read from the ring itself rather than the read-ahead copy.
   * The copy is dropped: positions wrap at 2^32, and a copy left behind while reads went on
   * this way could otherwise be taken for the same positions of a later lap.
   */
  #consumedFromRing(length: number): void {
    this.#consumed(length, recordSize(length));
    this.#aheadLen = 0;
  }

  /**
   * Gives the space of consumed records back to the producer. A producer sleeping on a full
   * ring is woken once a batch's worth is free since its last wake-up, or when `wakeAlways`
   * (the ring looks empty, a flush, a close, a wait): waking it for each freed record would
   * make it write one record and sleep again, a wake-up (a syscall on both sides) per
   * message. A sleeping producer also looks again by itself every PEER_CHECK_INTERVAL_MS.
   */
  #release(wakeAlways = true): void {
    if (this.#head === this.#releasedHead) return;
    this.#releasedHead = this.#head;
    // Release store: the producer may overwrite these bytes once it loads this head.
    Atomics.store(this.#i32, this.#headIndex, this.#head | 0);
    if (wakeAlways || ((this.#head - this.#wokenHead) >>> 0) >= this.#batchBytes) {
      this.#wokenHead = this.#head;
      this.#strategy.wake(this.#spacePoint, 1);
    }
  }

  /**
   * The next message from the read-ahead copy, or null if it is not there. Small messages
   * are copied from the ring many records at a time into a private chunk (one memmove),
   * and handed out as views of that chunk: the bytes belong to the caller, and the
   * record header is parsed from the private copy, out of a hostile writer's reach.
   */
  #takeAhead(): Uint8Array | null {
    const head = this.#head;
    const rel = (head - this.#aheadPos) >>> 0;
    const left = this.#aheadLen - rel;
    if (rel >= this.#aheadLen) return null; // positions and lengths are multiples of 8: the header is inside
    const o = this.#aheadBase + rel;
    const length = this.#aheadI32[(o + RECORD_LENGTH_OFFSET) >> 2]!;
    // An unsigned compare also refuses a negative length.
    if (this.#aheadI32[(o + RECORD_TYPE_OFFSET) >> 2] !== TYPE_MESSAGE || length >>> 0 > left - RECORD_HEADER_SIZE) return null;
    const size = recordSize(length); // fits in `left`: both are multiples of 8
    this.#consumed(length, size);
    this.#chunkFree = o + size;
    return new Uint8Array(this.#aheadBuffer, o + RECORD_HEADER_SIZE, length);
  }

  /** Copies published records from `at` (the next record, checked by #next) into the read-ahead chunk. */
  #fillAhead(at: number, size: number): void {
    let start = this.#chunkFree;
    let n = Math.min((this.#cachedTail - this.#head) >>> 0, DATA_OFFSET + this.capacity - at, READ_AHEAD_BYTES);
    if (CHUNK_BYTES - start < size) {
      const buffer = new ArrayBuffer(CHUNK_BYTES);
      this.#aheadBuffer = buffer;
      this.#chunk = new Uint8Array(buffer);
      this.#aheadI32 = new Int32Array(buffer);
      start = 0;
    }
    n = Math.min(n, CHUNK_BYTES - start);
    this.#chunk.set(this.#payload.view(at, n), start);
    this.#aheadPos = this.#head;
    this.#aheadBase = start;
    this.#aheadLen = n;
    this.#chunkFree = start;
  }

  /** Takes the next message as a copy the caller owns, or null if none is published. */
  #take(): Uint8Array | null {
    const ahead = this.#takeAhead();
    if (ahead !== null) return ahead;
    const at = this.#next();
    if (at < 0) return null;
    const length = this.#length;
    const size = recordSize(length);
    // A large message gets a buffer of its own; so does a lone small one (a request/response
    // exchange): V8 allocates it on its heap, for less than a view of a pool chunk.
    if (length > POOLED_MAX || (length <= ON_HEAP_MAX && ((this.#cachedTail - this.#head) >>> 0) === size)) {
      const copy = this.#payload.copy(at + RECORD_HEADER_SIZE, length);
      this.#consumedFromRing(length);
      return copy;
    }
    this.#fillAhead(at, size);
    const message = this.#takeAhead();
    // #next() checked this record in the ring; its copy no longer agrees: a hostile writer.
    if (message === null) this.#corrupt(`record at position ${this.#head} changed while it was read`);
    return message;
  }

  /**
   * Takes the next message as a copy the caller owns; null if the ring is empty. Never
   * blocks. Messages up to 2 KiB are views into a pooled 16 KiB ArrayBuffer shared with
   * neighbouring messages (as Node's Buffer.allocUnsafe does); larger ones own their buffer.
   */
  tryRead(): Uint8Array | null {
    if (this.#mode !== CONSUMING) this.#enterConsumer();
    const message = this.#take();
    if (message !== null) {
      this.#released();
      return message;
    }
    this.#foundEmpty();
    return null;
  }

  /** A read found the ring empty: give back everything read so far, and count it. */
  #foundEmpty(): void {
    this.#release();
    this.#emptyWaits++;
  }

  /**
   * Copies the next message into `target` (from offset 0) and returns its length, or -1
   * if the ring is empty. Allocates nothing. A message longer than `target` stays in the
   * ring and gives a RangeError naming its length. Never blocks.
   */
  tryReadInto(target: Uint8Array): number {
    if (!(target instanceof Uint8Array)) throw typeError('target', target, 'a Uint8Array or Buffer');
    if (this.#mode !== CONSUMING) this.#enterConsumer();
    const length = this.#takeInto(target);
    if (length >= 0) {
      this.#released();
      return length;
    }
    this.#foundEmpty();
    return -1;
  }

  #takeInto(target: Uint8Array): number {
    // The read-ahead copy only mirrors unreleased ring bytes: reading the ring itself is
    // always right, and leaves the copy valid for the records after this one.
    const at = this.#next();
    if (at < 0) return -1;
    const length = this.#length;
    if (length > target.length) {
      throw new RangeError(`target of ${target.length} bytes cannot hold the next message (${length} bytes); it stays in the ring`);
    }
    this.#payload.copyTo(at + RECORD_HEADER_SIZE, length, target);
    this.#consumedFromRing(length);
    return length;
  }

  /**
   * Calls fn with a view of each waiting message (at most `max`), in order, and releases
   * their space with one store per 4 KiB of records (an eighth of the ring if that is
   * less) and one at the end. The view is valid only inside fn. Returns how many were
   * consumed; a message whose fn threw counts as consumed. Never blocks.
   */
  drain(fn: (view: Uint8Array) => void, max = Infinity): number {
    if (typeof fn !== 'function') throw typeError('fn', fn, 'a function');
    if (typeof max !== 'number' || Number.isNaN(max) || max < 0) throw new RangeError(`max=${String(max)}: must be a number >= 0`);
    if (this.#mode !== CONSUMING) this.#enterConsumer();
    let n = 0;
    try {
      while (n < max) {
        const at = this.#next();
        if (at < 0) break;
        const length = this.#length;
        this.#consumedFromRing(length);
        n++;
        fn(this.#payload.view(at + RECORD_HEADER_SIZE, length));
        // fn is done with every view so far: a batch's worth goes back to the producer now.
        if (((this.#head - this.#releasedHead) >>> 0) >= this.#batchBytes) this.#release();
      }
    } finally {
      // Corked, the last records wait for uncork() (an empty ring was released by #next).
      if (this.#hold !== CORKED) this.#release();
    }
    if (n === 0) this.#emptyWaits++;
    return n;
  }

  /**
   * A blocking consumer operation around `take` (which gives null while the ring is
   * empty): ends in ERR_CLOSED once the producer closed the ring and everything was read,
   * ERR_PEER_DEAD once it died and everything it published was read.
   */
  #consumerBlocking<T>(what: string, take: () => T | null): Blocking<T> {
    return {
      what,
      attempt: () => {
        if (this.#mode !== CONSUMING) this.#enterConsumer();
        const value = take();
        if (value === null) this.#release(); // about to wait: give everything back first
        else this.#released();
        // The producer publishes before it sets the closed flag: with the flag seen and
        // still nothing to read, the stream has ended.
        if (value === null && Atomics.load(this.#i32, i32Index(PRODUCER_CLOSED_OFFSET)) === 1 && this.#next() < 0) {
          throw shmError('ERR_CLOSED', 'the producer closed the ring and every message was read');
        }
        return value;
      },
      point: this.#dataPoint,
      spin: true,
      check: () => {
        this.#checkOpen();
        if (Role.peerDead(this.#owners, PRODUCER_OWNER_OFFSET) && this.#next() < 0) {
          throw shmError('ERR_PEER_DEAD', 'the producer died and every message it published was read');
        }
      },
      onWait: () => this.#emptyWaits++,
    };
  }

  #readBlocking(): Blocking<Uint8Array> {
    if (this.#mode !== CONSUMING) this.#enterConsumer();
    // Built once per handle: a blocking read allocates nothing but the message it returns.
    return (this.#readBlock ??= this.#consumerBlocking('ring read', () => this.#take()));
  }

  /** Takes the next message, blocking the thread while the ring is empty. */
  read(options?: BlockOptions): Uint8Array {
    if (options === undefined && this.#mode === CONSUMING) {
      const message = this.#take();
      if (message !== null) {
        this.#released();
        return message;
      }
    }
    return blockSync(this.#strategy, this.#readBlocking(), options);
  }

  /** As read(), without blocking the event loop. */
  readAsync(options?: BlockOptions): Promise<Uint8Array> {
    try {
      return blockAsync(this.#strategy, this.#readBlocking(), options, this.#closing.signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** As tryReadInto(), blocking the thread while the ring is empty; returns the length. */
  readInto(target: Uint8Array, options?: BlockOptions): number {
    if (!(target instanceof Uint8Array)) throw typeError('target', target, 'a Uint8Array or Buffer');
    if (options === undefined && this.#mode === CONSUMING) {
      const length = this.#takeInto(target);
      if (length >= 0) {
        this.#released();
        return length;
      }
    }
    if (this.#mode !== CONSUMING) this.#enterConsumer();
    this.#intoTarget = target;
    try {
      return blockSync(this.#strategy, (this.#readIntoBlock ??= this.#consumerBlocking('ring read', () => {
        const length = this.#takeInto(this.#intoTarget!);
        return length < 0 ? null : length;
      })), options);
    } finally {
      this.#intoTarget = undefined;
    }
  }

  #readableBlocking(): Blocking<true> {
    if (this.#mode !== CONSUMING) this.#enterConsumer();
    return (this.#readableBlock ??= this.#consumerBlocking('ring wait', () => (this.#next() >= 0 ? true : null)));
  }

  /**
   * Blocks the thread until a message can be read (then drain() or tryRead() gets it),
   * without taking it. ERR_CLOSED when the producer closed the ring and all was read.
   */
  waitReadable(options?: BlockOptions): void {
    if (options === undefined && this.#mode === CONSUMING && this.#next() >= 0) return;
    blockSync(this.#strategy, this.#readableBlocking(), options);
  }

  /** As waitReadable(), without blocking the event loop. */
  async waitReadableAsync(options?: BlockOptions): Promise<void> {
    await blockAsync(this.#strategy, this.#readableBlocking(), options, this.#closing.signal);
  }

  /** Messages until the producer closes the ring (or this handle is closed). */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      try {
        yield await this.readAsync();
      } catch (err) {
        if (err instanceof ShmError && err.code === 'ERR_CLOSED') return;
        throw err;
      }
    }
  }

  // ---- observers and lifetime ----------------------------------------------------------

  /** Counters of this handle; a snapshot. */
  get stats(): RingStats {
    return { messages: this.#messages, bytes: this.#bytes, fullWaits: this.#fullWaits, emptyWaits: this.#emptyWaits };
  }

  /** Bytes published and not yet released, as of now; stale for both sides at once. */
  get usedBytes(): number {
    return (Atomics.load(this.#i32, this.#tailIndex) - Atomics.load(this.#i32, this.#headIndex)) >>> 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Makes what this handle wrote (producer) or read (consumer) visible to its peer now. */
  flush(): void {
    if (this.#closed || this.#broken !== undefined) return;
    if (this.#producer.held) this.#publish();
    if (this.#consumer.held) this.#release();
  }

  /**
   * Publishes what this producer wrote, releases the role (a producer also marks the end
   * of the stream), settles pending async calls with ERR_CLOSED, and closes a segment the
   * ring opened itself. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#mode = IDLE;
    try {
      if (this.#producer.held && this.#broken === undefined) {
        this.#claim.live = false;
        this.#publish();
        Atomics.store(this.#i32, i32Index(PRODUCER_CLOSED_OFFSET), 1);
        this.#strategy.wake(this.#dataPoint);
      }
      if (this.#consumer.held && this.#broken === undefined) this.#release();
    } finally {
      this.#closed = true;
      this.#corks = 0;
      setCorked(this.#flushHeld, false);
      this.#producer.release();
      this.#consumer.release();
      this.#closing.abort();
      forgetRing(this.#segment, this);
      this.#owned?.close();
    }
  }
}
