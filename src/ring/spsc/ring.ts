// SpscRing: one producer and one consumer (processes or threads) exchanging
// variable-length messages through a ring of bytes in shared memory. This file owns the
// handle: create/open, roles, cork, close, and the public calls, which go straight to the
// producer side (producer.ts) or the consumer side (consumer.ts) of the handle.
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
// on flush(), close() and process exit (batching.ts).
import { checkOptions, shmError, typeError } from '../../errors.js';
import { Role } from '../../sync/role.js';
import type { BlockOptions } from '../../sync/waiting.js';
import type { WaitStrategy } from '../../sync/wait-strategy.js';
import { checkStrategy, messages, openingIn, RingHandle, type RingStats } from '../handle.js';
import { formatHeader, publishReady, readHeader } from '../header-io.js';
import { CONSUMER_OWNER_OFFSET, CONSUMER_WAITERS_OFFSET, HEADER_SIZE, i32Index, i64Index, KIND_SPSC, PRODUCER_OWNER_OFFSET, PRODUCER_WAITERS_OFFSET } from '../layout/header.js';
import { HEAD_INDEX, maxMessageSize, spscParams, spscRingSize, TAIL_INDEX } from '../layout/spsc.js';
import { Payload } from '../payload.js';
import { checkRegionOptions, locate, type Located, type RingTarget } from '../target.js';
import type { Claim } from './claim.js';
import { Consumer } from './consumer.js';
import { badCapacity, checkBatching, checkCapacity, checkRingFits, checkRole, fittingCapacity, type SpscCreateOptions, type SpscOpenOptions, type SpscRole } from './options.js';
import { Producer } from './producer.js';
import { SpscWaits } from './waits.js';

let producerOf: (ring: SpscRing) => Producer;

/**
 * tryWrite of a record carrying `tag` (0..255) in its type word: how a Channel marks its
 * frames (docs/PROTOCOL.md). Not a method, so that the public class does not show it;
 * `bytes` must be a Uint8Array and the tag is unchecked.
 */
export function tryWriteTagged(ring: SpscRing, bytes: Uint8Array, tag: number): boolean {
  return producerOf(ring).tryWriteTagged(bytes, tag);
}

/**
 * A lock-free ring of variable-length messages with one producer and one consumer at a time, in
 * any processes or threads; a write that returned is published (batching is asked for: cork(),
 * tryWriteMany, batching: 'task').
 */
export class SpscRing implements AsyncIterable<Uint8Array> {
  static {
    producerOf = (ring) => ring.#producer;
  }

  readonly capacity: number;
  readonly maxMessageSize: number;
  readonly address: string;
  readonly #h: RingHandle;
  readonly #i32: Int32Array;
  readonly #producerRole: Role;
  readonly #consumerRole: Role;
  readonly #producer: Producer;
  readonly #consumer: Consumer;
  readonly #waits: SpscWaits;
  #corks = 0;

  private constructor(located: Located, capacity: number, strategy: WaitStrategy, batching: number) {
    const { buffer, byteOffset } = located;
    this.address = located.address;
    this.capacity = capacity;
    this.maxMessageSize = maxMessageSize(capacity);
    this.#h = new RingHandle(located, strategy, this);
    // Every view starts at the ring's region: offsets from the layout files are relative to it.
    const i32 = (this.#i32 = new Int32Array(buffer, byteOffset, spscRingSize(capacity) / 4));
    const owners = new BigInt64Array(buffer, byteOffset, HEADER_SIZE / 8);
    this.#producerRole = new Role(owners, i64Index(PRODUCER_OWNER_OFFSET), 'producer');
    this.#consumerRole = new Role(owners, i64Index(CONSUMER_OWNER_OFFSET), 'consumer');
    const common = {
      handle: this.#h,
      i32,
      capacity,
      maxMessageSize: this.maxMessageSize,
      payload: new Payload(located, spscRingSize(capacity)),
      dataPoint: { i32, word: TAIL_INDEX, waiters: i32Index(CONSUMER_WAITERS_OFFSET) },
      spacePoint: { i32, word: HEAD_INDEX, waiters: i32Index(PRODUCER_WAITERS_OFFSET) },
      batching,
    };
    this.#producer = new Producer({ ...common, takeRole: () => this.#takeRole('producer'), peerDead: () => Role.holderDead(owners, i64Index(CONSUMER_OWNER_OFFSET)) });
    this.#consumer = new Consumer({ ...common, takeRole: () => this.#takeRole('consumer'), peerDead: () => Role.holderDead(owners, i64Index(PRODUCER_OWNER_OFFSET)) });
    this.#waits = new SpscWaits(this.#producer, this.#consumer, common);
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
    formatHeader(i32, { kind: KIND_SPSC, params: spscParams(capacity), totalSize: spscRingSize(capacity) });
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
    return openingIn(located, () => {
      const header = readHeader(located, KIND_SPSC, ([capacity]) => badCapacity(capacity) ?? capacity);
      const [capacity] = header.params;
      const ring = new SpscRing(located, capacity, strategy, batching);
      if (role !== undefined) ring.#takeRole(role);
      return ring;
    });
  }

  /** The role this handle holds, if any. */
  get role(): SpscRole | undefined {
    return this.#producerRole.held ? 'producer' : this.#consumerRole.held ? 'consumer' : undefined;
  }

  /** Takes `role` unless this handle holds it already; a new producer or consumer resumes at the published position. */
  #takeRole(role: SpscRole): void {
    const [mine, other] = role === 'producer' ? [this.#producerRole, this.#consumerRole] : [this.#consumerRole, this.#producerRole];
    if (mine.held) return;
    this.#h.checkOpen();
    if (other.held) throw shmError('ERR_ROLE_TAKEN', `this handle is the ${other.name}; open another handle to ${role === 'producer' ? 'produce' : 'consume'}`);
    mine.take();
    if (role === 'producer') this.#producer.resume();
    else this.#consumer.resume();
  }

  // ---- producer (see producer.ts) ------------------------------------------------------

  /** Writes one message if it fits now, published before it returns; false if the ring is full. Never blocks. */
  tryWrite(bytes: Uint8Array): boolean {
    return this.#producer.tryWrite(bytes);
  }

  /**
   * Writes as many of `messages` as fit now, in order, and publishes them with one store
   * per 4 KiB of records (an eighth of the ring if that is less) and one at the end, so
   * large messages reach the consumer while the rest are copied in. Returns how many were
   * written. Never blocks.
   */
  tryWriteMany(messages: readonly Uint8Array[]): number {
    return this.#producer.tryWriteMany(messages);
  }

  /** Writes one message, blocking the thread while the ring is full; published before it returns. ERR_TIMEOUT, ERR_PEER_DEAD. */
  write(bytes: Uint8Array, options?: BlockOptions): void {
    if (options === undefined && this.#producer.tryWriteFast(bytes)) return;
    this.#h.waitSync(this.#waits.write(bytes), options);
  }

  /** As write(), without blocking the event loop; published before the promise settles. */
  async writeAsync(bytes: Uint8Array, options?: BlockOptions): Promise<void> {
    if (options === undefined && this.#producer.tryWriteFast(bytes)) return;
    await this.#h.waitAsync(this.#waits.write(bytes), options);
  }

  /**
   * Zero-copy write: room for `length` bytes in the ring, or null if full. Fill
   * `claim.bytes`, then commit() (published before it returns) or abort(). One claim at a
   * time; the claim object is reused by the next tryClaim.
   */
  tryClaim(length: number): Claim | null {
    return this.#producer.tryClaim(length);
  }

  /** As tryClaim(), blocking the thread while the ring is full. ERR_TIMEOUT, ERR_PEER_DEAD. */
  claim(length: number, options?: BlockOptions): Claim {
    this.#producer.checkClaim(length);
    return this.#producer.claimNow(length) ?? this.#h.waitSync(this.#waits.claim(length), options);
  }

  /** As claim(), without blocking the event loop. */
  async claimAsync(length: number, options?: BlockOptions): Promise<Claim> {
    this.#producer.checkClaim(length);
    return this.#producer.claimNow(length) ?? (await this.#h.waitAsync(this.#waits.claim(length), options));
  }

  // ---- consumer (see consumer.ts) ------------------------------------------------------

  /**
   * Takes the next message as a copy the caller owns; null if the ring is empty. Never
   * blocks. Messages up to 2 KiB are views into a pooled 16 KiB ArrayBuffer shared with
   * neighbouring messages (as Node's Buffer.allocUnsafe does); larger ones own their buffer.
   */
  tryRead(): Uint8Array | null {
    return this.#consumer.tryRead();
  }

  /**
   * Copies the next message into `target` (from offset 0) and returns its length, or -1
   * if the ring is empty. Allocates nothing. A message longer than `target` stays in the
   * ring and gives a RangeError naming its length. Never blocks.
   */
  tryReadInto(target: Uint8Array): number {
    return this.#consumer.tryReadInto(target);
  }

  /**
   * Calls fn with a view of each waiting message (at most `max`), in order, and releases
   * their space with one store per 4 KiB of records (an eighth of the ring if that is
   * less) and one at the end. The view is valid only inside fn. Returns how many were
   * consumed; a message whose fn threw counts as consumed. Never blocks. `tag` is the
   * record's tag (0 for every message but a Channel's frames: docs/PROTOCOL.md).
   */
  drain(fn: (view: Uint8Array, tag: number) => void, max = Infinity): number {
    return this.#consumer.drain(fn, max);
  }

  /** Takes the next message, blocking the thread while the ring is empty. */
  read(options?: BlockOptions): Uint8Array {
    return (options === undefined ? this.#consumer.readFast() : null) ?? this.#h.waitSync(this.#waits.read(), options);
  }

  /** As read(), without blocking the event loop. */
  readAsync(options?: BlockOptions): Promise<Uint8Array> {
    try {
      return this.#h.waitAsync(this.#waits.read(), options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** As tryReadInto(), blocking the thread while the ring is empty; returns the length. */
  readInto(target: Uint8Array, options?: BlockOptions): number {
    if (!(target instanceof Uint8Array)) throw typeError('target', target, 'a Uint8Array or Buffer');
    const length = options === undefined ? this.#consumer.readIntoFast(target) : -1;
    if (length >= 0) return length;
    try {
      return this.#h.waitSync(this.#waits.readInto(target), options);
    } finally {
      this.#waits.done();
    }
  }

  /**
   * Blocks the thread until a message can be read (then drain() or tryRead() gets it),
   * without taking it. ERR_CLOSED when the producer closed the ring and all was read.
   */
  waitReadable(options?: BlockOptions): void {
    if (options === undefined && this.#consumer.readable()) return;
    this.#h.waitSync(this.#waits.readable(), options);
  }

  /** As waitReadable(), without blocking the event loop. */
  async waitReadableAsync(options?: BlockOptions): Promise<void> {
    await this.#h.waitAsync(this.#waits.readable(), options);
  }

  /** Messages until the producer closes the ring (or this handle is closed). */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return messages(() => this.readAsync(), (err) => err instanceof Error && (err as { code?: string }).code === 'ERR_CLOSED');
  }

  // ---- batching, observers and lifetime -----------------------------------------------

  /**
   * Holds back publication (a producer) or release (a consumer) until uncork(): what this
   * handle writes (reads) becomes visible once per 4 KiB of records (an eighth of the ring
   * if that is less), on uncork(), flush(), close(), before this thread blocks in the
   * library, when the ring looks full (empty), and at process exit. Calls nest, as a
   * writable stream's cork() does: the last matching uncork() publishes.
   */
  cork(): void {
    this.#h.checkOpen();
    if (this.#corks++ === 0) this.#setCorked(true);
  }

  /**
   * Ends one cork(); the last one publishes (releases) everything held, or throws
   * ERR_SHM_TRUNCATED if the segment was cut under what it held. Extra calls do nothing.
   */
  uncork(): void {
    if (this.#corks === 0) return;
    if (--this.#corks === 0) {
      this.#setCorked(false);
      this.#h.checkIntact();
    }
  }

  #setCorked(on: boolean): void {
    this.#producer.setCorked(on);
    this.#consumer.setCorked(on);
  }

  /** How many cork() calls await their uncork(). */
  get corked(): number {
    return this.#corks;
  }

  /** Counters of this handle; a snapshot. */
  get stats(): RingStats {
    const p = this.#producer;
    const c = this.#consumer;
    return { messages: p.messages + c.messages, bytes: p.bytes + c.bytes, fullWaits: p.fullWaits, emptyWaits: c.emptyWaits };
  }

  /** Bytes published and not yet released, as of now; stale for both sides at once. */
  get usedBytes(): number {
    return (Atomics.load(this.#i32, TAIL_INDEX) - Atomics.load(this.#i32, HEAD_INDEX)) >>> 0;
  }

  get closed(): boolean {
    return this.#h.closed;
  }

  /**
   * Makes what this handle wrote (producer) or read (consumer) visible to its peer now;
   * ERR_SHM_TRUNCATED if the segment was cut under what it held. Does nothing once closed.
   */
  flush(): void {
    if (this.#h.closed) return;
    if (this.#producerRole.held) this.#producer.flush();
    if (this.#consumerRole.held) this.#consumer.flush();
    this.#h.checkIntact();
  }

  /**
   * Publishes what this producer wrote, releases the role (a producer also marks the end
   * of the stream), settles pending async calls with ERR_CLOSED, and closes a segment the
   * ring opened itself. Idempotent.
   */
  close(): void {
    if (this.#h.closed) return;
    try {
      if (this.#producerRole.held && this.#h.sound()) this.#producer.closeSide();
      else this.#producer.forget();
      this.#consumer.closeSide();
    } finally {
      this.#corks = 0;
      this.#producerRole.release();
      this.#consumerRole.release();
      this.#h.end();
    }
  }
}
