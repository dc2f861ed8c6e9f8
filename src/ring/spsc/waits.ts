// The blocking calls of an SPSC handle as jobs for the one wait loop (sync/waiting.ts):
// what to attempt, where to sleep, what to check while asleep. Built once per handle, so
// a blocking read allocates nothing but the message it returns. Owns no ring state.
import type { WaitJob } from '../../sync/waiting.js';
import type { WaitPoint } from '../../sync/wait-strategy.js';
import { flushDeferred } from '../batching.js';
import type { Claim } from './claim.js';
import type { Consumer } from './consumer.js';
import type { Producer } from './producer.js';
import type { SpscParts, SpscSide } from './side.js';

export class SpscWaits {
  readonly #producer: Producer;
  readonly #consumer: Consumer;
  readonly #parts: Pick<SpscParts, 'dataPoint' | 'spacePoint'>;
  /** The target of the readInto() in progress. */
  #intoTarget: Uint8Array | undefined;
  #read: WaitJob<Uint8Array> | undefined;
  #readInto: WaitJob<number> | undefined;
  #readable: WaitJob<true> | undefined;

  constructor(producer: Producer, consumer: Consumer, parts: Pick<SpscParts, 'dataPoint' | 'spacePoint'>) {
    this.#producer = producer;
    this.#consumer = consumer;
    this.#parts = parts;
  }

  /** A job of `side` around `op`: the producer sleeps on the head while the ring is full, the consumer on the tail while it is empty. */
  #job<T>(what: string, side: SpscSide, point: WaitPoint, op: () => T | null): WaitJob<T> {
    return {
      what,
      attempt: () => side.attempt(op),
      point,
      spin: true,
      check: () => side.checkWaiting(),
      onWait: () => {
        side.countWait();
        flushDeferred(); // the peer may be waiting for what this thread holds
      },
      beforePark: flushDeferred,
    };
  }

  write(bytes: Uint8Array): WaitJob<true> {
    this.#producer.checkWrite(bytes);
    return this.#job('ring write', this.#producer, this.#parts.spacePoint, () => this.#producer.writeOne(bytes));
  }

  claim(length: number): WaitJob<Claim> {
    return this.#job('ring claim', this.#producer, this.#parts.spacePoint, () => this.#producer.claimNow(length));
  }

  read(): WaitJob<Uint8Array> {
    this.#consumer.enter();
    return (this.#read ??= this.#job('ring read', this.#consumer, this.#parts.dataPoint, () => this.#consumer.take()));
  }

  /** The job of readInto(target); `target` is held until done(). */
  readInto(target: Uint8Array): WaitJob<number> {
    this.#consumer.enter();
    this.#intoTarget = target;
    return (this.#readInto ??= this.#job('ring read', this.#consumer, this.#parts.dataPoint, () => this.#consumer.takeInto(this.#intoTarget!)));
  }

  done(): void {
    this.#intoTarget = undefined;
  }

  readable(): WaitJob<true> {
    this.#consumer.enter();
    return (this.#readable ??= this.#job('ring wait', this.#consumer, this.#parts.dataPoint, () => this.#consumer.peek()));
  }
}
