// MpmcRing: any number of producer and consumer processes exchanging messages of up to
// slotSize - 8 bytes through fixed-size slots (Vyukov's bounded MPMC queue).
//
// Protocol: a producer announces the position it is about to claim in its registry entry,
// claims it with one CAS on the enqueue position, writes length and payload, then
// publishes with Atomics.store(sequence = position + 1); a consumer announces and claims
// with one CAS on the dequeue position once the sequence says published, copies the
// payload, then frees the slot with Atomics.store(sequence = position + slots).
//
// Repair: a slot claimed by a process that died before publishing (or freeing) it would
// wedge the ring. A participant that finds the slot at its position stuck for longer than
// the repair delay looks in the registry: if a dead owner's entry names that position and
// no live one does, it turns the slot into a tombstone (a producer died: the slot is
// skipped) or frees it (a consumer died: its message is gone) with a CAS on the sequence,
// and counts one lost message. A slow but live participant is never repaired over.
import { badHeaderError, checkBytes, checkInteger, closedError, type ShmError, shmError, typeError } from '../errors.js';
import { isAlive, SELF_THREAD } from '../sync/identity.js';
import type { Segment } from '../segment/segment.js';
import type { WaitPoint, WaitStrategy } from '../sync/wait-strategy.js';
import { blockAsync, blockSync, type Blocking, type BlockOptions, checkOptions, checkRegionOptions, checkStrategy, closeWithSegment, forgetRing, formatHeader, isPowerOfTwo, locate, Payload, publishReady, readHeader, type RegionOptions, type RingTarget } from './base.js';
import { CONSUMER_EVENT_OFFSET, CONSUMER_WAITERS_OFFSET, i32Index, KIND_MPMC, LOST_OFFSET, PRODUCER_EVENT_OFFSET, PRODUCER_WAITERS_OFFSET } from './header.js';
import {
  DEFAULT_PARTICIPANTS,
  DEQUEUE_OFFSET,
  ENQUEUE_OFFSET,
  ENTRY_OWNER_OFFSET,
  ENTRY_POSITION_OFFSET,
  ENTRY_ROLES_OFFSET,
  ENTRY_STATE_OFFSET,
  entryOffset,
  MAX_PARTICIPANTS,
  MAX_SLOT_SIZE,
  MAX_SLOTS,
  MIN_SLOT_SIZE,
  MIN_SLOTS,
  mpmcRingSize,
  ROLE_CONSUMER,
  ROLE_PRODUCER,
  SLOT_ALIGN,
  SLOT_HEADER_SIZE,
  SLOT_LENGTH_OFFSET,
  SLOT_SEQUENCE_OFFSET,
  slotsOffset,
  STATE_CONSUMING,
  STATE_IDLE,
  STATE_PRODUCING,
  TOMBSTONE,
} from './mpmc-layout.js';
import type { RingStats } from './spsc.js';

/** Default time a slot may stay stuck before its dead claimer is looked for, in ms. */
export const DEFAULT_REPAIR_DELAY_MS = 200;

export interface MpmcCreateOptions extends RegionOptions {
  /** Number of slots, a power of two from 2 to 2^24. */
  slots: number;
  /** Bytes per slot including its 8-byte header, a multiple of 8 from 16 to 2^30. */
  slotSize: number;
  /** Handles that may use the ring at once (registry entries), 1 to 1024; default 16. */
  participants?: number;
  strategy?: WaitStrategy;
  repairDelayMs?: number;
  /** At an address that exists: replace the segment if it is stale (no process maps it, its participants all died). */
  replaceStale?: boolean;
}

export interface MpmcOpenOptions extends RegionOptions {
  strategy?: WaitStrategy;
  /** How long a slot may stay stuck before this handle repairs it (if its claimer is dead). */
  repairDelayMs?: number;
}

export interface MpmcStats extends RingStats {
  /** Messages lost on this ring (all handles) because a participant died holding a slot. */
  lost: number;
}

function checkDimensions(slots: unknown, slotSize: unknown, participants: unknown): void {
  if (typeof slots !== 'number') throw typeError('slots', slots, 'a number');
  if (!Number.isInteger(slots) || !isPowerOfTwo(slots) || slots < MIN_SLOTS || slots > MAX_SLOTS) {
    throw new RangeError(`slots=${slots}: must be a power of two from ${MIN_SLOTS} to ${MAX_SLOTS}`);
  }
  if (typeof slotSize !== 'number') throw typeError('slotSize', slotSize, 'a number');
  if (!Number.isInteger(slotSize) || slotSize % SLOT_ALIGN !== 0 || slotSize < MIN_SLOT_SIZE || slotSize > MAX_SLOT_SIZE) {
    throw new RangeError(`slotSize=${slotSize}: must be a multiple of ${SLOT_ALIGN} from ${MIN_SLOT_SIZE} to ${MAX_SLOT_SIZE}`);
  }
  checkInteger('participants', participants, 1, MAX_PARTICIPANTS);
  if (slots * slotSize > 2 ** 40) throw new RangeError(`slots=${slots} × slotSize=${slotSize}: larger than a segment can be`);
}

function checkRepairDelay(value: unknown): number {
  if (value === undefined) return DEFAULT_REPAIR_DELAY_MS;
  if (typeof value !== 'number') throw typeError('repairDelayMs', value, 'a number of milliseconds');
  if (!(value >= 0 && value <= 3_600_000)) throw new RangeError(`repairDelayMs=${value}: must be from 0 to 3600000`);
  return value;
}

export class MpmcRing implements AsyncIterable<Uint8Array> {
  readonly slots: number;
  readonly slotSize: number;
  readonly participants: number;
  readonly maxMessageSize: number;
  readonly address: string;
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;
  /** Payload copies go through the plain alias of a Segment's pages when there is one. */
  readonly #payload: Payload;
  readonly #mask: number;
  readonly #slotsBase: number;
  readonly #strategy: WaitStrategy;
  readonly #repairDelayMs: number;
  readonly #owned;
  readonly #segment: Segment | undefined;
  readonly #closing = new AbortController();
  readonly #enqueueIndex = i32Index(ENQUEUE_OFFSET);
  readonly #dequeueIndex = i32Index(DEQUEUE_OFFSET);
  /** Consumers sleep on the consumer event word, bumped by producers that see them. */
  readonly #dataPoint: WaitPoint;
  /** Producers sleep on the producer event word, bumped by consumers that see them. */
  readonly #spacePoint: WaitPoint;
  /** This handle's registry entry: Int32Array indices of its state and position, or -1. */
  #stateIndex = -1;
  #positionIndex = -1;
  #entry = -1;
  /** ROLE_* bits this handle has recorded in its entry. */
  #roles = 0;
  /** A stuck slot being watched before repair: its position and since when (ms). */
  #stuckPosition = -1;
  #stuckSince = 0;
  #readBlock: Blocking<Uint8Array> | undefined;
  #closed = false;
  #broken: ShmError | undefined;
  readonly #stats: RingStats = { messages: 0, bytes: 0, fullWaits: 0, emptyWaits: 0 };

  private constructor(located: ReturnType<typeof locate>, slots: number, slotSize: number, participants: number, strategy: WaitStrategy, repairDelayMs: number) {
    this.address = located.address;
    this.#owned = located.owned;
    this.#segment = located.segment;
    closeWithSegment(located.segment, this);
    this.slots = slots;
    this.slotSize = slotSize;
    this.participants = participants;
    this.maxMessageSize = slotSize - SLOT_HEADER_SIZE;
    this.#mask = slots - 1;
    this.#slotsBase = slotsOffset(participants);
    const size = mpmcRingSize(slots, slotSize, participants);
    // Every view starts at the ring's region: offsets from the layout files are relative to it.
    this.#i32 = new Int32Array(located.buffer, located.byteOffset, size / 4);
    this.#i64 = new BigInt64Array(located.buffer, located.byteOffset, this.#slotsBase / 8);
    this.#payload = new Payload(located, size);
    this.#strategy = strategy;
    this.#repairDelayMs = repairDelayMs;
    this.#dataPoint = { i32: this.#i32, word: i32Index(CONSUMER_EVENT_OFFSET), waiters: i32Index(CONSUMER_WAITERS_OFFSET) };
    this.#spacePoint = { i32: this.#i32, word: i32Index(PRODUCER_EVENT_OFFSET), waiters: i32Index(PRODUCER_WAITERS_OFFSET) };
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
    const tooLarge = (holds: number) => new RangeError(`slots=${slots} × slotSize=${slotSize}: the ring needs ${size} bytes, its region holds ${holds}`);
    if (typeof target === 'string' && region.byteLength !== undefined && size > region.byteLength) throw tooLarge(region.byteLength);
    const located = locate(target, region, typeof target === 'string' ? { size, replaceStale: o.replaceStale === true } : undefined);
    if (size > located.byteLength) {
      located.owned?.close();
      throw tooLarge(located.byteLength);
    }
    const i32 = new Int32Array(located.buffer, located.byteOffset, size / 4);
    formatHeader(i32, { kind: KIND_MPMC, paramA: slots, paramB: slotSize, paramC: participants, totalSize: size });
    i32.fill(0, entryOffset(0) >> 2, slotsOffset(participants) >> 2);
    for (let i = 0; i < slots; i++) Atomics.store(i32, (slotsOffset(participants) + i * slotSize + SLOT_SEQUENCE_OFFSET) >> 2, i);
    publishReady(i32);
    return new MpmcRing(located, slots, slotSize, participants, strategy, repairDelayMs);
  }

  /** Attaches to an existing ring; validates its header and never reinitialises it. */
  static open(target: RingTarget, options?: MpmcOpenOptions): MpmcRing {
    const o = checkOptions(options);
    const strategy = checkStrategy(o.strategy);
    const repairDelayMs = checkRepairDelay(o.repairDelayMs);
    const located = locate(target, checkRegionOptions(o), undefined);
    try {
      const header = readHeader(located, KIND_MPMC, (slots, slotSize, participants) => {
        try {
          checkDimensions(slots, slotSize, participants);
        } catch (err) {
          return (err as Error).message;
        }
        return mpmcRingSize(slots, slotSize, participants) - mpmcRingSize(0, 0, 0);
      });
      return new MpmcRing(located, header.paramA, header.paramB, header.paramC, strategy, repairDelayMs);
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

  // ---- registry ------------------------------------------------------------------------

  /** Takes a registry entry: a free one, or one whose dead owner left it idle. */
  #register(): void {
    if (this.#entry >= 0) return;
    for (let i = 0; i < this.participants; i++) {
      const ownerIndex = (entryOffset(i) + ENTRY_OWNER_OFFSET) >> 3;
      const stateIndex = (entryOffset(i) + ENTRY_STATE_OFFSET) >> 2;
      let owner = Atomics.load(this.#i64, ownerIndex);
      if (owner !== 0n) {
        // A dead owner's entry is reusable once nothing in it awaits repair.
        if (Atomics.load(this.#i32, stateIndex) !== STATE_IDLE || isAlive(owner)) continue;
      }
      if (Atomics.compareExchange(this.#i64, ownerIndex, owner, SELF_THREAD) !== owner) continue;
      Atomics.store(this.#i32, stateIndex, STATE_IDLE);
      Atomics.store(this.#i32, (entryOffset(i) + ENTRY_ROLES_OFFSET) >> 2, 0);
      this.#entry = i;
      this.#stateIndex = stateIndex;
      this.#positionIndex = (entryOffset(i) + ENTRY_POSITION_OFFSET) >> 2;
      return;
    }
    throw shmError('ERR_TOO_MANY_PARTICIPANTS', `all ${this.participants} participant entries of ring ${this.address} are held by live handles`);
  }

  /** Records once that this handle writes (or reads): blocked peers look for live ones. */
  #takeRole(role: number): void {
    if ((this.#roles & role) !== 0) return;
    this.#roles |= role;
    Atomics.store(this.#i32, (entryOffset(this.#entry) + ENTRY_ROLES_OFFSET) >> 2, this.#roles);
  }

  /**
   * For a blocked reader (or writer): ERR_PEER_DEAD if every handle that ever wrote (read)
   * and has not closed is dead. While no such handle was ever seen, waiting goes on: a
   * peer may still come.
   */
  #checkPeers(role: number): void {
    this.#checkOpen();
    let dead = 0;
    for (let i = 0; i < this.participants; i++) {
      const base = entryOffset(i);
      const owner = Atomics.load(this.#i64, (base + ENTRY_OWNER_OFFSET) >> 3);
      if (owner === 0n || (Atomics.load(this.#i32, (base + ENTRY_ROLES_OFFSET) >> 2) & role) === 0) continue;
      if (isAlive(owner)) return;
      dead++;
    }
    if (dead > 0) {
      throw shmError('ERR_PEER_DEAD', `every ${role === ROLE_PRODUCER ? 'producer' : 'consumer'} of ring ${this.address} has died`);
    }
  }

  /** Says which position this handle is about to claim: written before the CAS that claims it. */
  #announce(state: number, position: number): void {
    this.#i32[this.#positionIndex] = position | 0;
    // Fenced store: the position and state are visible before the claiming CAS.
    Atomics.store(this.#i32, this.#stateIndex, state);
  }

  /**
   * Repairs the slot at `position` if a dead participant holds it in `state` and no live
   * one does. Returns true if the slot was repaired (by this call or concurrently).
   */
  #repair(position: number, state: number, stuckSequence: number, repairedSequence: number, tombstone: boolean): boolean {
    let deadEntry = -1;
    for (let i = 0; i < this.participants; i++) {
      const base = entryOffset(i);
      if (Atomics.load(this.#i32, (base + ENTRY_STATE_OFFSET) >> 2) !== state) continue;
      if (Atomics.load(this.#i32, (base + ENTRY_POSITION_OFFSET) >> 2) !== (position | 0)) continue;
      const owner = Atomics.load(this.#i64, (base + ENTRY_OWNER_OFFSET) >> 3);
      if (owner !== 0n && isAlive(owner)) return false; // slow, not dead: never repaired over
      deadEntry = i;
    }
    if (deadEntry < 0) return false;
    const at = this.#slotAt(position);
    if (tombstone) this.#i32[(at + SLOT_LENGTH_OFFSET) >> 2] = TOMBSTONE;
    const sequenceIndex = (at + SLOT_SEQUENCE_OFFSET) >> 2;
    if (Atomics.compareExchange(this.#i32, sequenceIndex, stuckSequence | 0, repairedSequence | 0) === (stuckSequence | 0)) {
      Atomics.add(this.#i32, i32Index(LOST_OFFSET), 1);
      // The dead entry no longer holds anything: it may be reused.
      Atomics.compareExchange(this.#i32, (entryOffset(deadEntry) + ENTRY_STATE_OFFSET) >> 2, state, STATE_IDLE);
      this.#signal(tombstone ? this.#dataPoint : this.#spacePoint);
    }
    return true;
  }

  /** Watches a slot that is claimed but not moving; repairs it once stuck for the repair delay. */
  #stuck(position: number, state: number, stuckSequence: number, repairedSequence: number, tombstone: boolean): boolean {
    const now = performance.now();
    if (this.#stuckPosition !== position) {
      this.#stuckPosition = position;
      this.#stuckSince = now;
      return false;
    }
    if (now - this.#stuckSince < this.#repairDelayMs) return false;
    this.#stuckSince = now; // look again only after another delay
    return this.#repair(position, state, stuckSequence, repairedSequence, tombstone);
  }

  // ---- slots ---------------------------------------------------------------------------

  #slotAt(position: number): number {
    return this.#slotsBase + (position & this.#mask) * this.slotSize;
  }

  /** Claims the next free slot; its position, or -1 if the ring is full. */
  #claimEnqueue(): number {
    const i32 = this.#i32;
    let position = Atomics.load(i32, this.#enqueueIndex) >>> 0;
    for (;;) {
      const sequence = Atomics.load(i32, (this.#slotAt(position) + SLOT_SEQUENCE_OFFSET) >> 2);
      const lag = (sequence - position) | 0;
      if (lag === 0) {
        this.#announce(STATE_PRODUCING, position);
        const seen = Atomics.compareExchange(i32, this.#enqueueIndex, position | 0, (position + 1) | 0) >>> 0;
        if (seen === position) return position;
        position = seen;
      } else if (lag < 0) {
        // Full: the slot still serves the previous lap, whose producer has not published
        // (sequence = position - slots) or whose consumer has not freed it (+1).
        if (lag === 1 - this.slots) {
          const previous = (position - this.slots) >>> 0;
          // Claimed by a consumer (the dequeue position moved past it) but not freed.
          if (((Atomics.load(i32, this.#dequeueIndex) - previous) | 0) > 0 && this.#stuck(previous, STATE_CONSUMING, previous + 1, position, false)) {
            position = Atomics.load(i32, this.#enqueueIndex) >>> 0;
            continue;
          }
        } else if (lag !== -this.slots) {
          this.#corrupt(`slot sequence ${sequence} at enqueue position ${position}`);
        }
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
      const sequence = Atomics.load(i32, (this.#slotAt(position) + SLOT_SEQUENCE_OFFSET) >> 2);
      const lag = (sequence - ((position + 1) | 0)) | 0;
      if (lag === 0) {
        this.#announce(STATE_CONSUMING, position);
        const seen = Atomics.compareExchange(i32, this.#dequeueIndex, position | 0, (position + 1) | 0) >>> 0;
        if (seen === position) return position;
        position = seen;
      } else if (lag < 0) {
        // Empty: not yet published (sequence = position), or the previous lap's consumer has
        // not freed the slot yet (sequence = position - slots + 1).
        if (lag === -1) {
          // Claimed by a producer (the enqueue position moved past it) but not published.
          if (Atomics.load(i32, this.#enqueueIndex) >>> 0 !== position && this.#stuck(position, STATE_PRODUCING, position, position + 1, true)) {
            continue; // repaired into a tombstone: claim it and skip it
          }
        } else if (lag !== -this.slots) {
          this.#corrupt(`slot sequence ${sequence} at dequeue position ${position}`);
        }
        return -1;
      } else {
        const next = Atomics.load(i32, this.#dequeueIndex) >>> 0;
        if (next === position) this.#corrupt(`slot sequence ${sequence} ahead of dequeue position ${position}`);
        position = next;
      }
    }
  }

  /** After a publication or a release: if anyone sleeps on the other side, move their word and wake them. */
  #signal(point: WaitPoint): void {
    if (Atomics.load(point.i32, point.waiters) === 0) return;
    Atomics.add(point.i32, point.word, 1);
    this.#strategy.wake(point);
  }

  #writeOne(bytes: Uint8Array): boolean {
    this.#register();
    this.#takeRole(ROLE_PRODUCER);
    const position = this.#claimEnqueue();
    if (position < 0) return false;
    const at = this.#slotAt(position);
    this.#i32[(at + SLOT_LENGTH_OFFSET) >> 2] = bytes.length;
    this.#payload.write(bytes, at + SLOT_HEADER_SIZE);
    // Release store: the consumer that sees this sequence sees the length and payload.
    Atomics.store(this.#i32, (at + SLOT_SEQUENCE_OFFSET) >> 2, (position + 1) | 0);
    this.#i32[this.#stateIndex] = STATE_IDLE; // after the publication: never a false "dead claimer"
    this.#signal(this.#dataPoint);
    this.#stats.messages++;
    this.#stats.bytes += bytes.length;
    return true;
  }

  #readOne(): Uint8Array | null {
    this.#register();
    this.#takeRole(ROLE_CONSUMER);
    for (;;) {
      const position = this.#claimDequeue();
      if (position < 0) return null;
      const at = this.#slotAt(position);
      const length = this.#i32[(at + SLOT_LENGTH_OFFSET) >> 2]!;
      const valid = length >= 0 && length <= this.maxMessageSize;
      let copy: Uint8Array | null = null;
      if (valid) copy = this.#payload.copy(at + SLOT_HEADER_SIZE, length);
      // Free the slot for the producer of the next lap even if it held a tombstone or
      // garbage, so the ring does not wedge.
      Atomics.store(this.#i32, (at + SLOT_SEQUENCE_OFFSET) >> 2, (position + this.slots) | 0);
      this.#i32[this.#stateIndex] = STATE_IDLE;
      this.#signal(this.#spacePoint);
      if (length === TOMBSTONE) continue; // its producer died after claiming it; counted as lost
      if (copy === null) this.#corrupt(`slot length ${length} at position ${position}`);
      this.#stats.messages++;
      this.#stats.bytes += length;
      return copy;
    }
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

  /**
   * Takes the next message as a copy the caller owns; null if the ring is empty. Never
   * blocks. Messages of 65 bytes to 2 KiB are views into a pooled 16 KiB ArrayBuffer shared
   * with neighbouring copies (as Node's Buffer.allocUnsafe does); others own their buffer.
   */
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
      check: () => this.#checkPeers(ROLE_CONSUMER),
      onWait: () => this.#stats.fullWaits++,
    };
  }

  #readBlocking() {
    this.#checkOpen();
    // Built once per handle: a blocking read allocates nothing but the message it returns.
    return (this.#readBlock ??= {
      what: 'ring read',
      attempt: () => this.#readOne(),
      point: this.#dataPoint,
      spin: false,
      check: () => this.#checkPeers(ROLE_PRODUCER),
      onWait: () => this.#stats.emptyWaits++,
    });
  }

  /** Writes one message, blocking the thread while the ring is full. ERR_TIMEOUT. */
  write(bytes: Uint8Array, options?: BlockOptions): void {
    blockSync(this.#strategy, this.#writeBlocking(bytes), options);
  }

  /** As write(), without blocking the event loop. */
  async writeAsync(bytes: Uint8Array, options?: BlockOptions): Promise<void> {
    await blockAsync(this.#strategy, this.#writeBlocking(bytes), options, this.#closing.signal);
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

  /** This handle's counters, and the ring's count of messages lost to repairs. */
  get stats(): MpmcStats {
    return { ...this.#stats, lost: Atomics.load(this.#i32, i32Index(LOST_OFFSET)) };
  }

  /** Messages claimed for writing and not yet claimed for reading, as of now; stale at once. */
  get size(): number {
    const n = (Atomics.load(this.#i32, this.#enqueueIndex) - Atomics.load(this.#i32, this.#dequeueIndex)) | 0;
    return Math.max(0, Math.min(n, this.slots));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Gives the registry entry back, settles pending async calls with ERR_CLOSED and closes
   * a segment the ring opened itself. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#entry >= 0 && this.#broken === undefined) {
      Atomics.store(this.#i32, this.#stateIndex, STATE_IDLE);
      Atomics.compareExchange(this.#i64, (entryOffset(this.#entry) + ENTRY_OWNER_OFFSET) >> 3, SELF_THREAD, 0n);
    }
    this.#closing.abort();
    forgetRing(this.#segment, this);
    this.#owned?.close();
  }
}
