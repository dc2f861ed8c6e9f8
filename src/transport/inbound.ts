// The receiving half of a Channel: records come out of the inbound ring in batches, are
// reassembled (framing.ts) and decoded (the codec), and wait here in order until the
// Channel hands them on one by one (take()). Nothing is taken out of the ring while nobody
// asks, so a reader that does not read holds the sender back. After the peer's end, what
// may still be read is bounded by what the ring held when the end was seen.
import { shmError } from '../errors.js';
import { recordSize } from '../ring/layout/spsc.js';
import type { SpscRing } from '../ring/spsc/ring.js';
import type { Codec } from './codec.js';
import type { Reassembly } from './framing.js';
import type { Signals } from './signals.js';

/** Records taken from the ring at a time. */
const READ_BATCH = 64;

/** What take() returns when no message has arrived. */
export const NOTHING = Symbol('nothing');

/** A record that could not become a message (the Channel emits 'messageerror'). */
export class Refused {
  constructor(readonly error: Error) {}
}

export class Inbound {
  #ring: SpscRing | undefined;
  readonly #codec: Codec;
  readonly #reassembly: Reassembly;
  readonly #signals: Signals;
  /** The codec keeps views of what it decodes: a message is copied out of ring memory first. */
  readonly #copy: boolean;
  /** Decoded messages (and Refused records) out of the ring, in order; #head is the next. */
  readonly #queue: unknown[] = [];
  #head = 0;
  /** Ring bytes that may still be read (Infinity until the peer's end is seen). */
  #left = Infinity;
  readonly #onRecord = (view: Uint8Array, tag: number): void => {
    if (this.#left !== Infinity) this.#left -= recordSize(view.length);
    const bytes = this.#reassembly.accept(view, tag, this.#copy);
    // (a frame may end an incomplete message, refused, and carry a whole one)
    if (this.#reassembly.refused !== undefined) this.#queue.push(new Refused(shmError('ERR_BAD_MESSAGE', `a corrupt frame was dropped: ${this.#reassembly.refused}`)));
    if (bytes !== undefined) this.#queue.push(bytes === view && this.#decodeAt !== undefined ? this.#decodeInPlace(this.#decodeAt, view) : this.#decode(bytes));
  };
  /** The codec's decoder of bytes in place (a schema's), if it has one. */
  readonly #decodeAt: ((buffer: ArrayBufferLike, byteOffset: number, length: number) => unknown) | undefined;
  /** The buffer the ring's records view, once one was seen. */
  #viewBuffer: ArrayBufferLike | undefined;

  constructor(ring: SpscRing, codec: Codec, reassembly: Reassembly, signals: Signals) {
    this.#ring = ring;
    this.#codec = codec;
    this.#reassembly = reassembly;
    this.#signals = signals;
    this.#copy = codec.borrows !== false;
    const direct = codec.direct;
    this.#decodeAt = typeof direct?.decodeAt === 'function' ? direct.decodeAt.bind(direct) : undefined;
  }

  /** Bytes in the inbound ring (stale at once: the peer may be writing); 0 once detached. */
  get usedBytes(): number {
    return this.#ring === undefined || this.#left <= 0 ? 0 : this.#ring.usedBytes;
  }

  /**
   * The next message (or a Refused record), or NOTHING if none has arrived. Throws what a
   * ring that broke its invariants throws.
   */
  take(): unknown {
    for (;;) {
      const queue = this.#queue;
      if (this.#head < queue.length) {
        const message = queue[this.#head];
        queue[this.#head++] = undefined;
        return message;
      }
      if (this.#head !== 0) {
        queue.length = 0;
        this.#head = 0;
      }
      if (!this.#fill()) return NOTHING;
    }
  }

  /** Takes a batch of records out of the ring; false if there was none to take. */
  #fill(): boolean {
    const ring = this.#ring;
    if (ring === undefined || this.#left <= 0) return false;
    let taken: number;
    if (this.#left === Infinity) {
      taken = ring.drain(this.#onRecord, READ_BATCH);
    } else {
      taken = 0;
      while (taken < READ_BATCH && this.#left > 0 && ring.drain(this.#onRecord, 1) === 1) taken++;
    }
    if (taken === 0) return false;
    this.#signals.freed();
    return true;
  }

  /** The peer ended: from now on read at most what the ring holds now (a peer that writes on after its end is not read forever). */
  endAtUsed(): void {
    if (this.#left === Infinity && this.#ring !== undefined) this.#left = this.#ring.usedBytes;
  }

  /**
   * Decodes everything the ring may still give into the queue, then lets go of the ring:
   * what arrived stays readable here after the segment is gone.
   */
  keepAllAndDetach(): void {
    try {
      while (this.#fill());
    } catch {
      // a broken ring: what was decoded is kept
    }
    this.#ring = undefined;
  }

  /** Lets go of the ring (the channel ended); messages already decoded stay readable. */
  detach(): void {
    this.#ring = undefined;
  }

  #decode(bytes: Uint8Array): unknown {
    try {
      return this.#codec.decode(bytes);
    } catch (err) {
      return refusal(err);
    }
  }

  /** #decode() of a record in ring memory, by a codec that decodes in place. Every record of the ring views one buffer: it is read once (.buffer costs a tenth of a small message). */
  #decodeInPlace(decodeAt: (buffer: ArrayBufferLike, byteOffset: number, length: number) => unknown, view: Uint8Array): unknown {
    try {
      return decodeAt((this.#viewBuffer ??= view.buffer), view.byteOffset, view.length);
    } catch (err) {
      return refusal(err);
    }
  }
}

function refusal(err: unknown): Refused {
  return new Refused(shmError('ERR_BAD_MESSAGE', `a message could not be decoded: ${(err as Error).message}`, { cause: err }));
}
