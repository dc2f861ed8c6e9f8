// Large results from worker threads (a piscina pool, or any workers) through shared memory
// instead of a structured clone over the pool's MessagePort: the main thread makes one Channel
// per worker slot (anonymous memfds, so nothing is named in /dev/shm); a worker takes a free
// slot on its first result, posts the bytes there and returns a small handle through its
// normal return path; the main thread resolves the handle to the bytes. Each result is two
// messages on the slot's Channel, in order: its id (4 bytes), then its bytes.
// Workers come and go (piscina ends idle ones, with worker.terminate(), which runs none of
// their code): the directory (`results.workerData`, a SharedArrayBuffer handed to workers
// once) holds each slot's descriptor and the threadId of the worker that took it. When a
// worker ends (`results.watch(pool)` follows piscina's 'workerDestroy'; `release(threadId)`
// for other pools), the main thread takes what it sent, and a fresh Channel takes the slot.
import { Buffer } from 'node:buffer';
import { checkInteger, checkOptions, rangeError, shmError, typeError } from '../errors.js';
import { threadId } from 'node:worker_threads';
import { Channel } from './channel.js';

/** What a worker returns instead of the bytes: small, cloned cheaply by the pool. */
export interface ResultHandle {
  readonly slot: number;
  readonly id: number;
}

export interface SharedResultsOptions {
  /** How many workers may send at once (piscina's maxThreads). Default 16. */
  slots?: number;
  /** Data bytes of each slot's ring (a power of two). Default 4 MiB. */
  capacity?: number;
}

interface Slot {
  index: number;
  channel: Channel;
  /** The id announced by the last id message, waiting for its bytes. */
  pendingId: number;
  arrived: Map<number, Buffer>;
  waiters: Map<number, (bytes: Buffer | Promise<never>) => void>;
}

/** The main thread's side: `workerData` goes to the workers (for piscina: its workerData). */
export class SharedResults {
  /** What a worker needs to send results: pass it in workerData (it is shared, not copied). */
  readonly workerData: { readonly directory: SharedArrayBuffer };
  readonly #slots: Slot[] = [];
  /** [descriptor of each slot's Channel..., threadId of the worker holding each slot (0: none)...] */
  readonly #directory: Int32Array;
  readonly #capacity: number;
  #closed = false;

  private constructor(count: number, capacity: number) {
    this.#capacity = capacity;
    this.#directory = new Int32Array(new SharedArrayBuffer(8 * count));
    this.workerData = { directory: this.#directory.buffer as SharedArrayBuffer };
  }

  static create(options?: SharedResultsOptions): SharedResults {
    const o = checkOptions(options);
    const count = o.slots === undefined ? 16 : checkInteger('slots', o.slots, 1, 1024);
    const results = new SharedResults(count, o.capacity ?? 1 << 22);
    try {
      for (let i = 0; i < count; i++) results.#slots.push(results.#open(i));
    } catch (err) {
      results.close();
      throw err;
    }
    return results;
  }

  /** A fresh Channel for slot `index`, published in the directory. */
  #open(index: number): Slot {
    const channel = Channel.create(undefined, { codec: 'raw', capacity: this.#capacity });
    const slot: Slot = { index, channel, pendingId: -1, arrived: new Map(), waiters: new Map() };
    channel.on('message', (m: Uint8Array) => SharedResults.#take(slot, m));
    channel.once('close', () => {
      // The worker of this slot is gone (everything it sent was delivered first): a fresh
      // Channel takes its place; results that arrived stay takeable.
      if (this.#closed) return;
      const next = this.#open(index);
      next.arrived = slot.arrived;
      this.#slots[index] = next;
      for (const [id, waiter] of slot.waiters) waiter(Promise.reject(shmError('ERR_PEER_DEAD', `the worker that was to send result ${id} is gone`)));
    });
    channel.unref(); // a pending take() keeps the process alive, not an idle slot
    Atomics.store(this.#directory, index, Number(channel.address.slice('fd:'.length)));
    Atomics.store(this.#directory, this.#directory.length / 2 + index, 0);
    return slot;
  }

  /**
   * A worker thread has ended (piscina's 'workerDestroy', a Worker's 'exit'): the results it
   * sent stay takeable, its slots get fresh Channels, takes still waiting for it fail.
   */
  release(threadId: number): void {
    const leases = this.#directory.length / 2;
    for (let index = 0; index < leases; index++) {
      if (Atomics.load(this.#directory, leases + index) !== threadId) continue;
      const slot = this.#slots[index]!;
      for (let next = slot.channel.receiveMessage(); next !== undefined; next = slot.channel.receiveMessage()) {
        SharedResults.#take(slot, next.message as Uint8Array);
      }
      slot.channel.close(); // 'close' puts a fresh Channel in the slot
    }
  }

  /** Follows a piscina pool: each worker it destroys (its `id` is the threadId) is released. Returns `pool`. */
  watch<P extends { on(event: 'workerDestroy', listener: (worker: { id: number }) => void): unknown }>(pool: P): P {
    pool.on('workerDestroy', (worker) => this.release(worker.id));
    return pool;
  }

  static #take(slot: Slot, message: Uint8Array): void {
    if (slot.pendingId < 0) {
      slot.pendingId = Buffer.from(message.buffer, message.byteOffset, message.byteLength).readUInt32LE(0);
      return;
    }
    const id = slot.pendingId;
    slot.pendingId = -1;
    const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    const waiter = slot.waiters.get(id);
    if (waiter === undefined) slot.arrived.set(id, bytes);
    else {
      slot.waiters.delete(id);
      waiter(bytes);
      if (slot.waiters.size === 0) slot.channel.unref();
    }
  }

  /** The bytes of a result a worker sent; waits for them if they are still on their way. */
  take(handle: ResultHandle): Promise<Buffer> {
    if (handle === null || typeof handle !== 'object') throw typeError('handle', handle, 'a ResultHandle from sendResult()');
    const slot = this.#slots[handle.slot];
    if (slot === undefined || !Number.isInteger(handle.id)) throw rangeError('handle.slot', handle.slot, `a slot below ${this.#slots.length}`);
    const ready = slot.arrived.get(handle.id);
    if (ready !== undefined) {
      slot.arrived.delete(handle.id);
      return Promise.resolve(ready);
    }
    if (this.#closed) return Promise.reject(shmError('ERR_CLOSED', 'the results are closed'));
    slot.channel.ref();
    return new Promise((resolve) => slot.waiters.set(handle.id, resolve));
  }

  /** Closes every slot; takes still waiting end with ERR_CLOSED. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) {
      slot.channel.close();
      for (const waiter of slot.waiters.values()) waiter(Promise.reject(shmError('ERR_CLOSED', 'the results are closed')));
      slot.waiters.clear();
    }
  }
}

// ---- the worker side --------------------------------------------------------------------

let mine: { channel: Channel; slot: number; next: number } | undefined;

/** In a worker: posts `bytes` to the main thread and returns the handle to give back. */
export function sendResult(workerData: { directory: SharedArrayBuffer }, bytes: Uint8Array): ResultHandle {
  if (workerData === null || typeof workerData !== 'object' || !(workerData.directory instanceof SharedArrayBuffer)) {
    throw typeError('workerData', workerData, "SharedResults' workerData");
  }
  if (!(bytes instanceof Uint8Array)) throw typeError('bytes', bytes, 'a Uint8Array or Buffer');
  if (mine === undefined || mine.channel.closed) mine = claimSlot(new Int32Array(workerData.directory));
  const id = mine.next++ >>> 0;
  const idBytes = Buffer.alloc(4);
  idBytes.writeUInt32LE(id, 0);
  mine.channel.postMessage(idBytes);
  mine.channel.postMessage(bytes);
  return { slot: mine.slot, id };
}

function claimSlot(directory: Int32Array): { channel: Channel; slot: number; next: number } {
  const slots = directory.length / 2;
  for (let slot = 0; slot < slots; slot++) {
    const fd = Atomics.load(directory, slot);
    let channel: Channel;
    try {
      channel = Channel.connect(`fd:${fd}`, { codec: 'raw' });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_ROLE_TAKEN' || code === 'ERR_SHM_BAD_HEADER' || code === 'EBADF') continue; // taken, or being replaced
      throw err;
    }
    if (Atomics.load(directory, slot) !== fd) {
      channel.close(); // the slot was replaced while we joined: that descriptor was another's
      continue;
    }
    Atomics.store(directory, slots + slot, threadId);
    channel.unref();
    return { channel, slot, next: 0 };
  }
  throw shmError('ERR_ROLE_TAKEN', `all ${slots} result slots are taken: create SharedResults with slots >= the pool's maxThreads`);
}
