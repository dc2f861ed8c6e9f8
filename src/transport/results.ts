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
  /** Which Channel of the slot (slots are renewed when their worker ends). */
  readonly epoch: number;
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
  epoch: number;
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
  /** Renewed slots whose results are not all taken yet, by `${index}:${epoch}`. */
  readonly #retired = new Map<string, Slot>();
  readonly #directory: Directory;
  readonly #capacity: number;
  #closed = false;

  private constructor(count: number, capacity: number) {
    this.#capacity = capacity;
    this.#directory = new Directory(new SharedArrayBuffer(Directory.bytes(count)));
    this.workerData = { directory: this.#directory.buffer };
  }

  static create(options?: SharedResultsOptions): SharedResults {
    const o = checkOptions(options);
    const count = o.slots === undefined ? 16 : checkInteger('slots', o.slots, 1, 1024);
    const results = new SharedResults(count, o.capacity ?? 1 << 22);
    try {
      for (let i = 0; i < count; i++) results.#slots.push(results.#open(i, 1));
    } catch (err) {
      results.close();
      throw err;
    }
    return results;
  }

  /** A fresh Channel for slot `index`, published in the directory. */
  #open(index: number, epoch: number): Slot {
    const channel = Channel.create(undefined, { codec: 'raw', capacity: this.#capacity });
    const slot: Slot = { index, epoch, channel, pendingId: -1, arrived: new Map(), waiters: new Map() };
    channel.on('message', (m: Uint8Array) => SharedResults.#take(slot, m));
    channel.once('close', () => {
      // The worker of this slot is gone (everything it sent was delivered first): a fresh
      // Channel takes its place; results that arrived here stay takeable until taken.
      for (const [id, waiter] of slot.waiters) waiter(Promise.reject(shmError('ERR_PEER_DEAD', `the worker that was to send result ${id} is gone`)));
      slot.waiters.clear();
      if (slot.arrived.size > 0) this.#retired.set(`${index}:${epoch}`, slot);
      if (!this.#closed) this.#slots[index] = this.#open(index, epoch + 1);
    });
    channel.unref(); // a pending take() keeps the process alive, not an idle slot
    this.#directory.publish(index, Number(channel.address.slice('fd:'.length)), epoch);
    return slot;
  }

  /**
   * A worker thread has ended (piscina's 'workerDestroy', a Worker's 'exit'): the results it
   * sent stay takeable, its slots get fresh Channels, takes still waiting for it fail.
   */
  release(threadId: number): void {
    for (let index = 0; index < this.#slots.length; index++) {
      if (this.#directory.lease(index) !== threadId) continue;
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
    const current = this.#slots[handle.slot];
    if (current === undefined || !Number.isInteger(handle.id)) throw rangeError('handle.slot', handle.slot, `a slot below ${this.#slots.length}`);
    const key = `${handle.slot}:${handle.epoch}`;
    const slot = current.epoch === handle.epoch ? current : this.#retired.get(key);
    const ready = slot?.arrived.get(handle.id);
    if (ready !== undefined) {
      slot!.arrived.delete(handle.id);
      if (slot !== current && slot!.arrived.size === 0) this.#retired.delete(key);
      return Promise.resolve(ready);
    }
    if (this.#closed) return Promise.reject(shmError('ERR_CLOSED', 'the results are closed'));
    if (slot !== current) return Promise.reject(shmError('ERR_PEER_DEAD', `result ${handle.id} of slot ${handle.slot} never arrived: its worker is gone`));
    current.channel.ref();
    return new Promise((resolve) => current.waiters.set(handle.id, resolve));
  }

  /** Closes every slot; takes still waiting end with ERR_CLOSED. */
  close(): void {
    this.#closed = true;
    this.#retired.clear();
    for (const slot of this.#slots) {
      slot.channel.close();
      for (const waiter of slot.waiters.values()) waiter(Promise.reject(shmError('ERR_CLOSED', 'the results are closed')));
      slot.waiters.clear();
    }
  }
}

// ---- the directory ----------------------------------------------------------------------

/** Per slot, in a SharedArrayBuffer: its Channel's descriptor, its epoch, the threadId holding it. */
class Directory {
  static bytes(slots: number): number {
    return 12 * slots;
  }

  readonly buffer: SharedArrayBuffer;
  readonly slots: number;
  readonly #i32: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#i32 = new Int32Array(buffer);
    this.slots = Math.floor(this.#i32.length / 3);
  }

  /** The epoch first, the descriptor last: a worker that sees the new descriptor sees its epoch. */
  publish(index: number, fd: number, epoch: number): void {
    Atomics.store(this.#i32, 3 * index + 2, 0);
    Atomics.store(this.#i32, 3 * index + 1, epoch);
    Atomics.store(this.#i32, 3 * index, fd);
  }

  fd(index: number): number {
    return Atomics.load(this.#i32, 3 * index);
  }

  epoch(index: number): number {
    return Atomics.load(this.#i32, 3 * index + 1);
  }

  lease(index: number): number {
    return Atomics.load(this.#i32, 3 * index + 2);
  }

  take(index: number, thread: number): void {
    Atomics.store(this.#i32, 3 * index + 2, thread);
  }
}

// ---- the worker side --------------------------------------------------------------------

interface Mine {
  channel: Channel;
  slot: number;
  epoch: number;
  next: number;
}
let mine: Mine | undefined;
const ID_BYTES = Buffer.alloc(4);

/** In a worker: posts `bytes` to the main thread and returns the handle to give back. */
export function sendResult(workerData: { directory: SharedArrayBuffer }, bytes: Uint8Array): ResultHandle {
  if (workerData === null || typeof workerData !== 'object' || !(workerData.directory instanceof SharedArrayBuffer)) {
    throw typeError('workerData', workerData, "SharedResults' workerData");
  }
  if (!(bytes instanceof Uint8Array)) throw typeError('bytes', bytes, 'a Uint8Array or Buffer');
  if (mine === undefined || mine.channel.closed) mine = claimSlot(new Directory(workerData.directory));
  const id = mine.next++ >>> 0;
  ID_BYTES.writeUInt32LE(id, 0);
  const { channel } = mine;
  channel.postMessage(ID_BYTES); // the raw codec copies what it must keep, so one buffer serves
  channel.postMessage(bytes);
  // In shared memory before the handle is returned: a piscina worker sleeps outside its event
  // loop between tasks, so bytes left queued for room would never be written.
  try {
    channel.flushSync();
  } catch (err) {
    // The id may be out without its bytes: this Channel cannot go on (the main thread sees
    // it close, and takes of its results end with ERR_PEER_DEAD).
    channel.close();
    mine = undefined;
    throw err;
  }
  return { slot: mine.slot, epoch: mine.epoch, id };
}

/** Codes of a slot being renewed under our feet, or taken: try the next one. */
const BUSY = new Set(['ERR_ROLE_TAKEN', 'ERR_CLOSED', 'ERR_SHM_BAD_HEADER', 'ERR_SHM_TRUNCATED', 'EBADF', 'EINVAL']);

function claimSlot(directory: Directory): Mine {
  for (let slot = 0; slot < directory.slots; slot++) {
    const fd = directory.fd(slot);
    const epoch = directory.epoch(slot);
    let channel: Channel;
    try {
      channel = Channel.connect(`fd:${fd}`, { codec: 'raw' });
    } catch (err) {
      if (BUSY.has((err as { code?: string }).code ?? '')) continue;
      throw err;
    }
    if (directory.fd(slot) !== fd || directory.epoch(slot) !== epoch) {
      channel.close(); // renewed while we joined: that descriptor may be another slot's now
      continue;
    }
    directory.take(slot, threadId);
    channel.unref();
    return { channel, slot, epoch, next: 0 };
  }
  throw shmError('ERR_ROLE_TAKEN', `all ${directory.slots} result slots are taken: create SharedResults with slots >= the pool's maxThreads`);
}
