// MpmcRing: any number of producer and consumer processes exchanging messages of up to
// slotSize - 8 bytes through fixed-size slots (Vyukov's bounded MPMC queue).
//
// Protocol: a producer claims a position with one CAS on the enqueue position, writes
// length and payload, then publishes with Atomics.store(sequence = position + 1); a
// consumer claims with one CAS on the dequeue position once the sequence says published,
// copies the payload, then frees the slot with Atomics.store(sequence = position + slots).
import { badHeaderError, closedError, type ShmError, shmError, typeError } from '../errors.js';
import type { WaitPoint, WaitStrategy } from '../sync/wait-strategy.js';
import { blockAsync, blockSync, type BlockOptions, checkBytes, checkOptions, checkStrategy, formatHeader, isPowerOfTwo, locate, publishReady, readHeader, type RingTarget } from './base.js';
import { CONSUMER_EVENT_OFFSET, CONSUMER_WAITERS_OFFSET, i32Index, KIND_MPMC, PRODUCER_EVENT_OFFSET, PRODUCER_WAITERS_OFFSET } from './header.js';
import {
  DEQUEUE_OFFSET,
  ENQUEUE_OFFSET,
  MAX_SLOT_SIZE,
  MAX_SLOTS,
  MIN_SLOT_SIZE,
  MIN_SLOTS,
  mpmcRingSize,
  SLOT_ALIGN,
  SLOT_HEADER_SIZE,
  SLOT_LENGTH_OFFSET,
  SLOT_SEQUENCE_OFFSET,
  slotOffset,
} from './mpmc-layout.js';
import type { RingStats } from './spsc.js';

export interface MpmcCreateOptions {
  /** Number of slots, a power of two from 2 to 2^24. */
  slots: number;
  /** Bytes per slot including its 8-byte header, a multiple of 8 from 16 to 2^30. */
  slotSize: number;
  strategy?: WaitStrategy;
}

export interface MpmcOpenOptions {
  strategy?: WaitStrategy;
}

function checkDimensions(slots: unknown, slotSize: unknown): void {
  if (typeof slots !== 'number') throw typeError('slots', slots, 'a number');
  if (!Number.isInteger(slots) || !isPowerOfTwo(slots) || slots < MIN_SLOTS || slots > MAX_SLOTS) {
    throw new RangeError(`slots=${slots}: must be a power of two from ${MIN_SLOTS} to ${MAX_SLOTS}`);
  }
  if (typeof slotSize !== 'number') throw typeError('slotSize', slotSize, 'a number');
  if (!Number.isInteger(slotSize) || slotSize % SLOT_ALIGN !== 0 || slotSize < MIN_SLOT_SIZE || slotSize > MAX_SLOT_SIZE) {
    throw new RangeError(`slotSize=${slotSize}: must be a multiple of ${SLOT_ALIGN} from ${MIN_SLOT_SIZE} to ${MAX_SLOT_SIZE}`);
  }
  if (slots * slotSize > 2 ** 40) throw new RangeError(`slots=${slots} × slotSize=${slotSize}: larger than a segment can be`);
}

export class MpmcRing implements AsyncIterable<Uint8Array> {
  readonly slots: number;
  readonly slotSize: number;
  readonly maxMessageSize: number;
  readonly address: string;
  readonly #i32: Int32Array;
  readonly #u8: Uint8Array;
  readonly #mask: number;
  readonly #strategy: WaitStrategy;
  readonly #owned;
  readonly #closing = new AbortController();
  readonly #enqueueIndex = i32Index(ENQUEUE_OFFSET);
  readonly #dequeueIndex = i32Index(DEQUEUE_OFFSET);
  /** Consumers sleep on the consumer event word, bumped by producers that see them. */
  readonly #dataPoint: WaitPoint;
  /** Producers sleep on the producer event word, bumped by consumers that see them. */
  readonly #spacePoint: WaitPoint;
  #closed = false;
  #broken: ShmError | undefined;
  readonly #stats: RingStats = { messages: 0, bytes: 0, fullWaits: 0, emptyWaits: 0 };

  private constructor(located: ReturnType<typeof locate>, slots: number, slotSize: number, strategy: WaitStrategy) {
    this.address = located.address;
    this.#owned = located.owned;
    this.slots = slots;
    this.slotSize = slotSize;
    this.maxMessageSize = slotSize - SLOT_HEADER_SIZE;
    this.#mask = slots - 1;
    this.#i32 = new Int32Array(located.buffer, 0, mpmcRingSize(slots, slotSize) / 4);
    this.#u8 = new Uint8Array(located.buffer, 0, mpmcRingSize(slots, slotSize));
    this.#strategy = strategy;
    this.#dataPoint = { i32: this.#i32, word: i32Index(CONSUMER_EVENT_OFFSET), waiters: i32Index(CONSUMER_WAITERS_OFFSET) };
    this.#spacePoint = { i32: this.#i32, word: i32Index(PRODUCER_EVENT_OFFSET), waiters: i32Index(PRODUCER_WAITERS_OFFSET) };
  }

  /** After a publication or a release: if anyone sleeps on the other side, move their word and wake them. */
  #signal(point: WaitPoint): void {
    if (Atomics.load(point.i32, point.waiters) === 0) return;
    Atomics.add(point.i32, point.word, 1);
    this.#strategy.wake(point);
  }

  /** Formats a new ring (an address creates its segment). Overwrites whatever the bytes held. */
  static create(target: RingTarget, options: MpmcCreateOptions): MpmcRing {
    const o = checkOptions(options);
    checkDimensions(o.slots, o.slotSize);
    const slots = o.slots!;
    const slotSize = o.slotSize!;
    const strategy = checkStrategy(o.strategy);
    const size = mpmcRingSize(slots, slotSize);
    const located = locate(target, typeof target === 'string' ? { size } : undefined);
    if (size > located.buffer.byteLength) {
      located.owned?.close();
      throw new RangeError(`slots=${slots} × slotSize=${slotSize}: the ring needs ${size} bytes, the segment holds ${located.buffer.byteLength}`);
    }
    const i32 = new Int32Array(located.buffer, 0, size / 4);
    formatHeader(i32, { kind: KIND_MPMC, paramA: slots, paramB: slotSize, totalSize: size });
    for (let i = 0; i < slots; i++) Atomics.store(i32, (slotOffset(i, slotSize) + SLOT_SEQUENCE_OFFSET) >> 2, i);
    publishReady(i32);
    return new MpmcRing(located, slots, slotSize, strategy);
  }

  /** Attaches to an existing ring; validates its header and never reinitialises it. */
  static open(target: RingTarget, options?: MpmcOpenOptions): MpmcRing {
    const o = checkOptions(options);
    const strategy = checkStrategy(o.strategy);
    const located = locate(target, undefined);
    try {
      const header = readHeader(located.buffer, KIND_MPMC, located.address, (slots, slotSize) => {
        try {
          checkDimensions(slots, slotSize);
        } catch (err) {
          return (err as Error).message;
        }
        return slots * slotSize;
      });
      return new MpmcRing(located, header.paramA, header.paramB, strategy);
    } catch (err) {
      located.owned?.close();
      throw err;
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(`ring ${this.address}`);
    if (this.#broken !== undefined) throw this.#broken;
  }

  #corrupt(reason: string): never {
    this.#broken = badHeaderError(`corrupt ring: ${reason}`, this.address);
    throw this.#broken;
  }

  #sequenceIndex(position: number): number {
    return (slotOffset(position & this.#mask, this.slotSize) + SLOT_SEQUENCE_OFFSET) >> 2;
  }

  /** Claims the next free slot; its position, or -1 if the ring is full. */
  #claimEnqueue(): number {
    const i32 = this.#i32;
    let position = Atomics.load(i32, this.#enqueueIndex) >>> 0;
    for (;;) {
      const sequence = Atomics.load(i32, this.#sequenceIndex(position));
      const lag = (sequence - position) | 0;
      if (lag === 0) {
        const seen = Atomics.compareExchange(i32, this.#enqueueIndex, position | 0, (position + 1) | 0) >>> 0;
        if (seen === position) return position;
        position = seen;
      } else if (lag < 0) {
        // Full: the slot still serves the previous lap, whose producer has not published
        // (sequence = position - slots) or whose consumer has not freed it (+1).
        if (lag !== -this.slots && lag !== 1 - this.slots) this.#corrupt(`slot sequence ${sequence} at enqueue position ${position}`);
        return -1;
      } else {
        const next = Atomics.load(i32, this.#enqueueIndex) >>> 0;
        // A slot ahead of the position we read means others moved on; if nobody did, the
        // sequence is impossible.
        if (next === position) this.#corrupt(`slot sequence ${sequence} ahead of enqueue position ${position}`);
        position = next;
      }
    }
  }

  /** Claims the next published slot; its position, or -1 if the ring is empty. */
  #claimDequeue(): number {
    const i32 = this.#i32;
    let position = Atomics.load(i32, this.#dequeueIndex) >>> 0;
    for (;;) {
      const sequence = Atomics.load(i32, this.#sequenceIndex(position));
      const lag = (sequence - ((position + 1) | 0)) | 0;
      if (lag === 0) {
        const seen = Atomics.compareExchange(i32, this.#dequeueIndex, position | 0, (position + 1) | 0) >>> 0;
        if (seen === position) return position;
        position = seen;
      } else if (lag < 0) {
        // Empty: not yet published (sequence = position), or the previous lap's consumer has
        // not freed the slot yet (sequence = position - slots + 1).
        if (lag !== -1 && lag !== -this.slots) this.#corrupt(`slot sequence ${sequence} at dequeue position ${position}`);
        return -1;
      } else {
        const next = Atomics.load(i32, this.#dequeueIndex) >>> 0;
        if (next === position) this.#corrupt(`slot sequence ${sequence} ahead of dequeue position ${position}`);
        position = next;
      }
    }
  }

  #writeOne(bytes: Uint8Array): boolean {
    const position = this.#claimEnqueue();
    if (position < 0) return false;
    const at = slotOffset(position & this.#mask, this.slotSize);
    this.#i32[(at + SLOT_LENGTH_OFFSET) >> 2] = bytes.length;
    this.#u8.set(bytes, at + SLOT_HEADER_SIZE);
    // Release store: the consumer that sees this sequence sees the length and payload.
    Atomics.store(this.#i32, (at + SLOT_SEQUENCE_OFFSET) >> 2, (position + 1) | 0);
    this.#signal(this.#dataPoint);
    this.#stats.messages++;
    this.#stats.bytes += bytes.length;
    return true;
  }

  #readOne(): Uint8Array | null {
    const position = this.#claimDequeue();
    if (position < 0) return null;
    const at = slotOffset(position & this.#mask, this.slotSize);
    const length = this.#i32[(at + SLOT_LENGTH_OFFSET) >> 2]!;
    const valid = length >= 0 && length <= this.maxMessageSize;
    const copy = valid ? this.#u8.slice(at + SLOT_HEADER_SIZE, at + SLOT_HEADER_SIZE + length) : null;
    // Free the slot for the producer of the next lap even if it held garbage, so the ring
    // does not wedge; then report the corruption.
    Atomics.store(this.#i32, (at + SLOT_SEQUENCE_OFFSET) >> 2, (position + this.slots) | 0);
    this.#signal(this.#spacePoint);
    if (copy === null) this.#corrupt(`slot length ${length} at position ${position}`);
    this.#stats.messages++;
    this.#stats.bytes += length;
    return copy;
  }

  #checkLength(length: number): void {
    if (length > this.maxMessageSize) {
      throw shmError('ERR_MESSAGE_TOO_LARGE', `a message of ${length} bytes does not fit a slot (at most ${this.maxMessageSize})`);
    }
  }

  /** Writes one message if a slot is free now; false if the ring is full. Never blocks. */
  tryWrite(bytes: Uint8Array): boolean {
    checkBytes(bytes);
    this.#checkOpen();
    this.#checkLength(bytes.length);
    const ok = this.#writeOne(bytes);
    if (!ok) this.#stats.fullWaits++;
    return ok;
  }

  /** Writes as many of `messages` as fit now, in order; returns how many. Never blocks. */
  tryWriteMany(messages: readonly Uint8Array[]): number {
    if (!Array.isArray(messages)) throw typeError('messages', messages, 'an array of Uint8Array');
    for (const m of messages) this.#checkLength(checkBytes(m).length);
    this.#checkOpen();
    let n = 0;
    while (n < messages.length && this.#writeOne(messages[n]!)) n++;
    if (n < messages.length) this.#stats.fullWaits++;
    return n;
  }

  /** Takes the next message as a copy the caller owns; null if the ring is empty. Never blocks. */
  tryRead(): Uint8Array | null {
    this.#checkOpen();
    const message = this.#readOne();
    if (message === null) this.#stats.emptyWaits++;
    return message;
  }

  /**
   * Calls fn with each waiting message (at most `max`). The slot is freed before fn runs,
   * so fn gets a copy. Returns how many were consumed. Never blocks.
   */
  drain(fn: (view: Uint8Array) => void, max = Infinity): number {
    if (typeof fn !== 'function') throw typeError('fn', fn, 'a function');
    if (typeof max !== 'number' || Number.isNaN(max) || max < 0) throw new RangeError(`max=${String(max)}: must be a number >= 0`);
    this.#checkOpen();
    let n = 0;
    while (n < max) {
      const message = this.#readOne();
      if (message === null) break;
      n++;
      fn(message);
    }
    if (n === 0) this.#stats.emptyWaits++;
    return n;
  }

  #writeBlocking(bytes: Uint8Array) {
    checkBytes(bytes);
    this.#checkOpen();
    this.#checkLength(bytes.length);
    return {
      what: 'ring write',
      attempt: () => (this.#writeOne(bytes) ? true : null),
      point: this.#spacePoint,
      spin: false,
      check: () => this.#checkOpen(),
      onWait: () => this.#stats.fullWaits++,
    };
  }

  #readBlocking() {
    this.#checkOpen();
    return {
      what: 'ring read',
      attempt: () => this.#readOne(),
      point: this.#dataPoint,
      spin: false,
      check: () => this.#checkOpen(),
      onWait: () => this.#stats.emptyWaits++,
    };
  }

  write(bytes: Uint8Array, options?: BlockOptions): void {
    blockSync(this.#strategy, this.#writeBlocking(bytes), options);
  }

  async writeAsync(bytes: Uint8Array, options?: BlockOptions): Promise<void> {
    await blockAsync(this.#strategy, this.#writeBlocking(bytes), options, this.#closing.signal);
  }

  read(options?: BlockOptions): Uint8Array {
    return blockSync(this.#strategy, this.#readBlocking(), options);
  }

  readAsync(options?: BlockOptions): Promise<Uint8Array> {
    try {
      return blockAsync(this.#strategy, this.#readBlocking(), options, this.#closing.signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Messages until this handle is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      try {
        yield await this.readAsync();
      } catch (err) {
        if (this.#closed) return;
        throw err;
      }
    }
  }

  get stats(): RingStats {
    return { ...this.#stats };
  }

  /** Messages claimed for writing and not yet claimed for reading, as of now; stale at once. */
  get size(): number {
    const n = (Atomics.load(this.#i32, this.#enqueueIndex) - Atomics.load(this.#i32, this.#dequeueIndex)) | 0;
    return Math.max(0, Math.min(n, this.slots));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Settles pending async calls with ERR_CLOSED and closes a segment the ring opened itself. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    this.#owned?.close();
  }
}
