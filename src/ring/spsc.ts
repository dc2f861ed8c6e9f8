// SpscRing: one producer and one consumer (processes or threads) exchanging
// variable-length messages through a ring of bytes in shared memory.
//
// Protocol: the producer writes the payload, then the record header (length, type), then
// publishes the new tail with Atomics.store; the consumer loads the tail first, reads the
// records before it, and releases their space by storing the new head.
//
// Batching: Atomics.store is a fully fenced store, so tryWrite and claims publish at most
// once per burst: at once when the consumer sleeps or BATCH_BYTES are pending,
// otherwise at the end of the current task (a microtask), and always before this thread
// blocks in the library, when the ring looks full, on flush(), close() and process exit.
// A handle that finds its ring empty (or full) first flushes the deferred work of its own
// thread, so a producer and a consumer in one thread see each other at once.
// Releases by tryRead follow the same rule with the roles swapped.
import { badHeaderError, closedError, ShmError, shmError, typeError } from '../errors.js';
import type { WaitPoint, WaitStrategy } from '../sync/wait-strategy.js';
import {
  blockAsync,
  blockSync,
  type Blocking,
  defer,
  flushDeferredIfAny,
  type BlockOptions,
  checkBytes,
  checkOptions,
  checkStrategy,
  formatHeader,
  isPowerOfTwo,
  locate,
  publishReady,
  readHeader,
  Role,
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

export interface SpscCreateOptions {
  /** Data bytes, a power of two from 64 to 2^30; default: the largest that fits a given segment. */
  capacity?: number;
  role?: SpscRole;
  strategy?: WaitStrategy;
  /** At an address that exists: replace the segment if it is stale (no process maps it, its participants all died). */
  replaceStale?: boolean;
}

export interface SpscOpenOptions {
  role?: SpscRole;
  strategy?: WaitStrategy;
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

function checkRole(value: unknown): SpscRole | undefined {
  if (value === undefined || value === 'producer' || value === 'consumer') return value;
  throw typeError('role', value, "'producer' or 'consumer'");
}

/** Largest power-of-two capacity whose ring fits in `bytes`. */
function fittingCapacity(bytes: number): number {
  const room = Math.min(bytes - DATA_OFFSET, MAX_CAPACITY);
  if (room < MIN_CAPACITY) throw new RangeError(`segment of ${bytes} bytes is too small for an SPSC ring (needs ${spscRingSize(MIN_CAPACITY)})`);
  return 2 ** Math.floor(Math.log2(room));
}

export class SpscRing implements AsyncIterable<Uint8Array> {
  readonly capacity: number;
  readonly maxMessageSize: number;
  readonly address: string;
  readonly #i32: Int32Array;
  readonly #u8: Uint8Array;
  readonly #owners: BigInt64Array;
  readonly #mask: number;
  readonly #strategy: WaitStrategy;
  readonly #owned;
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
  #closed = false;
  #broken: ShmError | undefined;
  // Producer state: the next write position, what is published, the head last seen.
  #tail = 0;
  #publishedTail = 0;
  #cachedHead = 0;
  readonly #claim = new SpscClaim((claim, commit) => this.#finishClaim(claim, commit));
  /** Registered in this thread's list of handles with deferred work (see base.ts defer). */
  #deferred = false;
  // Consumer state: the next read position, what is released, the tail last seen.
  #head = 0;
  #releasedHead = 0;
  #cachedTail = 0;
  /** Payload length of the record #next() returned, as read and checked there. */
  #length = 0;
  /** Bytes that may wait for a deferred publication or release. */
  readonly #batchBytes: number;
  readonly #stats: RingStats = { messages: 0, bytes: 0, fullWaits: 0, emptyWaits: 0 };

  private constructor(located: ReturnType<typeof locate>, capacity: number, strategy: WaitStrategy) {
    const { buffer } = located;
    this.address = located.address;
    this.#owned = located.owned;
    this.capacity = capacity;
    this.maxMessageSize = maxMessageSize(capacity);
    this.#mask = capacity - 1;
    this.#batchBytes = Math.min(capacity / 8, BATCH_BYTES);
    this.#i32 = new Int32Array(buffer, 0, spscRingSize(capacity) / 4);
    this.#u8 = new Uint8Array(buffer, 0, spscRingSize(capacity));
    this.#owners = new BigInt64Array(buffer, 0, HEADER_SIZE / 8);
    this.#strategy = strategy;
    this.#producer = new Role(buffer, PRODUCER_OWNER_OFFSET, 'producer');
    this.#consumer = new Role(buffer, CONSUMER_OWNER_OFFSET, 'consumer');
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
    let capacity: number;
    let located;
    if (typeof target === 'string') {
      if (o.capacity === undefined) throw typeError('capacity', undefined, 'a capacity when creating a ring at an address');
      capacity = checkCapacity(o.capacity);
      located = locate(target, { size: spscRingSize(capacity), replaceStale: o.replaceStale === true });
    } else {
      located = locate(target, undefined);
      capacity = o.capacity === undefined ? fittingCapacity(located.buffer.byteLength) : checkCapacity(o.capacity);
      if (spscRingSize(capacity) > located.buffer.byteLength) {
        throw new RangeError(`capacity=${capacity}: the ring needs ${spscRingSize(capacity)} bytes, the segment holds ${located.buffer.byteLength}`);
      }
    }
    const i32 = new Int32Array(located.buffer, 0, HEADER_SIZE / 4);
    formatHeader(i32, { kind: KIND_SPSC, paramA: capacity, paramB: 0, paramC: 0, totalSize: spscRingSize(capacity) });
    publishReady(i32);
    const ring = new SpscRing(located, capacity, strategy);
    if (role !== undefined) ring.#takeRole(role);
    return ring;
  }

  /** Attaches to an existing ring; validates its header and never reinitialises it. */
  static open(target: RingTarget, options?: SpscOpenOptions): SpscRing {
    const o = checkOptions(options);
    const role = checkRole(o.role);
    const strategy = checkStrategy(o.strategy);
    const located = locate(target, undefined);
    try {
      const header = readHeader(located.buffer, KIND_SPSC, located.address, (capacity) =>
        isPowerOfTwo(capacity) && capacity >= MIN_CAPACITY && capacity <= MAX_CAPACITY ? capacity : `capacity ${capacity} is not a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY}`,
      );
      const ring = new SpscRing(located, header.paramA, strategy);
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
      this.#cachedHead = Atomics.load(this.#i32, this.#headIndex) >>> 0;
      Atomics.store(this.#i32, i32Index(PRODUCER_CLOSED_OFFSET), 0);
      this.#checkPositions(tail, this.#cachedHead);
    } else {
      if (this.#producer.held) throw shmError('ERR_ROLE_TAKEN', 'this handle is the producer; open another handle to consume');
      this.#consumer.take();
      // The consumer resumes at the released head: records taken but not released by a
      // dead consumer are delivered again.
      const head = Atomics.load(this.#i32, this.#headIndex) >>> 0;
      this.#head = this.#releasedHead = head;
      this.#cachedTail = Atomics.load(this.#i32, this.#tailIndex) >>> 0;
      this.#checkPositions(this.#cachedTail, head);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(`ring ${this.address}`);
    if (this.#broken !== undefined) throw this.#broken;
  }

  #asProducer(): void {
    this.#checkOpen();
    if (!this.#producer.held) this.#takeRole('producer');
  }

  #asConsumer(): void {
    this.#checkOpen();
    if (!this.#consumer.held) this.#takeRole('consumer');
  }

  /** Marks the ring unusable: a shared value broke an invariant (corruption or a hostile writer). */
  #corrupt(reason: string): never {
    this.#broken = badHeaderError(`corrupt ring: ${reason}`, this.address);
    throw this.#broken;
  }

  #checkPositions(tail: number, head: number): void {
    if ((tail | head) & 7) this.#corrupt(`misaligned position (tail ${tail}, head ${head})`);
    if (((tail - head) >>> 0) > this.capacity) this.#corrupt(`tail ${tail} and head ${head} are more than the capacity apart`);
  }

  // ---- producer ----------------------------------------------------------------------

  /**
   * Reserves room for a record of `size` bytes and returns its offset in the buffer, or -1
   * if the ring is full. Writes a padding record first if the record would cross the end.
   */
  #reserve(size: number): number {
    let tail = this.#tail;
    let index = tail & this.#mask;
    const toEnd = this.capacity - index;
    const needed = size <= toEnd ? size : toEnd + size;
    if (this.capacity - ((tail - this.#cachedHead) >>> 0) < needed) {
      let head = Atomics.load(this.#i32, this.#headIndex) >>> 0;
      if (this.capacity - ((tail - head) >>> 0) < needed && flushDeferredIfAny()) head = Atomics.load(this.#i32, this.#headIndex) >>> 0;
      this.#checkPositions(tail, head);
      this.#cachedHead = head;
      const free = this.capacity - ((tail - head) >>> 0);
      if (free < needed) {
        // Room for the padding alone: write it now, so the record can start at 0 later.
        if (size > toEnd && free >= toEnd) this.#pad(index, toEnd);
        return -1;
      }
    }
    if (size > toEnd) {
      this.#pad(index, toEnd);
      tail = this.#tail;
      index = 0;
    }
    return DATA_OFFSET + index;
  }

  #pad(index: number, toEnd: number): void {
    const at = (DATA_OFFSET + index) >> 2;
    this.#i32[at + (RECORD_LENGTH_OFFSET >> 2)] = toEnd - RECORD_HEADER_SIZE;
    this.#i32[at + (RECORD_TYPE_OFFSET >> 2)] = TYPE_PADDING;
    this.#tail = (this.#tail + toEnd) >>> 0;
  }

  #writeHeader(at: number, length: number): void {
    this.#i32[(at + RECORD_LENGTH_OFFSET) >> 2] = length;
    this.#i32[(at + RECORD_TYPE_OFFSET) >> 2] = TYPE_MESSAGE;
  }

  /**
   * After a record is written: publish now if the consumer sleeps or a batch is pending,
   * otherwise by the end of this task.
   */
  #published(): void {
    if (Atomics.load(this.#i32, this.#dataPoint.waiters) !== 0 || ((this.#tail - this.#publishedTail) >>> 0) >= this.#batchBytes) {
      this.#publish();
    } else {
      this.#defer();
    }
  }

  /** Makes sure deferred work is flushed by the end of the task. */
  #defer(): void {
    if (!this.#deferred) {
      this.#deferred = true;
      defer(this);
    }
  }

  /** Called by base.ts when it flushes this thread's deferred work. */
  flushDeferredWork(): void {
    this.#deferred = false;
    this.flush();
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

  #writeOne(bytes: Uint8Array): boolean {
    if (this.#claim.live) throw shmError('ERR_CLAIM_PENDING', 'commit() or abort() the pending claim first');
    const length = bytes.length;
    this.#checkLength(length);
    const at = this.#reserve(recordSize(length));
    if (at < 0) return false;
    this.#u8.set(bytes, at + RECORD_HEADER_SIZE);
    this.#writeHeader(at, length);
    this.#tail = (this.#tail + recordSize(length)) >>> 0;
    this.#stats.messages++;
    this.#stats.bytes += length;
    return true;
  }

  /** Writes one message if it fits now; false if the ring is full. Never blocks. */
  tryWrite(bytes: Uint8Array): boolean {
    checkBytes(bytes);
    this.#asProducer();
    if (this.#writeOne(bytes)) {
      this.#published();
      return true;
    }
    this.#publish(); // looks full: let the consumer see everything so it can make room
    this.#stats.fullWaits++;
    return false;
  }

  /**
   * Writes as many of `messages` as fit now, in order, and publishes them with one store.
   * Returns how many were written. Never blocks.
   */
  tryWriteMany(messages: readonly Uint8Array[]): number {
    if (!Array.isArray(messages)) throw typeError('messages', messages, 'an array of Uint8Array');
    for (const m of messages) checkBytes(m);
    this.#asProducer();
    let n = 0;
    try {
      while (n < messages.length && this.#writeOne(messages[n]!)) n++;
    } finally {
      this.#publish();
    }
    if (n < messages.length) this.#stats.fullWaits++;
    return n;
  }

  #writeBlocking(bytes: Uint8Array) {
    checkBytes(bytes);
    this.#asProducer();
    this.#checkLength(bytes.length);
    return {
      what: 'ring write',
      attempt: () => {
        const ok = this.#writeOne(bytes);
        this.#publish();
        return ok ? true : null;
      },
      point: this.#spacePoint,
      spin: true,
      check: () => {
        this.#checkOpen();
        if (Role.peerDead(this.#owners, CONSUMER_OWNER_OFFSET)) throw shmError('ERR_PEER_DEAD', 'the consumer died while the ring was full');
      },
      onWait: () => this.#stats.fullWaits++,
    };
  }

  /** Writes one message, blocking the thread while the ring is full. ERR_TIMEOUT, ERR_PEER_DEAD. */
  write(bytes: Uint8Array, options?: BlockOptions): void {
    blockSync(this.#strategy, this.#writeBlocking(bytes), options);
  }

  /** As write(), without blocking the event loop. */
  async writeAsync(bytes: Uint8Array, options?: BlockOptions): Promise<void> {
    await blockAsync(this.#strategy, this.#writeBlocking(bytes), options, this.#closing.signal);
  }

  /**
   * Zero-copy write: room for `length` bytes in the ring, or null if full. Fill
   * `claim.bytes`, then commit() (published like tryWrite) or abort(). One claim at a time;
   * the claim object is reused by the next tryClaim.
   */
  tryClaim(length: number): Claim | null {
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
      throw new RangeError(`length=${String(length)}: must be an integer >= 0`);
    }
    this.#asProducer();
    if (this.#claim.live) throw shmError('ERR_CLAIM_PENDING', 'commit() or abort() the pending claim first');
    this.#checkLength(length);
    const at = this.#reserve(recordSize(length));
    if (at < 0) {
      this.#publish(); // looks full (and a padding record may have been written)
      this.#stats.fullWaits++;
      return null;
    }
    const claim = this.#claim;
    claim.bytes = new Uint8Array(this.#u8.buffer, at + RECORD_HEADER_SIZE, length);
    claim.at = at;
    claim.length = length;
    claim.generation++;
    claim.live = true;
    return claim;
  }

  #finishClaim(claim: SpscClaim, commit: boolean): void {
    if (!claim.live) throw shmError('ERR_CLAIM_DONE', 'this claim was already committed or aborted');
    claim.live = false;
    this.#checkOpen();
    if (commit) {
      this.#writeHeader(claim.at, claim.length);
      this.#tail = (this.#tail + recordSize(claim.length)) >>> 0;
      this.#stats.messages++;
      this.#stats.bytes += claim.length;
    }
    this.#published(); // a padding record may have been written even for an abort
  }

  // ---- consumer ----------------------------------------------------------------------

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

  /** After a record is read: release now if the producer sleeps or a batch is held, otherwise by the end of this task. */
  #released(): void {
    if (Atomics.load(this.#i32, this.#spacePoint.waiters) !== 0 || ((this.#head - this.#releasedHead) >>> 0) >= this.#batchBytes) {
      this.#release();
    } else {
      this.#defer();
    }
  }

  /** Gives the space of consumed records back to the producer, and wakes it if it sleeps. */
  #release(): void {
    if (this.#head === this.#releasedHead) return;
    this.#releasedHead = this.#head;
    // Release store: the producer may overwrite these bytes once it loads this head.
    Atomics.store(this.#i32, this.#headIndex, this.#head | 0);
    this.#strategy.wake(this.#spacePoint, 1);
  }

  #readOne(): Uint8Array | null {
    const at = this.#next();
    if (at < 0) return null;
    const length = this.#length;
    const start = at + RECORD_HEADER_SIZE;
    const copy = new Uint8Array(length);
    copy.set(new Uint8Array(this.#u8.buffer, start, length));
    this.#head = (this.#head + recordSize(length)) >>> 0;
    this.#stats.messages++;
    this.#stats.bytes += length;
    return copy;
  }

  /** Takes the next message as a copy the caller owns; null if the ring is empty. Never blocks. */
  tryRead(): Uint8Array | null {
    this.#asConsumer();
    const message = this.#readOne();
    if (message !== null) {
      this.#released();
      return message;
    }
    this.#release(); // looks empty: give back everything read so far
    this.#stats.emptyWaits++;
    return null;
  }

  /**
   * Calls fn with a view of each waiting message (at most `max`), in order, then releases
   * their space with one store. The view is valid only inside fn. Returns how many were
   * consumed; a message whose fn threw counts as consumed. Never blocks.
   */
  drain(fn: (view: Uint8Array) => void, max = Infinity): number {
    if (typeof fn !== 'function') throw typeError('fn', fn, 'a function');
    if (typeof max !== 'number' || Number.isNaN(max) || max < 0) throw new RangeError(`max=${String(max)}: must be a number >= 0`);
    this.#asConsumer();
    let n = 0;
    try {
      while (n < max) {
        const at = this.#next();
        if (at < 0) break;
        const length = this.#length;
        const start = at + RECORD_HEADER_SIZE;
        this.#head = (this.#head + recordSize(length)) >>> 0;
        n++;
        this.#stats.messages++;
        this.#stats.bytes += length;
        fn(new Uint8Array(this.#u8.buffer, start, length));
      }
    } finally {
      this.#release();
    }
    if (n === 0) this.#stats.emptyWaits++;
    return n;
  }

  #readBlocking() {
    this.#asConsumer();
    // Built once per handle: a blocking read allocates nothing but the message it returns.
    return (this.#readBlock ??= {
      what: 'ring read',
      attempt: () => {
        const message = this.#readOne();
        this.#release();
        // The producer publishes before it sets the closed flag: with the flag seen and
        // still nothing to read, the stream has ended.
        if (message === null && Atomics.load(this.#i32, i32Index(PRODUCER_CLOSED_OFFSET)) === 1 && this.#next() < 0) {
          throw shmError('ERR_CLOSED', 'the producer closed the ring and every message was read');
        }
        return message;
      },
      point: this.#dataPoint,
      spin: true,
      check: () => {
        this.#checkOpen();
        if (Role.peerDead(this.#owners, PRODUCER_OWNER_OFFSET) && this.#next() < 0) {
          throw shmError('ERR_PEER_DEAD', 'the producer died and every message it published was read');
        }
      },
      onWait: () => this.#stats.emptyWaits++,
    });
  }

  /** Takes the next message, blocking the thread while the ring is empty. */
  read(options?: BlockOptions): Uint8Array {
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
    return { ...this.#stats };
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
      this.#producer.release();
      this.#consumer.release();
      this.#closing.abort();
      this.#owned?.close();
    }
  }
}
