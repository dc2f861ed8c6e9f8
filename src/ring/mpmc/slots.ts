// The slots of an MPMC ring (Vyukov's bounded queue): claiming the next free or published
// slot with one CAS on the shared position, writing or copying it, and publishing or
// freeing it with its sequence number; waking sleepers on the other side. Owns the slot
// bytes and the enqueue/dequeue positions (layout/mpmc.ts); announces through Registry.
//
// Protocol: a producer announces the position it is about to claim, claims it with one CAS
// on the enqueue position, writes length and payload, then publishes with
// Atomics.store(sequence = position + 1); a consumer announces and claims with one CAS on
// the dequeue position once the sequence says published, copies the payload, then frees
// the slot with Atomics.store(sequence = position + slots).
import type { WaitPoint, WaitStrategy } from '../../sync/wait-strategy.js';
import type { RingHandle } from '../handle.js';
import {
  DEQUEUE_INDEX,
  ENQUEUE_INDEX,
  ROLE_CONSUMER,
  ROLE_PRODUCER,
  slotHeaderIndex,
  slotHeaderWord,
  slotLengthIndex,
  slotPayloadOffset,
  slotSequenceIndex,
  slotsOffset,
  STATE_CONSUMING,
  STATE_PRODUCING,
  TOMBSTONE,
} from '../layout/mpmc.js';
import type { Payload } from '../payload.js';
import type { Registry } from './registry.js';

export class Slots {
  readonly #h: RingHandle;
  readonly #i32: Int32Array;
  /** The same bytes as 64-bit words: a repair swaps a slot's sequence and length together. */
  readonly #i64: BigInt64Array;
  readonly #payload: Payload;
  /** The segment's fault word (RingHandle.fault), loaded once per message written or read. */
  readonly #fault: Int32Array;
  readonly #registry: Registry;
  readonly #strategy: WaitStrategy;
  readonly #slots: number;
  readonly #slotSize: number;
  readonly #mask: number;
  readonly #base: number;
  readonly #max: number;
  readonly dataPoint: WaitPoint;
  readonly spacePoint: WaitPoint;
  messages = 0;
  bytes = 0;

  constructor(h: RingHandle, i32: Int32Array, payload: Payload, registry: Registry, dims: { slots: number; slotSize: number; participants: number; maxMessageSize: number }, points: { dataPoint: WaitPoint; spacePoint: WaitPoint }) {
    this.#h = h;
    this.#i32 = i32;
    this.#i64 = new BigInt64Array(i32.buffer, i32.byteOffset, i32.length >> 1);
    this.#payload = payload;
    this.#fault = h.fault;
    this.#registry = registry;
    this.#strategy = h.strategy;
    this.#slots = dims.slots;
    this.#slotSize = dims.slotSize;
    this.#mask = dims.slots - 1;
    this.#base = slotsOffset(dims.participants);
    this.#max = dims.maxMessageSize;
    this.dataPoint = points.dataPoint;
    this.spacePoint = points.spacePoint;
  }

  #slotAt(position: number): number {
    return this.#base + (position & this.#mask) * this.#slotSize;
  }

  /** Claims the next free slot; its position, or -1 if the ring is full. */
  #claimEnqueue(): number {
    const i32 = this.#i32;
    let position = Atomics.load(i32, ENQUEUE_INDEX) >>> 0;
    for (;;) {
      const sequence = Atomics.load(i32, slotSequenceIndex(this.#slotAt(position)));
      const lag = (sequence - position) | 0;
      if (lag === 0) {
        this.#registry.announce(STATE_PRODUCING, position);
        const seen = Atomics.compareExchange(i32, ENQUEUE_INDEX, position | 0, (position + 1) | 0) >>> 0;
        if (seen === position) return position;
        position = seen;
      } else if (lag < 0) {
        // Full: the slot still serves the previous lap, whose producer has not published
        // (sequence = position - slots) or whose consumer has not freed it (+1).
        if (lag === 1 - this.#slots) {
          const previous = (position - this.#slots) >>> 0;
          // Claimed by a consumer (the dequeue position moved past it) but not freed: a dead
          // consumer's slot is freed (its message is gone).
          if (((Atomics.load(i32, DEQUEUE_INDEX) - previous) | 0) > 0 && this.#registry.stuck(previous, STATE_CONSUMING, () => this.#repairSlot(previous, previous + 1, position, false))) {
            position = Atomics.load(i32, ENQUEUE_INDEX) >>> 0;
            continue;
          }
        } else if (lag !== -this.#slots) {
          this.#h.corrupt(`slot sequence ${sequence} at enqueue position ${position}`);
        }
        return -1;
      } else {
        const next = Atomics.load(i32, ENQUEUE_INDEX) >>> 0;
        // A slot ahead of the position we read means others moved on; if nobody did, the
        // sequence is impossible.
        if (next === position) this.#h.corrupt(`slot sequence ${sequence} ahead of enqueue position ${position}`);
        position = next;
      }
    }
  }

  /** Claims the next published slot; its position, or -1 if the ring is empty. */
  #claimDequeue(): number {
    const i32 = this.#i32;
    let position = Atomics.load(i32, DEQUEUE_INDEX) >>> 0;
    for (;;) {
      const sequence = Atomics.load(i32, slotSequenceIndex(this.#slotAt(position)));
      const lag = (sequence - ((position + 1) | 0)) | 0;
      if (lag === 0) {
        this.#registry.announce(STATE_CONSUMING, position);
        const seen = Atomics.compareExchange(i32, DEQUEUE_INDEX, position | 0, (position + 1) | 0) >>> 0;
        if (seen === position) return position;
        position = seen;
      } else if (lag < 0) {
        // Empty: not yet published (sequence = position), or the previous lap's consumer has
        // not freed the slot yet (sequence = position - slots + 1).
        if (lag === -1) {
          // Claimed by a producer (the enqueue position moved past it) but not published: a
          // dead producer's slot becomes a tombstone, claimed and skipped.
          if (Atomics.load(i32, ENQUEUE_INDEX) >>> 0 !== position && this.#registry.stuck(position, STATE_PRODUCING, () => this.#repairSlot(position, position, position + 1, true))) {
            continue;
          }
        } else if (lag !== -this.#slots) {
          this.#h.corrupt(`slot sequence ${sequence} at dequeue position ${position}`);
        }
        return -1;
      } else {
        const next = Atomics.load(i32, DEQUEUE_INDEX) >>> 0;
        if (next === position) this.#h.corrupt(`slot sequence ${sequence} ahead of dequeue position ${position}`);
        position = next;
      }
    }
  }

  /**
   * Moves the stuck slot at `position` from `stuckSequence` to `repairedSequence` (with a
   * tombstone length, for a dead producer's slot) with one CAS; true if this call did it.
   * The tombstone and the sequence go in one 64-bit CAS of the slot header: a length written
   * before a CAS on the sequence alone clobbered the message of a live producer that had
   * published the slot between the registry scan and the CAS (its slot was then skipped as
   * a tombstone: found by the model check, docs/models/mpmc.pml -DMUTATE_TOMBSTONE_FIRST).
   */
  #repairSlot(position: number, stuckSequence: number, repairedSequence: number, tombstone: boolean): boolean {
    const at = this.#slotAt(position);
    if (tombstone) {
      const header = slotHeaderIndex(at);
      const expected = slotHeaderWord(stuckSequence, Atomics.load(this.#i32, slotLengthIndex(at)));
      if (Atomics.compareExchange(this.#i64, header, expected, slotHeaderWord(repairedSequence, TOMBSTONE)) !== expected) return false;
    } else if (Atomics.compareExchange(this.#i32, slotSequenceIndex(at), stuckSequence | 0, repairedSequence | 0) !== (stuckSequence | 0)) {
      return false;
    }
    this.#signal(tombstone ? this.dataPoint : this.spacePoint);
    return true;
  }

  /** After a publication or a release: if anyone sleeps on the other side, move their word and wake them. */
  #signal(point: WaitPoint): void {
    if (Atomics.load(point.i32, point.waiters) === 0) return;
    Atomics.add(point.i32, point.word, 1);
    this.#strategy.wake(point);
  }

  /** Writes and publishes one message (its length checked) if a slot is free now. */
  writeOne(bytes: Uint8Array): boolean {
    this.#registry.enter(ROLE_PRODUCER);
    const position = this.#claimEnqueue();
    if (position < 0) return false;
    const at = this.#slotAt(position);
    this.#i32[slotLengthIndex(at)] = bytes.length;
    this.#payload.write(bytes, slotPayloadOffset(at));
    // Release store: the consumer that sees this sequence sees the length and payload.
    Atomics.store(this.#i32, slotSequenceIndex(at), (position + 1) | 0);
    this.#registry.idle();
    this.#signal(this.dataPoint);
    // After the last shared store: a write that returns true reached the shared pages.
    if (this.#fault[0] !== 0) this.#h.truncated();
    this.messages++;
    this.bytes += bytes.length;
    return true;
  }

  /** Takes the next message as a copy, freeing its slot; null if the ring is empty. */
  readOne(): Uint8Array | null {
    this.#registry.enter(ROLE_CONSUMER);
    for (;;) {
      const position = this.#claimDequeue();
      if (position < 0) return null;
      const at = this.#slotAt(position);
      const length = this.#i32[slotLengthIndex(at)]!;
      const valid = length >= 0 && length <= this.#max;
      let copy: Uint8Array | null = null;
      if (valid) copy = this.#payload.copy(slotPayloadOffset(at), length);
      // Free the slot for the producer of the next lap even if it held a tombstone or
      // garbage, so the ring does not wedge.
      Atomics.store(this.#i32, slotSequenceIndex(at), (position + this.#slots) | 0);
      this.#registry.idle();
      this.#signal(this.spacePoint);
      if (length === TOMBSTONE) continue; // its producer died after claiming it; counted as lost
      // After the copy: a message returned was copied from the shared pages, not zero pages.
      if (this.#fault[0] !== 0) this.#h.truncated();
      if (copy === null) this.#h.corrupt(`slot length ${length} at position ${position}`);
      this.messages++;
      this.bytes += length;
      return copy;
    }
  }
}
