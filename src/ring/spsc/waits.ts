// The blocking calls of an SPSC handle as jobs for the one wait loop (sync/waiting.ts):
// what to attempt, where to sleep, what to check while asleep. Built once per handle, so
// a blocking read allocates nothing but the message it returns. Owns no ring state.
import type { WaitJob } from '../../sync/waiting.js';
import { flushDeferred } from '../batching.js';
import type { Claim } from './claim.js';
import type { Consumer } from './consumer.js';
import type { Producer } from './producer.js';
import type { SpscParts } from './side.js';

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

  /** A producer job: sleeps on the head while the ring is full. */
  #producing<T>(what: string, put: () => T | null): WaitJob<T> {
    const p = this.#producer;
    return {
      what,
      attempt: () => p.attempt(put),
      point: this.#parts.spacePoint,
      spin: true,
      check: () => p.checkWaiting(),
      onWait: () => {
        p.fullWaits++;
        flushDeferred(); // the peer may be waiting for what this thread holds
      },
      beforePark: flushDeferred,
    };
  }

  /** A consumer job: sleeps on the tail while the ring is empty. */
  #consuming<T>(what: string, take: () => T | null): WaitJob<T> {
    const c = this.#consumer;
    return {
      what,
      attempt: () => c.attempt(take),
      point: this.#parts.dataPoint,
      spin: true,
      check: () => c.checkWaiting(),
      onWait: () => {
        c.emptyWaits++;
        flushDeferred();
      },
      beforePark: flushDeferred,
    };
  }

  write(bytes: Uint8Array): WaitJob<true> {
    this.#producer.checkWrite(bytes);
    return this.#producing('ring write', () => this.#producer.writeOne(bytes));
  }

  claim(length: number): WaitJob<Claim> {
    return this.#producing('ring claim', () => this.#producer.claimNow(length));
  }

  read(): WaitJob<Uint8Array> {
    this.#consumer.enter();
    return (this.#read ??= this.#consuming('ring read', () => this.#consumer.take()));
  }

  /** The job of readInto(target); `target` is held until done(). */
  readInto(target: Uint8Array): WaitJob<number> {
    this.#consumer.enter();
    this.#intoTarget = target;
    return (this.#readInto ??= this.#consuming('ring read', () => this.#consumer.takeInto(this.#intoTarget!)));
  }

  done(): void {
    this.#intoTarget = undefined;
  }

  readable(): WaitJob<true> {
    this.#consumer.enter();
    return (this.#readable ??= this.#consuming('ring wait', () => this.#consumer.peek()));
  }
}
