// The receiving half of a Channel: records come out of the inbound ring (drained in batches,
// reassembled by framing.ts, decoded by the codec) and go to whoever reads: a waiting async
// iterator first, then the 'message' listeners; with nobody reading, they stay in the ring
// (back-pressure on the sender), and what was taken out already is kept here, in order.
// It owns no events and no lifecycle: its host (the Channel) emits, refs and ends.
import { shmError } from '../errors.js';
import type { Codec } from './codec.js';
import { Reassembly } from './framing.js';
import type { SpscRing } from './rings.js';

/** Records taken from the ring before the messages they carry are delivered. */
const READ_BATCH = 64;

/** A record that could not become a message ('messageerror'). */
class Refused {
  constructor(readonly error: Error) {}
}

/** What a waiting iterator gets when the channel ends instead of a message. */
export const DONE = Symbol('done');
const NONE = Symbol('none');

/** What the Receiver needs from its Channel. */
export interface ReceiverHost {
  /** No more deliveries (closing or closed). */
  closing(): boolean;
  /** 'message' listeners now. */
  listeners(): number;
  emitMessage(message: unknown): void;
  emitMessageError(error: Error): void;
  /** Records left the ring: the sender may be waiting for room. */
  roomFreed(): void;
  /** The ring broke its invariants: end the channel with this error. */
  fail(error: Error): void;
  /** Waiters came or went: the channel's ref may change. */
  updateRef(): void;
  /** Look at everything again soon (a microtask). */
  poke(): void;
}

export class Receiver {
  readonly #ring: SpscRing;
  readonly #codec: Codec;
  readonly #reassembly: Reassembly;
  readonly #host: ReceiverHost;
  /** Decoded messages (and Refused records) of the drain in progress. */
  #batch: unknown[] = [];
  readonly #onRecord = (view: Uint8Array): void => this.#takeRecord(view);
  /** Messages out of the ring that nobody has taken yet, in order. */
  #kept: unknown[] = [];
  #keptHead = 0;
  /** Async iterators waiting for the next message. */
  readonly waiting: Array<(value: unknown) => void> = [];

  constructor(ring: SpscRing, codec: Codec, reassembly: Reassembly, host: ReceiverHost) {
    this.#ring = ring;
    this.#codec = codec;
    this.#reassembly = reassembly;
    this.#host = host;
  }

  /** Whether anyone takes messages now: a 'message' listener or a waiting async iterator. */
  reading(): boolean {
    return !this.#host.closing() && (this.waiting.length > 0 || this.#host.listeners() > 0);
  }

  /** Bytes in the inbound ring (stale at once: the peer may be writing). */
  get usedBytes(): number {
    return this.#ring.usedBytes;
  }

  /**
   * Reads up to `limit` messages and delivers each (or keeps it, with `all`, when nobody
   * reads); returns how many. A ring that breaks its invariants ends the channel.
   */
  receive(limit: number, all: boolean): number {
    let count = 0;
    while (count < limit && (all || this.reading())) {
      const batch = this.#drain(READ_BATCH);
      if (batch === undefined) break;
      let i = 0;
      try {
        for (; i < batch.length; i++) {
          const item = batch[i];
          if (item instanceof Refused) this.#host.emitMessageError(item.error);
          else this.#deliver(item);
        }
      } finally {
        // A listener threw (an uncaught exception on its way): the rest of the batch is
        // already out of the ring, so it is kept for the next turn rather than lost.
        if (i < batch.length - 1) {
          this.#kept = [...batch.slice(i + 1), ...this.#kept.slice(this.#keptHead)];
          this.#keptHead = 0;
          this.#host.poke();
        }
      }
      count += batch.length;
    }
    return count;
  }

  /** Takes up to `records` records out of the ring; undefined when there were none. */
  #drain(records: number): unknown[] | undefined {
    const batch = this.#batch;
    let taken: number;
    try {
      taken = this.#ring.drain(this.#onRecord, records);
    } catch (err) {
      this.#host.fail(err as Error);
      return undefined;
    }
    if (taken === 0) return undefined;
    this.#host.roomFreed();
    this.#batch = [];
    return batch;
  }

  #takeRecord(view: Uint8Array): void {
    const result = this.#reassembly.accept(view, this.#codec.borrows !== false);
    if (result === null) return;
    if ('error' in result) {
      this.#batch.push(new Refused(shmError('ERR_BAD_MESSAGE', `a corrupt frame was dropped: ${result.error}`)));
      return;
    }
    try {
      this.#batch.push(this.#codec.decode(result.bytes));
    } catch (err) {
      this.#batch.push(new Refused(shmError('ERR_BAD_MESSAGE', `a message could not be decoded: ${(err as Error).message}`, { cause: err })));
    }
  }

  #deliver(message: unknown): void {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) {
      waiter(message);
      this.#host.updateRef();
    } else if (!this.#host.closing() && this.#host.listeners() > 0 && this.#keptHead === this.#kept.length) {
      this.#host.emitMessage(message);
    } else {
      this.#kept.push(message);
    }
  }

  /** Hands kept messages to whoever reads now. */
  deliverKept(): void {
    while (this.#keptHead < this.#kept.length && this.reading()) {
      const message = this.#kept[this.#keptHead];
      this.#kept[this.#keptHead++] = undefined;
      if (message instanceof Refused) {
        this.#host.emitMessageError(message.error);
        continue;
      }
      const waiter = this.waiting.shift();
      if (waiter !== undefined) waiter(message);
      else this.#host.emitMessage(message);
    }
    if (this.#keptHead === this.#kept.length) {
      this.#kept = [];
      this.#keptHead = 0;
    }
  }

  /** The next kept message, or NONE (emitting 'messageerror' for refused records it passes). */
  #takeKept(): unknown {
    while (this.#keptHead < this.#kept.length) {
      const message = this.#kept[this.#keptHead];
      this.#kept[this.#keptHead++] = undefined;
      if (!(message instanceof Refused)) return message;
      this.#host.emitMessageError(message.error);
    }
    return NONE;
  }

  /** The next message now (kept, else from the ring), or undefined: receiveMessage(). */
  takeNow(ringOpen: boolean): { message: unknown } | undefined {
    const kept = this.#takeKept();
    if (kept !== NONE) return { message: kept };
    if (!ringOpen) return undefined;
    for (;;) {
      const batch = this.#drain(1);
      if (batch === undefined) return undefined;
      if (batch.length === 0) continue; // a piece of a larger message
      const item = batch[0];
      if (item instanceof Refused) {
        this.#host.emitMessageError(item.error);
        continue;
      }
      return { message: item };
    }
  }

  /** Messages until `ended()` says the channel is over: the async iterator of a Channel. */
  async *messages(ended: () => { done: boolean; reason?: Error }): AsyncGenerator<unknown> {
    for (;;) {
      const kept = this.#takeKept();
      if (kept !== NONE) {
        yield kept;
        continue;
      }
      const end = ended();
      if (end.done) {
        if (end.reason !== undefined) throw end.reason;
        return;
      }
      const next = await new Promise<unknown>((resolve) => {
        this.waiting.push(resolve);
        this.#host.updateRef();
        this.#host.poke();
      });
      if (next === DONE) continue;
      yield next;
    }
  }

  /** Ends every waiting iterator (they look at the end and return or throw). */
  endWaiting(): void {
    for (const waiter of this.waiting.splice(0)) waiter(DONE);
  }
}
