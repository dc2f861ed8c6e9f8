// Channel: MessagePort-like messaging between two processes or threads over one shared
// segment holding an SPSC ring per direction (layout.ts). This file owns the lifecycle, the
// events and the two paths: postMessage encodes at once (so a value that cannot be cloned
// throws there), writes frames while the ring has room and queues the rest in-process; the
// receiving side reads frames from the event loop when its doorbell rings (wake.ts).
//
// Wake-up protocol, per direction: the receiver stores 1 in its `armed` word, then looks at
// the ring once more before it lets the loop sleep; the sender publishes, then swaps `armed`
// to 0 and rings only if it was 1. Both are sequentially consistent, so at least one of the
// two sees the other's store: a message is never left unnoticed. While traffic is dense the
// receiver does not arm at all: after a read that found messages it looks again on the next
// turn of the loop (setImmediate), so a busy sender rings nobody.
import { EventEmitter } from 'node:events';
import { checkOptions, closedError, shmError, typeError } from '../errors.js';
import { Segment } from '../segment/segment.js';
import { resolveCodec, type Codec } from './codec.js';
import { FRAME_HEADER, Reassembly } from './framing.js';
import { channelBytes, claimConnector, MAX_MESSAGE_LIMIT, publishReady, readShape, writeHeader, type ChannelShape } from './header.js';
import { checkCapacity, checkCount, checkWake, DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_MESSAGE, type ChannelOptions, type ConnectOptions } from './options.js';
import { ARMED, closedOffset, CONNECTOR, CREATOR, HEADER_SIZE, i32Index, i64Index, NEED_ROOM, ownerOffset, wakeOffset, type Side } from './layout.js';
import { watchPeer } from './peer-watch.js';
import { Outbox } from './outbox.js';
import { formatRing, openRing, type SpscRing } from './rings.js';
import { makeWakeup, readBell, type Bell, type Wakeup } from './wake.js';

/** Records taken from the ring before the messages they carry are emitted. */
const READ_BATCH = 64;
/** Messages read in one turn of the loop before the rest waits for the next turn. */
const READ_TURN = 4096;
/** How long process exit waits for a peer that makes no room for what is still queued. */
const EXIT_STALL_MS = 1000;

/** A record that could not become a message ('messageerror'). */
class Refused {
  constructor(readonly error: Error) {}
}
const DONE = Symbol('done');
const NONE = Symbol('none');

const openChannels = new Set<Channel>();
process.on('exit', () => {
  for (const channel of [...openChannels]) channel.closeOnExit();
});

function unlinkQuietly(address: string): void {
  try {
    Segment.unlink(address);
  } catch {
    // removed by the peer already
  }
}

/** Removes the channel at `address` if it is still the one `creator` made (not a new one by that name). */
function removeIfSame(address: string, creator: bigint): void {
  try {
    const segment = Segment.open(address);
    let same = false;
    try {
      same = segment.size >= HEADER_SIZE && Atomics.load(new BigInt64Array(segment.buffer, 0, HEADER_SIZE / 8), i64Index(ownerOffset(CREATOR))) === creator;
    } finally {
      segment.close();
    }
    if (same) unlinkQuietly(address);
  } catch {
    // gone already
  }
}

/** Whether the channel's segment has a name that must be removed once both ends are gone. */
function named(address: string): boolean {
  return !address.startsWith('fd:');
}

export class Channel extends EventEmitter implements AsyncIterable<unknown> {
  /** Names the channel for the other side: pass it to Channel.connect (a worker gets it in workerData). */
  readonly address: string;
  readonly #segment: Segment;
  readonly #side: Side;
  readonly #peer: Side;
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;
  readonly #out: SpscRing;
  readonly #in: SpscRing;
  readonly #codec: Codec;
  readonly #highWaterMark: number;
  readonly #maxMessage: number;
  readonly #outbox: Outbox;
  readonly #reassembly: Reassembly;
  readonly #wakeup: Wakeup;
  // Words of the header, as Int32Array indices.
  readonly #myArmed: number;
  readonly #myNeedRoom: number;
  readonly #peerArmed: number;
  readonly #peerNeedRoom: number;
  readonly #peerClosed: number;
  #peerBell: Bell | undefined;
  #peerIdentity = 0n;
  #unwatch: (() => void) | undefined;
  #peerDead = false;
  // Sending: 'drain' is owed once the outbox empties.
  #wantDrain = false;
  #passQueued = false;
  readonly #passTask = (): void => {
    this.#passQueued = false;
    if (!this.#closed) this.#sendQueued();
  };
  // Receiving.
  #inbox: unknown[] = [];
  #inboxHead = 0;
  #batch: unknown[] = [];
  readonly #onRecord = (view: Uint8Array): void => this.#takeRecord(view);
  #waiting: Array<(value: unknown) => void> = [];
  #hot: NodeJS.Immediate | undefined;
  readonly #hotTask = (): void => {
    this.#hot = undefined;
    this.#pump();
  };
  #pumping = false;
  #pumpAgain = false;
  // Lifecycle.
  #refed = false;
  #keepsAlive = false;
  #closing = false;
  #closed = false;
  #reason: Error | undefined;

  private constructor(segment: Segment, address: string, side: Side, shape: ChannelShape, rings: [SpscRing, SpscRing], options: ConnectOptions) {
    super();
    this.address = address;
    this.#segment = segment;
    this.#side = side;
    this.#peer = side === CREATOR ? CONNECTOR : CREATOR;
    this.#i32 = new Int32Array(segment.buffer, 0, HEADER_SIZE / 4);
    this.#i64 = new BigInt64Array(segment.buffer, 0, HEADER_SIZE / 8);
    [this.#out, this.#in] = rings;
    this.#codec = resolveCodec(options.codec);
    this.#highWaterMark = checkCount('highWaterMark', options.highWaterMark, DEFAULT_HIGH_WATER_MARK, Infinity);
    this.#maxMessage = shape.maxMessage;
    this.#outbox = new Outbox(this.#out, Math.min(this.#out.maxMessageSize - FRAME_HEADER, shape.capacity / 4));
    this.#reassembly = new Reassembly(this.#in.maxMessageSize - FRAME_HEADER, shape.maxMessage);
    const mine = wakeOffset(side);
    const theirs = wakeOffset(this.#peer);
    this.#myArmed = i32Index(mine + ARMED);
    this.#myNeedRoom = i32Index(mine + NEED_ROOM);
    this.#peerArmed = i32Index(theirs + ARMED);
    this.#peerNeedRoom = i32Index(theirs + NEED_ROOM);
    this.#peerClosed = i32Index(closedOffset(this.#peer));
    this.#wakeup = makeWakeup(this.#i32, mine, { onWake: () => this.#pump() }, checkWake(options.wake));
    openChannels.add(this);
    this.on('newListener', (event) => {
      if (event === 'message' && this.listenerCount('message') === 0) {
        this.#refed = true;
        this.#updateRef();
        queueMicrotask(() => this.#pump()); // messages kept for the first listener
      }
    });
    this.on('removeListener', (event) => {
      if (event === 'message' && this.listenerCount('message') === 0) {
        this.#refed = false;
        this.#updateRef();
      }
    });
  }

  /**
   * Makes a channel: its segment at `address` (created, exclusive; an `fd:` address or none
   * makes an anonymous memfd segment, whose `fd:N` address works in this process's threads
   * and in children that inherit the descriptor), its header and both rings.
   */
  static create(address?: string, options?: ChannelOptions): Channel {
    const o = checkOptions(options);
    const capacity = checkCapacity(o.capacity);
    const maxMessage = checkCount('maxMessageSize', o.maxMessageSize, DEFAULT_MAX_MESSAGE, MAX_MESSAGE_LIMIT);
    resolveCodec(o.codec);
    checkCount('highWaterMark', o.highWaterMark, 0, Infinity);
    checkWake(o.wake);
    if (address !== undefined && typeof address !== 'string') throw typeError('address', address, 'an address string');
    const size = channelBytes(capacity);
    const segment = address === undefined ? Segment.anonymous(size) : Segment.create(address, { size });
    const name = address ?? `fd:${segment.fd}`;
    try {
      const { i32, shape } = writeHeader(segment, capacity, maxMessage);
      const out = formatRing(segment, shape.ringA, capacity, 'producer');
      const inbound = formatRing(segment, shape.ringB, capacity, 'consumer');
      const channel = new Channel(segment, name, CREATOR, shape, [out, inbound], o);
      publishReady(i32);
      return channel;
    } catch (err) {
      segment.close();
      if (address !== undefined) {
        try {
          Segment.unlink(address);
        } catch {
          // reporting the first error
        }
      }
      throw err;
    }
  }

  /** Joins the channel another side created. ENOENT, ERR_SHM_BAD_HEADER, ERR_ROLE_TAKEN. */
  static connect(address: string, options?: ConnectOptions): Channel {
    const o = checkOptions(options);
    if (typeof address !== 'string') throw typeError('address', address, 'an address string');
    resolveCodec(o.codec);
    checkCount('highWaterMark', o.highWaterMark, 0, Infinity);
    checkWake(o.wake);
    const segment = Segment.open(address);
    try {
      const shape = readShape(segment, address);
      claimConnector(segment);
      const inbound = openRing(segment, shape.ringA, shape.capacity, 'consumer');
      const out = openRing(segment, shape.ringB, shape.capacity, 'producer');
      const channel = new Channel(segment, address, CONNECTOR, shape, [out, inbound], o);
      channel.#learnPeer();
      channel.#peerBell?.ring(); // the creator learns who joined, and starts watching it
      queueMicrotask(() => channel.#pump()); // the creator may have closed or written already
      return channel;
    } catch (err) {
      segment.close();
      throw err;
    }
  }

  // ---- sending ---------------------------------------------------------------------------

  /**
   * Sends a copy of `value`. Never blocks: what does not fit the ring now waits in this
   * process, in order. Returns false while that queue holds highWaterMark bytes or more;
   * 'drain' follows once it is empty. Throws a DataCloneError for a value the codec cannot
   * carry (nothing is sent), ERR_MESSAGE_TOO_LARGE, or ERR_CLOSED after close().
   */
  postMessage(value: unknown): boolean {
    if (this.#closing) throw closedError('channel');
    const bytes = this.#codec.encode(value);
    if (!(bytes instanceof Uint8Array)) throw typeError('encoded message', bytes, 'a Uint8Array from the codec');
    if (bytes.length > this.#maxMessage) {
      throw shmError('ERR_MESSAGE_TOO_LARGE', `a message of ${bytes.length} bytes exceeds this channel's maximum of ${this.#maxMessage}`);
    }
    const wasEmpty = this.#outbox.empty;
    const written = this.#outbox.send(bytes, this.#codec.fresh === true);
    if (!this.#passQueued) {
      this.#passQueued = true;
      queueMicrotask(this.#passTask);
    }
    if (written) return this.#outbox.queuedBytes < this.#highWaterMark;
    if (wasEmpty) {
      this.#endPass(); // the ring is full: let the peer start on what is there
      this.#updateRef(); // queued messages keep the process alive until written
    }
    if (this.#outbox.queuedBytes < this.#highWaterMark) return true;
    this.#wantDrain = true;
    return false;
  }

  /**
   * Calls `callback` once every message posted so far is in shared memory (on the next tick
   * if they all are now), or with the reason if the channel ends before they could be.
   */
  afterWritten(callback: (error?: Error) => void): void {
    this.#outbox.afterWritten(callback);
  }

  /** Bytes waiting in this process for room in the ring; stale as soon as the peer reads. */
  get queuedBytes(): number {
    return this.#outbox.queuedBytes;
  }

  /** Writes queued messages while they fit, then publishes; asks the peer for room if some remain. */
  #sendQueued(): void {
    for (;;) {
      const done = this.#outbox.writeQueued();
      this.#endPass();
      if (done) break;
      // Full: announce it, then look once more (the peer may have freed room before it
      // could see the announcement).
      Atomics.store(this.#i32, this.#myNeedRoom, 1);
      const before = this.#outbox.queuedBytes;
      if (!this.#outbox.writeQueued() && this.#outbox.queuedBytes === before) {
        this.#endPass();
        return;
      }
    }
    this.#updateRef();
    if (this.#closing) {
      this.#finish(undefined);
      return;
    }
    if (this.#wantDrain) {
      this.#wantDrain = false;
      this.emit('drain');
    }
  }

  /**
   * The end of a pass of writes: publishes them and rings the peer if it sleeps.
   * (Where the ring layer offers cork()/uncork(), a pass is a corked stretch.)
   */
  #endPass(): void {
    this.#out.flush();
    if (Atomics.load(this.#i32, this.#peerArmed) !== 0 && Atomics.exchange(this.#i32, this.#peerArmed, 0) === 1) this.#ringPeer();
  }

  #ringPeer(): void {
    this.#peerBell ??= readBell(this.#i32, wakeOffset(this.#peer));
    this.#peerBell?.ring();
  }

  // ---- receiving -------------------------------------------------------------------------

  /** Whether anyone takes messages now: a 'message' listener or a waiting async iterator. */
  #reading(): boolean {
    return !this.#closing && (this.#waiting.length > 0 || this.listenerCount('message') > 0);
  }

  /** Looks at everything: who joined, incoming messages, room for queued ones, the peer's close. */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        this.#pumpOnce();
      } while (this.#pumpAgain && !this.#closed);
    } finally {
      this.#pumping = false;
    }
  }

  #pumpOnce(): void {
    if (this.#closed) return;
    if (this.#peerIdentity === 0n) this.#learnPeer();
    this.#deliverInbox();
    const got = this.#reading() ? this.#receive(READ_TURN, false) : 0;
    if (this.#closed) return;
    if (!this.#outbox.empty) this.#sendQueued();
    if (this.#closed) return;
    if (Atomics.load(this.#i32, this.#peerClosed) !== 0) {
      // The peer published everything before its flag: take it all, then end.
      this.#receive(Infinity, true);
      this.#finish(undefined);
      return;
    }
    if (!this.#reading()) return;
    if (got > 0) {
      this.#stayHot();
      return;
    }
    Atomics.store(this.#i32, this.#myArmed, 1);
    // Armed, then one more look: a sender that published before it could see `armed` is
    // found here (see the protocol at the top of this file).
    if (this.#in.usedBytes !== 0 || Atomics.load(this.#i32, this.#peerClosed) !== 0) {
      Atomics.store(this.#i32, this.#myArmed, 0);
      this.#stayHot();
    }
  }

  #stayHot(): void {
    if (this.#hot !== undefined) return;
    // Ref'd even on an unref'd channel: an unref'd immediate does not stop the loop from
    // blocking in poll, so it would run only when something else woke the loop. It holds
    // the process for one turn at most.
    this.#hot = setImmediate(this.#hotTask);
  }

  /**
   * Reads up to `limit` messages and delivers each (or keeps it, with `all`, when nobody
   * reads); returns how many. A ring that breaks its invariants ends the channel.
   */
  #receive(limit: number, all: boolean): number {
    let count = 0;
    while (count < limit && (all || this.#reading())) {
      const batch = this.#batch;
      let records: number;
      try {
        records = this.#in.drain(this.#onRecord, READ_BATCH);
      } catch (err) {
        this.#finish(err as Error);
        return count;
      }
      if (records === 0) break;
      if (Atomics.load(this.#i32, this.#peerNeedRoom) !== 0 && Atomics.exchange(this.#i32, this.#peerNeedRoom, 0) === 1) this.#ringPeer();
      this.#batch = [];
      let i = 0;
      try {
        for (; i < batch.length; i++) {
          const item = batch[i];
          if (item instanceof Refused) this.emit('messageerror', item.error);
          else this.#deliver(item);
        }
      } finally {
        // A listener threw (an uncaught exception on its way): the rest of the batch is
        // already out of the ring, so it is kept for the next turn rather than lost.
        if (i < batch.length - 1) {
          this.#inbox = [...batch.slice(i + 1), ...this.#inbox.slice(this.#inboxHead)];
          this.#inboxHead = 0;
          queueMicrotask(() => this.#pump());
        }
      }
      count += batch.length;
    }
    return count;
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
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) {
      waiter(message);
      this.#updateRef();
    } else if (!this.#closing && this.listenerCount('message') > 0 && this.#inboxHead === this.#inbox.length) {
      this.emit('message', message);
    } else {
      this.#inbox.push(message);
    }
  }

  /** Hands kept messages to whoever reads now. */
  #deliverInbox(): void {
    while (this.#inboxHead < this.#inbox.length && this.#reading()) {
      const message = this.#inbox[this.#inboxHead];
      this.#inbox[this.#inboxHead++] = undefined;
      if (message instanceof Refused) {
        this.emit('messageerror', message.error);
        continue;
      }
      const waiter = this.#waiting.shift();
      if (waiter !== undefined) waiter(message);
      else this.emit('message', message);
    }
    if (this.#inboxHead === this.#inbox.length) {
      this.#inbox = [];
      this.#inboxHead = 0;
    }
  }

  #takeKept(): unknown {
    while (this.#inboxHead < this.#inbox.length) {
      const message = this.#inbox[this.#inboxHead];
      this.#inbox[this.#inboxHead++] = undefined;
      if (!(message instanceof Refused)) return message;
      this.emit('messageerror', message.error);
    }
    return NONE;
  }

  /**
   * The next message, taken now, or undefined if none has arrived (as
   * worker_threads.receiveMessageOnPort). Never blocks; emits 'messageerror' for a corrupt
   * record it passes.
   */
  receiveMessage(): { message: unknown } | undefined {
    const kept = this.#takeKept();
    if (kept !== NONE) return { message: kept };
    if (this.#closed) return undefined;
    for (;;) {
      const batch = this.#batch;
      let records: number;
      try {
        records = this.#in.drain(this.#onRecord, 1);
      } catch (err) {
        this.#finish(err as Error);
        return undefined;
      }
      if (records === 0) return undefined;
      if (Atomics.load(this.#i32, this.#peerNeedRoom) !== 0 && Atomics.exchange(this.#i32, this.#peerNeedRoom, 0) === 1) this.#ringPeer();
      if (batch.length === 0) continue; // a piece of a larger message
      this.#batch = [];
      const item = batch[0];
      if (item instanceof Refused) {
        this.emit('messageerror', item.error);
        continue;
      }
      return { message: item };
    }
  }

  /** Messages until the channel closes; an error close (ERR_PEER_DEAD, ...) is thrown. */
  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    for (;;) {
      const kept = this.#takeKept();
      if (kept !== NONE) {
        yield kept;
        continue;
      }
      if (this.#closed) {
        if (this.#reason !== undefined) throw this.#reason;
        return;
      }
      const next = await new Promise<unknown>((resolve) => {
        this.#waiting.push(resolve);
        this.#updateRef();
        queueMicrotask(() => this.#pump());
      });
      if (next === DONE) continue;
      yield next;
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------

  #learnPeer(): void {
    const identity = Atomics.load(this.#i64, i64Index(ownerOffset(this.#peer)));
    if (identity === 0n) return;
    this.#peerIdentity = identity;
    this.#peerBell ??= readBell(this.#i32, wakeOffset(this.#peer));
    this.#unwatch = watchPeer(identity, () => this.#onPeerDead());
  }

  #onPeerDead(): void {
    if (this.#closed) return;
    this.#peerDead = true;
    this.#receive(Infinity, true); // everything it published comes first
    // A peer that closed before it exited closed gracefully, whichever of its doorbell ring
    // and its pidfd this loop happens to see first.
    const graceful = Atomics.load(this.#i32, this.#peerClosed) !== 0;
    this.#finish(graceful ? undefined : shmError('ERR_PEER_DEAD', `the other end of channel ${this.address} died`));
  }

  /** Keep the process alive while this channel waits for messages (as MessagePort.ref). */
  ref(): this {
    this.#refed = true;
    this.#updateRef();
    return this;
  }

  /** Let the process exit even while this channel waits (queued messages still hold it). */
  unref(): this {
    this.#refed = false;
    this.#updateRef();
    return this;
  }

  /** Whether this channel keeps the event loop alive now. */
  hasRef(): boolean {
    return this.#keepsAlive;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #updateRef(): void {
    const want = !this.#closed && (this.#refed || this.#waiting.length > 0 || !this.#outbox.empty);
    if (want === this.#keepsAlive) return;
    this.#keepsAlive = want;
    this.#wakeup.ref(want);
  }

  /**
   * Closes this end: no more messages are delivered here, postMessage throws ERR_CLOSED,
   * what is still queued is written first (as room appears), then the peer sees 'close'.
   * Idempotent; 'close' is emitted on this side too.
   */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    for (const waiter of this.#waiting.splice(0)) waiter(DONE);
    if (this.#outbox.empty || this.#peerDead || Atomics.load(this.#i32, this.#peerClosed) !== 0) this.#finish(undefined);
    else this.#updateRef();
  }

  /** At process exit: writes what is queued (while the peer makes room, see EXIT_STALL_MS), then closes. */
  closeOnExit(): void {
    if (this.#closed) return;
    try {
      if (!this.#peerDead) this.#outbox.writeAllBlocking(EXIT_STALL_MS, () => this.#endPass());
    } catch {
      // the peer did not make room in time, or died: what is left is lost with this process
    }
    this.#finish(undefined);
  }

  /** Ends this side: publishes, marks it closed, tells the peer, removes the segment if the peer is gone. */
  #finish(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#reason = reason;
    openChannels.delete(this);
    if (this.#hot !== undefined) clearImmediate(this.#hot);
    this.#hot = undefined;
    this.#updateRef();
    this.#wakeup.close();
    this.#unwatch?.();
    let peerGone = true;
    let creator = 0n;
    try {
      creator = Atomics.load(this.#i64, i64Index(ownerOffset(CREATOR)));
      this.#out.flush();
      Atomics.store(this.#i32, i32Index(closedOffset(this.#side)), 1);
      // Closed flag first, then the peer's: of two sides closing at once, at least one sees
      // both flags and removes the segment.
      peerGone = this.#peerDead || Atomics.load(this.#i32, this.#peerClosed) !== 0 || Atomics.load(this.#i64, i64Index(ownerOffset(this.#peer))) === 0n;
      if (!peerGone) this.#ringPeer();
    } catch {
      // a broken segment: nothing more to tell the peer
    }
    for (const waiter of this.#waiting.splice(0)) waiter(DONE);
    this.#outbox.endWritten(reason ?? closedError('channel'));
    try {
      this.#out.close();
      this.#in.close();
    } finally {
      this.#segment.close();
      if (named(this.address)) {
        if (peerGone) unlinkQuietly(this.address);
        // The peer lives on: it removes the segment when it closes, and if it is killed
        // first, this process (while it lives) removes it when the peer's pidfd says so.
        else if (this.#peerIdentity !== 0n) watchPeer(this.#peerIdentity, () => removeIfSame(this.address, creator));
      }
    }
    process.nextTick(() => (reason === undefined ? this.emit('close') : this.emit('close', reason)));
  }
}
