// MpmcRing: any number of producer and consumer processes exchanging messages of up to
// slotSize - 8 bytes through fixed-size slots (Vyukov's bounded MPMC queue). This file owns
// the handle: create/open, the public calls, waiting and close; the slots and their
// protocol are slots.ts's, the participant registry and repairs registry.ts's.
//
// Every message is published by its own store of the slot's sequence: a write that
// returned is published, and there is nothing to batch.
//
// Repair: a slot claimed by a process that died before publishing (or freeing) it would
// wedge the ring. A participant that finds the slot at its position stuck for longer than
// the repair delay looks in the registry: if a dead owner's entry names that position and
// no live one does, it turns the slot into a tombstone (a producer died: the slot is
// skipped) or frees it (a consumer died: its message is gone) with a CAS on the sequence,
// and counts one lost message. A slow but live participant is never repaired over.
import { checkBytes, checkInteger, checkOptions, rangeError, typeError } from '../../errors.js';
import type { BlockOptions, WaitJob } from '../../sync/waiting.js';
import type { WaitStrategy } from '../../sync/wait-strategy.js';
import { flushDeferred } from '../batching.js';
import { checkDrain, checkStrategy, isPowerOfTwo, messages, openingIn, RingHandle, type RingStats } from '../handle.js';
import { formatHeader, publishReady, readHeader } from '../header-io.js';
import { CONSUMER_EVENT_OFFSET, CONSUMER_WAITERS_OFFSET, i32Index, KIND_MPMC, PRODUCER_EVENT_OFFSET, PRODUCER_WAITERS_OFFSET } from '../layout/header.js';
import {
  DEFAULT_PARTICIPANTS,
  DEQUEUE_INDEX,
  ENQUEUE_INDEX,
  MAX_PARTICIPANTS,
  MAX_SLOT_SIZE,
  MAX_SLOTS,
  MIN_SLOT_SIZE,
  MIN_SLOTS,
  mpmcParams,
  mpmcRingSize,
  registryIndexRange,
  ROLE_CONSUMER,
  ROLE_PRODUCER,
  SLOT_ALIGN,
  SLOT_HEADER_SIZE,
  slotOffset,
  slotSequenceIndex,
  slotsOffset,
} from '../layout/mpmc.js';
import { Payload } from '../payload.js';
import { checkRegionOptions, locate, type Located, type RegionOptions, type RingTarget } from '../target.js';
import { DEFAULT_REPAIR_DELAY_MS, Registry } from './registry.js';
import { Slots } from './slots.js';

export { DEFAULT_REPAIR_DELAY_MS };

/** Options of MpmcRing.open. */
export interface MpmcOpenOptions extends RegionOptions {
  strategy?: WaitStrategy;
  /** How long a slot may stay stuck before this handle repairs it (if its claimer is dead). */
  repairDelayMs?: number;
}

/** Options of MpmcRing.create. */
export interface MpmcCreateOptions extends MpmcOpenOptions {
  /** Number of slots, a power of two from 2 to 2^24. */
  slots: number;
  /** Bytes per slot including its 8-byte header, a multiple of 8 from 16 to 2^30. */
  slotSize: number;
  /** Handles that may use the ring at once (registry entries), 1 to 1024; default 16. */
  participants?: number;
  /** At an address that exists: replace the segment if it is stale (no process maps it, its participants all died). */
  replaceStale?: boolean;
}

/** Counters of an MpmcRing handle. */
export interface MpmcStats extends RingStats {
  /** Messages lost on this ring (all handles) because a participant died holding a slot. */
  lost: number;
}

function checkDimensions(slots: unknown, slotSize: unknown, participants: unknown): void {
  if (typeof slots !== 'number') throw typeError('slots', slots, 'a number');
  if (!Number.isInteger(slots) || !isPowerOfTwo(slots) || slots < MIN_SLOTS || slots > MAX_SLOTS) throw rangeError('slots', slots, `a power of two from ${MIN_SLOTS} to ${MAX_SLOTS}`);
  if (typeof slotSize !== 'number') throw typeError('slotSize', slotSize, 'a number');
  if (!Number.isInteger(slotSize) || slotSize % SLOT_ALIGN !== 0 || slotSize < MIN_SLOT_SIZE || slotSize > MAX_SLOT_SIZE) {
    throw rangeError('slotSize', slotSize, `a multiple of ${SLOT_ALIGN} from ${MIN_SLOT_SIZE} to ${MAX_SLOT_SIZE}`);
  }
  checkInteger('participants', participants, 1, MAX_PARTICIPANTS);
  if (slots * slotSize > 2 ** 40) throw rangeError('slotSize', slotSize, `at most ${2 ** 40} / slots=${slots} (larger than a segment can be)`);
}

function checkRepairDelay(value: unknown): number {
  if (value === undefined) return DEFAULT_REPAIR_DELAY_MS;
  if (typeof value !== 'number') throw typeError('repairDelayMs', value, 'a number of milliseconds');
  if (!(value >= 0 && value <= 3_600_000)) throw rangeError('repairDelayMs', value, 'from 0 to 3600000');
  return value;
}

function tooLarge(slots: number, slotSize: number, size: number, holds: number): RangeError {
  return rangeError('slots', slots, `one whose ring fits: slots=${slots} × slotSize=${slotSize} needs ${size} bytes, its region holds ${holds}`);
}

/**
 * A lock-free ring of fixed-size slots for any number of producers and consumers (Vyukov's bounded
 * queue), with repair of the slots of a participant that died.
 */
export class MpmcRing implements AsyncIterable<Uint8Array> {
  readonly slots: number;
  readonly slotSize: number;
  readonly participants: number;
  readonly maxMessageSize: number;
  readonly address: string;
  readonly #h: RingHandle;
  readonly #i32: Int32Array;
  readonly #registry: Registry;
  readonly #slots: Slots;
  #fullWaits = 0;
  #emptyWaits = 0;
  #readJob: WaitJob<Uint8Array> | undefined;

  private constructor(located: Located, slots: number, slotSize: number, participants: number, strategy: WaitStrategy, repairDelayMs: number) {
    this.address = located.address;
    this.slots = slots;
    this.slotSize = slotSize;
    this.participants = participants;
    this.maxMessageSize = slotSize - SLOT_HEADER_SIZE;
    this.#h = new RingHandle(located, strategy, this);
    const size = mpmcRingSize(slots, slotSize, participants);
    // Every view starts at the ring's region: offsets from the layout files are relative to it.
    const i32 = (this.#i32 = new Int32Array(located.buffer, located.byteOffset, size / 4));
    const i64 = new BigInt64Array(located.buffer, located.byteOffset, slotsOffset(participants) / 8);
    this.#registry = new Registry(this.#h, i32, i64, participants, repairDelayMs);
    this.#slots = new Slots(this.#h, i32, new Payload(located, size), this.#registry, { slots, slotSize, participants, maxMessageSize: this.maxMessageSize }, {
      // Consumers sleep on the consumer event word, bumped by producers that see them; producers on theirs.
      dataPoint: { i32, word: i32Index(CONSUMER_EVENT_OFFSET), waiters: i32Index(CONSUMER_WAITERS_OFFSET) },
      spacePoint: { i32, word: i32Index(PRODUCER_EVENT_OFFSET), waiters: i32Index(PRODUCER_WAITERS_OFFSET) },
    });
  }

  /** Segment bytes a ring of these dimensions needs. */
  static requiredBytes(slots: number, slotSize: number, participants = DEFAULT_PARTICIPANTS): number {
    checkDimensions(slots, slotSize, participants);
    return mpmcRingSize(slots, slotSize, participants);
  }

  /** Formats a new ring (an address creates its segment). Overwrites whatever the bytes held. */
  static create(target: RingTarget, options: MpmcCreateOptions): MpmcRing {
    const o = checkOptions(options);
    const participants = o.participants ?? DEFAULT_PARTICIPANTS;
    checkDimensions(o.slots, o.slotSize, participants);
    const slots = o.slots!;
    const slotSize = o.slotSize!;
    const strategy = checkStrategy(o.strategy);
    const repairDelayMs = checkRepairDelay(o.repairDelayMs);
    const size = mpmcRingSize(slots, slotSize, participants);
    const region = checkRegionOptions(o);
    if (typeof target === 'string' && region.byteLength !== undefined && size > region.byteLength) throw tooLarge(slots, slotSize, size, region.byteLength);
    const located = locate(target, region, typeof target === 'string' ? { size, replaceStale: o.replaceStale === true } : undefined);
    if (size > located.byteLength) {
      located.owned?.close();
      throw tooLarge(slots, slotSize, size, located.byteLength);
    }
    const i32 = new Int32Array(located.buffer, located.byteOffset, size / 4);
    formatHeader(i32, { kind: KIND_MPMC, params: mpmcParams(slots, slotSize, participants), totalSize: size });
    i32.fill(0, ...registryIndexRange(participants));
    for (let i = 0; i < slots; i++) Atomics.store(i32, slotSequenceIndex(slotOffset(i, slotSize, participants)), i);
    publishReady(i32);
    return new MpmcRing(located, slots, slotSize, participants, strategy, repairDelayMs);
  }

  /** Attaches to an existing ring; validates its header and never reinitialises it. */
  static open(target: RingTarget, options?: MpmcOpenOptions): MpmcRing {
    const o = checkOptions(options);
    const strategy = checkStrategy(o.strategy);
    const repairDelayMs = checkRepairDelay(o.repairDelayMs);
    const located = locate(target, checkRegionOptions(o), undefined);
    return openingIn(located, () => {
      const header = readHeader(located, KIND_MPMC, ([slots, slotSize, participants]) => {
        try {
          checkDimensions(slots, slotSize, participants);
        } catch (err) {
          return (err as Error).message;
        }
        return mpmcRingSize(slots, slotSize, participants) - mpmcRingSize(0, 0, 0);
      });
      const [slots, slotSize, participants] = header.params;
      return new MpmcRing(located, slots, slotSize, participants, strategy, repairDelayMs);
    });
  }

  #checkLength(length: number): void {
    this.#h.checkLength(length, this.maxMessageSize, 'does not fit a slot');
  }

  /** Writes one message if a slot is free now; false if the ring is full. Never blocks. */
  tryWrite(bytes: Uint8Array): boolean {
    checkBytes(bytes);
    this.#h.checkOpen();
    this.#checkLength(bytes.length);
    const ok = this.#slots.writeOne(bytes);
    if (!ok) this.#foundFull();
    return ok;
  }

  /** Writes as many of `messages` as fit now, in order; returns how many. Never blocks. */
  tryWriteMany(messages: readonly Uint8Array[]): number {
    if (!Array.isArray(messages)) throw typeError('messages', messages, 'an array of Uint8Array');
    for (const m of messages) this.#checkLength(checkBytes(m).length);
    this.#h.checkOpen();
    let n = 0;
    while (n < messages.length && this.#slots.writeOne(messages[n]!)) n++;
    if (n < messages.length) this.#foundFull();
    return n;
  }

  /**
   * Takes the next message as a copy the caller owns; null if the ring is empty. Never
   * blocks. Messages of 65 bytes to 2 KiB are views into a pooled 16 KiB ArrayBuffer shared
   * with neighbouring copies (as Node's Buffer.allocUnsafe does); others own their buffer.
   */
  tryRead(): Uint8Array | null {
    this.#h.checkOpen();
    const message = this.#slots.readOne();
    if (message === null) this.#foundEmpty();
    return message;
  }

  /**
   * Calls fn with each waiting message (at most `max`). The slot is freed before fn runs,
   * so fn gets a copy. Returns how many were consumed. Never blocks.
   */
  drain(fn: (view: Uint8Array) => void, max = Infinity): number {
    checkDrain(fn, max);
    this.#h.checkOpen();
    let n = 0;
    while (n < max) {
      const message = this.#slots.readOne();
      if (message === null) break;
      n++;
      fn(message);
    }
    if (n === 0) this.#foundEmpty();
    return n;
  }

  /** Counts a write that found the ring full; a truncated segment (which looks full or corrupt) is ERR_SHM_TRUNCATED. */
  #foundFull(): void {
    this.#h.checkIntact();
    this.#fullWaits++;
  }

  /** As #foundFull for a read that found the ring empty. */
  #foundEmpty(): void {
    this.#h.checkIntact();
    this.#emptyWaits++;
  }

  /** A blocking operation of this handle; MPMC sleepers are woken through the event words only, so it does not spin. */
  #job<T>(what: string, attempt: () => T | null, producing: boolean): WaitJob<T> {
    const slots = this.#slots;
    return {
      what,
      attempt,
      point: producing ? slots.spacePoint : slots.dataPoint,
      spin: false,
      check: () => {
        this.#h.checkIntact();
        this.#registry.checkPeers(producing ? ROLE_CONSUMER : ROLE_PRODUCER);
      },
      onWait: () => {
        if (producing) this.#foundFull();
        else this.#foundEmpty();
        flushDeferred(); // an SPSC peer in this thread may hold what the other side waits for
      },
      beforePark: flushDeferred,
    };
  }

  #writeJob(bytes: Uint8Array): WaitJob<true> {
    checkBytes(bytes);
    this.#h.checkOpen();
    this.#checkLength(bytes.length);
    return this.#job('ring write', () => (this.#slots.writeOne(bytes) ? true : null), true);
  }

  #readJobOnce(): WaitJob<Uint8Array> {
    this.#h.checkOpen();
    // Built once per handle: a blocking read allocates nothing but the message it returns.
    return (this.#readJob ??= this.#job('ring read', () => this.#slots.readOne(), false));
  }

  /** Writes one message, blocking the thread while the ring is full. ERR_TIMEOUT. */
  write(bytes: Uint8Array, options?: BlockOptions): void {
    this.#h.waitSync(this.#writeJob(bytes), options);
  }

  /** As write(), without blocking the event loop. */
  async writeAsync(bytes: Uint8Array, options?: BlockOptions): Promise<void> {
    await this.#h.waitAsync(this.#writeJob(bytes), options);
  }

  /** Takes the next message, blocking the thread while the ring is empty. */
  read(options?: BlockOptions): Uint8Array {
    return this.#h.waitSync(this.#readJobOnce(), options);
  }

  /** As read(), without blocking the event loop. */
  readAsync(options?: BlockOptions): Promise<Uint8Array> {
    try {
      return this.#h.waitAsync(this.#readJobOnce(), options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Messages until this handle is closed. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return messages(() => this.readAsync(), () => this.#h.closed);
  }

  /**
   * This handle's counters, and the ring's count of messages lost to repairs (all handles):
   * read now, or after close() as it was at close (a closed handle cannot see later ones).
   */
  get stats(): MpmcStats {
    const s = this.#slots;
    return { messages: s.messages, bytes: s.bytes, fullWaits: this.#fullWaits, emptyWaits: this.#emptyWaits, lost: this.#registry.lost };
  }

  /** Messages claimed for writing and not yet claimed for reading, as of now; stale at once. */
  get size(): number {
    const n = (Atomics.load(this.#i32, ENQUEUE_INDEX) - Atomics.load(this.#i32, DEQUEUE_INDEX)) | 0;
    return Math.max(0, Math.min(n, this.slots));
  }

  get closed(): boolean {
    return this.#h.closed;
  }

  /**
   * Gives the registry entry back, settles pending async calls with ERR_CLOSED and closes
   * a segment the ring opened itself. Idempotent.
   */
  close(): void {
    if (this.#h.closed) return;
    this.#registry.leave(this.#h.sound());
    this.#h.end();
  }
}
