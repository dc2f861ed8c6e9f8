// Channel: MessagePort-like messaging between two processes or threads over one shared
// segment holding an SPSC ring per direction (layout.ts, endpoints.ts). This file is the
// façade: events, references, lifecycle, and the loop's look at everything (pump). The
// sending half is outbound.ts, the receiving half inbound.ts, the wire framing.ts, and the
// wake-up protocol between the two ends signals.ts and wake.ts.
//
// Node's order of events: messages are handed out one at a time, and a listener that
// throws holds back nothing (its error goes on to 'uncaughtException', as it would from
// Node's IPC, and the next message comes on the next turn of the loop). A reader never
// keeps the loop longer than one turn's budget (TURN_MESSAGES or TURN_MS, whichever ends
// first), whether it listens, iterates or streams.
import { EventEmitter } from 'node:events';
import { checkInteger, checkOptions, closedError, shmError } from '../errors.js';
import { codecIdentity, rawCodec, resolveCodec, type Codec } from './codec.js';
import { joinEndpoint, leaveEndpoint, makeEndpoint, type Endpoint } from './endpoints.js';
import { Reassembly } from './framing.js';
import { checkSchema, MAX_MESSAGE_LIMIT, writeSchemaHash } from './header.js';
import { Inbound, NOTHING, Refused } from './inbound.js';
import { checkCapacity, checkConnectOptions, checkCount, checkWake, DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_MESSAGE, type ChannelOptions, type ConnectOptions } from './options.js';
import { CONNECTOR, CREATOR, HEADER_SIZE, i64Index, ownerOffset, wakeOffset, type Side } from './layout.js';
import { Outbound, type ChannelClaim } from './outbound.js';
import { watchPeer } from './peer-watch.js';
import { Signals } from './signals.js';
import { transferList } from './transfer.js';
import { makeWakeup, type Wakeup } from './wake.js';
import { isZmqAddress, type ZmqAddress } from './zmq/address.js';
import { ZmqChannel } from './zmq/channel.js';
import type { ZmqChannelOptions } from './zmq/options.js';

export type { ChannelClaim } from './outbound.js';

/** Messages handed out in one turn of the loop before the rest waits for the next turn. */
const TURN_MESSAGES = 4096;
/** Milliseconds of handing out in one turn before the rest waits (checked every 64 messages). */
const TURN_MS = 4;
/** How often a created channel nobody has joined yet looks at the connector word (see #awaitJoin). */
const JOIN_CHECK_MS = 100;
/** How long process exit waits for a peer that makes no room for what is still queued. */
const EXIT_STALL_MS = 1000;

/** What a waiting async iterator gets when the channel ends instead of a message. */
const DONE = Symbol('done');

const openChannels = new Set<Channel>();
process.on('exit', () => {
  for (const channel of [...openChannels]) closeOnExitOf(channel);
});

function rethrow(error: unknown): never {
  throw error;
}

let postKeptOf: (channel: Channel<unknown, unknown>, value: unknown) => boolean;
let closeOnExitOf: (channel: Channel<unknown, unknown>) => void;

/**
 * postMessage of a value whose bytes the caller leaves alone until they are written, as a
 * Writable's chunk belongs to the stream until then (net.Socket keeps it the same way): a
 * message that waits for room is queued without a copy. For streams.ts; not a method, so
 * that the public class does not show it.
 */
export function postKept(channel: Channel<unknown, unknown>, value: unknown): boolean {
  return postKeptOf(channel, value);
}

/** The events of a Channel whose messages are of type `T`: a misspelt event name does not compile. */
export interface ChannelEvents<T> {
  /** A message from the peer, in the order it was sent. */
  message: [value: T];
  /** A record that could not become a message (not a valid frame, above maxMessageSize, not decodable: ERR_BAD_MESSAGE); the channel goes on. */
  messageerror: [error: Error];
  /** The channel ended: no argument when either side closed it; the reason (ERR_PEER_DEAD, ERR_SHM_BAD_HEADER) otherwise. */
  close: [reason?: Error];
  /** The send queue emptied after postMessage() returned false. */
  drain: [];
  error: [error: Error];
  newListener: [eventName: string | symbol, listener: (...args: any[]) => void];
  removeListener: [eventName: string | symbol, listener: (...args: any[]) => void];
}

/**
 * MessagePort-like messaging between two processes (or threads) over shared memory. `TReceive`
 * is the type of the messages this side receives, `TSend` of those it posts (by default the
 * same): types for the reader of the code only; nothing checks them at run time.
 */
export class Channel<TReceive = unknown, TSend = TReceive> extends EventEmitter<ChannelEvents<TReceive>> implements AsyncIterable<TReceive> {
  static {
    postKeptOf = (channel, value) => channel.#post(value, undefined, true);
    closeOnExitOf = (channel) => channel.#closeOnExit();
  }

  // A connector rings the creator right after it takes its place in the header; one killed
  // between the two would never be learned of (no 'close', the segment never removed). So
  // while nobody has joined, one unref'd timer of this thread looks at the connector word.
  static readonly #unjoined = new Set<Channel>();
  static #joinTimer: NodeJS.Timeout | undefined;

  static #lookForJoins(): void {
    for (const channel of Channel.#unjoined) {
      if (Atomics.load(channel.#i64, i64Index(ownerOffset(channel.#peer))) !== 0n) channel.#onWake();
    }
  }

  #awaitJoin(on: boolean): void {
    const unjoined = Channel.#unjoined;
    if (on) unjoined.add(this);
    else unjoined.delete(this);
    if (unjoined.size > 0) Channel.#joinTimer ??= setInterval(() => Channel.#lookForJoins(), JOIN_CHECK_MS).unref();
    else if (Channel.#joinTimer !== undefined) {
      clearInterval(Channel.#joinTimer);
      Channel.#joinTimer = undefined;
    }
  }

  /** Names the channel for the other side: pass it to Channel.connect (a worker gets it in workerData). */
  readonly address: string;
  readonly #end: Endpoint;
  readonly #peer: Side;
  readonly #i64: BigInt64Array;
  readonly #codec: Codec;
  readonly #in: Inbound;
  readonly #out: Outbound;
  readonly #signals: Signals;
  readonly #wakeup: Wakeup;
  #peerIdentity = 0n;
  #unwatch: (() => void) | undefined;
  #peerDead = false;
  /** The peer closed or died: what it published is handed out, then the channel ends with `reason`. */
  #ending: { reason: Error | undefined } | undefined;
  // Receiving.
  #listeners = 0;
  readonly #waiting: Array<(value: unknown) => void> = [];
  #budget = TURN_MESSAGES;
  #turnStart = 0;
  // The loop looks again on its next turn while traffic is dense or a turn's budget ran out
  // (an immediate, ref'd even on an unref'd channel: an unref'd one does not stop the loop
  // from blocking in poll, so it would run only when something else woke the loop).
  #hot: NodeJS.Immediate | undefined;
  readonly #hotTask = (): void => {
    this.#hot = undefined;
    this.#newTurn();
    this.#pump();
  };
  readonly #pokeTask = (): void => this.#pump();
  /** The doorbell (or the futex waiter) rang: a new turn of the loop. */
  readonly #onWake = (): void => {
    this.#newTurn();
    this.#pump();
  };
  #pumping = false;
  #pumpAgain = false;
  // Lifecycle.
  #refed = false;
  #keepsAlive = false;
  #closing = false;
  /** close() was called here (not the peer's end): nothing more is handed out, kept or not. */
  #closedHere = false;
  #closed = false;
  #reason: Error | undefined;

  private constructor(end: Endpoint, side: Side, options: ConnectOptions & { maxMessageSize?: number }) {
    super();
    const { segment, shape, rings: [out, inbound] } = end;
    this.address = end.address;
    this.#end = end;
    this.#peer = side === CREATOR ? CONNECTOR : CREATOR;
    const i32 = new Int32Array(segment.buffer, 0, HEADER_SIZE / 4);
    this.#i64 = new BigInt64Array(segment.buffer, 0, HEADER_SIZE / 8);
    this.#codec = resolveCodec(options.codec);
    const highWaterMark = checkCount('highWaterMark', options.highWaterMark, DEFAULT_HIGH_WATER_MARK, Infinity);
    // A record carries at most a quarter of the ring, so that a large message never waits for the whole ring to empty.
    const pieceMax = Math.min(out.maxMessageSize, shape.capacity / 4);
    this.#signals = new Signals(i32, side, this.#peer);
    this.#out = new Outbound(out, this.#codec, this.#signals, { pieceMax, maxMessage: shape.maxMessage, highWaterMark });
    // This side accepts messages up to its own limit, if it set a lower one than the channel's.
    const accept = Math.min(shape.maxMessage, options.maxMessageSize ?? Infinity);
    this.#in = new Inbound(inbound, this.#codec, new Reassembly(pieceMax, accept), this.#signals);
    this.#wakeup = makeWakeup(i32, wakeOffset(side), { onWake: this.#onWake }, checkWake(options.wake));
    openChannels.add(this);
    // A 'message' listener refs the channel, as on a MessagePort; the first one gets the messages that waited.
    this.on('newListener', (event) => event === 'message' && this.#listenerAdded());
    this.on('removeListener', (event) => event === 'message' && this.#listenerRemoved());
  }

  /** A `tcp://` or `ipc://` address: the same Channel over ZeroMQ (zeromq.js, an optional peer), bound here. */
  static create<TReceive = unknown, TSend = TReceive>(address: ZmqAddress, options?: ZmqChannelOptions): ZmqChannel<TReceive, TSend>;
  /** With a typed codec (a `struct()` schema): messages of its type both ways. */
  static create<T>(address: string | undefined, options: ChannelOptions & { codec: Codec<T> }): Channel<T, T>;
  /** With codec 'raw': Uint8Arrays both ways. */
  static create(address: string | undefined, options: ChannelOptions & { codec: 'raw' }): Channel<Uint8Array, Uint8Array>;
  /**
   * Makes a channel: its segment at `address` (created, exclusive; an `fd:` address or none
   * makes an anonymous memfd segment, whose `fd:N` address works in this process's threads
   * and in children that inherit the descriptor), its header and both rings. (A `tcp://` or
   * `ipc://` value in a variable typed `string` makes a ZmqChannel at run time, which has no
   * claim(), afterWritten() or flushSync(): type such an address as ZmqAddress.)
   */
  static create<TReceive = unknown, TSend = TReceive>(address?: string, options?: ChannelOptions): Channel<TReceive, TSend>;
  static create(address?: string, options?: ChannelOptions | ZmqChannelOptions): Channel | ZmqChannel {
    if (isZmqAddress(address)) return ZmqChannel.create(address, options as ZmqChannelOptions); // tcp://, ipc://: over ZeroMQ
    const o = checkOptions(options as ChannelOptions | undefined);
    const capacity = checkCapacity(o.capacity);
    const maxMessage = checkCount('maxMessageSize', o.maxMessageSize, DEFAULT_MAX_MESSAGE, MAX_MESSAGE_LIMIT);
    checkConnectOptions(o);
    return makeEndpoint(address, capacity, maxMessage, (end) => {
      const channel = new Channel(end, CREATOR, o);
      writeSchemaHash(end.segment, channel.#codec.identity); // (before READY)
      channel.#awaitJoin(true);
      return channel;
    });
  }

  /** A `tcp://` or `ipc://` address: connects to a Channel over ZeroMQ another side created. */
  static connect<TReceive = unknown, TSend = TReceive>(address: ZmqAddress, options?: ZmqChannelOptions): ZmqChannel<TReceive, TSend>;
  /** With a typed codec (a `struct()` schema): messages of its type both ways. */
  static connect<T>(address: string, options: ConnectOptions & { codec: Codec<T> }): Channel<T, T>;
  /** With codec 'raw': Uint8Arrays both ways. */
  static connect(address: string, options: ConnectOptions & { codec: 'raw' }): Channel<Uint8Array, Uint8Array>;
  /** Joins the channel another side created. ENOENT, ERR_SHM_BAD_HEADER, ERR_ROLE_TAKEN, ERR_SCHEMA_MISMATCH. */
  static connect<TReceive = unknown, TSend = TReceive>(address: string, options?: ConnectOptions): Channel<TReceive, TSend>;
  static connect(address: string, options?: ConnectOptions | ZmqChannelOptions): Channel | ZmqChannel {
    if (isZmqAddress(address)) return ZmqChannel.connect(address, options as ZmqChannelOptions); // tcp://, ipc://: over ZeroMQ
    const o = checkOptions(options as ConnectOptions | undefined);
    checkConnectOptions(o);
    // Both ends have the same schema or none: checked in the header before this side takes
    // the connector's place, so a refused connector never holds it.
    const identity = codecIdentity(o.codec);
    return joinEndpoint(
      address,
      (end) => {
        const channel = new Channel(end, CONNECTOR, o);
        channel.#learnPeer();
        channel.#signals.ring(); // the creator learns who joined, and starts watching it
        queueMicrotask(channel.#pokeTask); // the creator may have closed or written already
        return channel;
      },
      (segment) => checkSchema(segment, address, identity),
    );
  }

  // ---- sending ---------------------------------------------------------------------------

  /**
   * Sends a copy of `value`, as MessagePort.postMessage: `transfer` (an array of
   * ArrayBuffers, or `{ transfer }`) lists buffers this side gives up; they are detached, and
   * one the message's bytes view is sent without a copy of its own. Never blocks: what does
   * not fit the ring now waits in this process, in order. Returns false while that queue
   * holds highWaterMark bytes or more; 'drain' follows once it is empty. Throws a
   * DataCloneError for a value the codec cannot carry (nothing is sent),
   * ERR_MESSAGE_TOO_LARGE, or ERR_CLOSED after close().
   */
  postMessage(value: TSend, transfer?: readonly ArrayBufferLike[] | { transfer?: readonly ArrayBufferLike[] }): boolean {
    return this.#post(value, transfer === undefined ? undefined : transferList(transfer), false);
  }

  #post(value: unknown, transfer: ArrayBuffer[] | undefined, kept: boolean): boolean {
    if (this.#closing) throw closedError('channel');
    const below = this.#out.post(value, transfer, kept);
    if (!this.#keepsAlive && !this.#out.empty) this.#updateRef(); // queued messages keep the process alive until written
    return below;
  }

  /**
   * Zero-copy send of `length` bytes (codec 'raw'): fill `claim.bytes`, then `commit()` sends
   * them as one message (the peer gets a Uint8Array) or `abort()` drops them. The bytes are
   * ring memory when the message fits one record and the ring has room now; otherwise a
   * buffer of this process's own, copied into the ring once as room appears. Until the claim
   * ends, postMessage() and another claim() throw ERR_CLAIM_PENDING.
   */
  claim(length: number): ChannelClaim {
    if (this.#closing) throw closedError('channel');
    if (this.#codec !== rawCodec) throw shmError('ERR_NOT_SUPPORTED', "claim() sends bytes as they are: it needs a channel with codec 'raw'");
    checkInteger('length', length, 1, MAX_MESSAGE_LIMIT);
    const claim = this.#out.claim(length);
    return {
      bytes: claim.bytes,
      commit: () => {
        if (this.#closing) {
          claim.abort();
          throw closedError('channel');
        }
        const below = claim.commit();
        if (!this.#keepsAlive && !this.#out.empty) this.#updateRef();
        return below;
      },
      abort: () => claim.abort(),
    };
  }

  /** `callback()` once every message posted so far is in shared memory; `callback(reason)` if the channel ends first. */
  afterWritten(callback: (error?: Error) => void): void {
    this.#out.afterWritten(callback);
  }

  /** Blocks until every message posted so far is in shared memory and published (Outbound.flushSync). */
  flushSync(timeoutMs = 30_000): void {
    if (this.#closed) throw closedError('channel');
    this.#out.flushSync(timeoutMs);
    this.#queueDone();
  }

  /** Bytes waiting in this process for room in the ring; stale as soon as the peer reads. */
  get queuedBytes(): number {
    return this.#out.queuedBytes;
  }

  /** Writes what waits for room; once the queue is empty: the ref may drop, 'drain' is owed, a close may end. */
  #sendQueued(): void {
    let done: boolean;
    try {
      done = this.#out.sendQueued();
    } catch (err) {
      this.#finish(err as Error); // the ring broke (ERR_SHM_TRUNCATED): not a listener's error
      return;
    }
    if (done) this.#queueDone();
  }

  #queueDone(): void {
    if (!this.#out.empty) return;
    this.#updateRef();
    if (this.#closing) this.#finish(undefined);
    else if (this.#out.takeDrain()) this.emit('drain');
  }

  // ---- receiving -------------------------------------------------------------------------

  /** A new turn of the loop (a wake-up or the hot immediate): the reading budget starts over. */
  #newTurn(): void {
    this.#budget = TURN_MESSAGES;
    this.#turnStart = performance.now();
  }

  /** Looks at everything: who joined, room for queued messages, incoming messages, the peer's end. */
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
    } catch (error) {
      // A listener threw: the messages after its own wait for the next turn, and its error
      // goes on to 'uncaughtException' as it would from a listener of Node's IPC.
      if (!this.#closed) this.#stayHot();
      process.nextTick(rethrow, error);
    } finally {
      this.#pumping = false;
    }
  }

  #pumpOnce(): void {
    if (this.#closed) return;
    if (this.#peerIdentity === 0n) this.#learnPeer();
    if (!this.#out.empty) this.#sendQueued();
    if (this.#closed) return;
    if (this.#ending === undefined && this.#signals.peerClosed) {
      // The peer published everything before its flag: read that much, then end.
      this.#ending = { reason: undefined };
      this.#in.endAtUsed();
    }
    const delivered = this.#deliver();
    if (this.#closed) return;
    if (this.#budget <= 0) {
      this.#stayHot(); // the rest on the next turn
      return;
    }
    if (this.#ending !== undefined) {
      if (delivered > 0 && this.#reading()) {
        this.#stayHot();
        return;
      }
      this.#in.keepAllAndDetach(); // for takes after the end: nobody reads now
      this.#finish(this.#ending.reason);
      return;
    }
    if (!this.#reading()) return; // nobody reads: messages stay in the ring
    if (delivered > 0) {
      this.#stayHot();
      return;
    }
    this.#signals.arm();
    // Armed, then one more look: a sender that published before it could see `armed` is
    // found here (signals.ts).
    if (this.#in.usedBytes !== 0 || this.#signals.peerClosed) {
      this.#signals.disarm();
      this.#stayHot();
    }
  }

  /** Whether anyone takes messages now: a 'message' listener or a waiting async iterator. */
  #reading(): boolean {
    return !this.#closing && (this.#listeners > 0 || this.#waiting.length > 0);
  }

  /** Whether this turn may hand out one more message (counted by the caller); false once its budget is spent. */
  #mayHandOut(): boolean {
    if (this.#budget <= 0) return false;
    if ((this.#budget & 63) === 0 && performance.now() - this.#turnStart > TURN_MS) {
      this.#budget = 0;
      return false;
    }
    return true;
  }

  /** Hands messages to readers while the turn's budget lasts; how many. A listener's throw passes through. */
  #deliver(): number {
    let n = 0;
    while (this.#reading() && this.#mayHandOut()) {
      let message: unknown;
      try {
        message = this.#in.take();
      } catch (err) {
        this.#finish(err as Error); // the ring broke its invariants
        break;
      }
      if (message === NOTHING) break;
      this.#budget--;
      n++;
      if (message instanceof Refused) {
        this.emit('messageerror', message.error);
        continue;
      }
      const waiter = this.#waiting.shift();
      if (waiter === undefined) this.emit('message', message as TReceive);
      else {
        waiter(message);
        if (this.#waiting.length === 0) this.#updateRef();
      }
    }
    return n;
  }

  #stayHot(): void {
    this.#hot ??= setImmediate(this.#hotTask);
  }

  /**
   * The next message, taken now, or undefined if none has arrived (as
   * worker_threads.receiveMessageOnPort). Never blocks; emits 'messageerror' for a corrupt
   * record it passes.
   */
  receiveMessage(): { message: TReceive } | undefined {
    if (this.#closedHere) return undefined;
    for (;;) {
      let message: unknown;
      try {
        message = this.#in.take();
      } catch (err) {
        this.#finish(err as Error);
        return undefined;
      }
      if (message === NOTHING) return undefined;
      if (!(message instanceof Refused)) return { message: message as TReceive };
      this.emit('messageerror', message.error);
    }
  }

  /** Messages until the channel closes; an error close (ERR_PEER_DEAD, ...) is thrown. */
  async *[Symbol.asyncIterator](): AsyncIterator<TReceive> {
    for (;;) {
      // Within the turn's budget, a message that is there now is taken now; else the pump
      // hands it over (on a later turn once the budget is spent). After the end, what was
      // kept is taken until none is left.
      if (this.#closedHere) return; // close() on this side: no more messages here
      if (this.#closed || (!this.#closing && this.#mayHandOut())) {
        const now = this.receiveMessage();
        if (now !== undefined) {
          this.#budget--;
          yield now.message;
          continue;
        }
      }
      if (this.#closed) {
        if (this.#reason !== undefined) throw this.#reason;
        return;
      }
      const next = await new Promise<unknown>((resolve) => {
        this.#waiting.push(resolve);
        this.#updateRef();
        queueMicrotask(this.#pokeTask);
      });
      if (next !== DONE) yield next as TReceive;
    }
  }

  #endWaiting(): void {
    for (const waiter of this.#waiting.splice(0)) waiter(DONE);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  #learnPeer(): void {
    const identity = Atomics.load(this.#i64, i64Index(ownerOffset(this.#peer)));
    if (identity === 0n) return;
    this.#peerIdentity = identity;
    this.#awaitJoin(false);
    this.#signals.learnBell();
    this.#unwatch = watchPeer(identity, () => this.#onPeerDead());
  }

  #headerPeer(): bigint {
    try {
      return Atomics.load(this.#i64, i64Index(ownerOffset(this.#peer)));
    } catch {
      return 0n;
    }
  }

  #onPeerDead(): void {
    if (this.#closed) return;
    this.#peerDead = true;
    if (this.#ending === undefined) {
      // A peer that closed before it exited closed gracefully, whichever of its doorbell ring
      // and its pidfd this loop happens to see first.
      this.#ending = { reason: this.#signals.peerClosed ? undefined : shmError('ERR_PEER_DEAD', `the other end of channel ${this.address} died`) };
      this.#in.endAtUsed();
    }
    this.#onWake(); // everything it published comes first
  }

  #listenerAdded(): void {
    if (this.#listeners++ === 0) {
      this.#refed = true;
      this.#updateRef();
      queueMicrotask(this.#pokeTask);
    }
  }

  #listenerRemoved(): void {
    if (--this.#listeners === 0) {
      this.#refed = false;
      this.#updateRef();
    }
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
    const want = !this.#closed && (this.#refed || this.#waiting.length > 0 || !this.#out.empty);
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
    this.#closedHere = true;
    this.#endWaiting();
    if (this.#out.empty || this.#peerDead || this.#signals.peerClosed) this.#finish(undefined);
    else this.#updateRef();
  }

  /** At process exit: writes what is queued (while the peer makes room, see EXIT_STALL_MS), then closes. */
  #closeOnExit(): void {
    if (this.#closed) return;
    if (!this.#peerDead) this.#out.writeAllAtExit(EXIT_STALL_MS);
    this.#finish(undefined);
  }

  /** Ends this side: publishes, marks it closed, tells the peer, removes the segment if the peer is gone. */
  #finish(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#reason = reason;
    openChannels.delete(this);
    this.#awaitJoin(false);
    if (this.#hot !== undefined) clearImmediate(this.#hot);
    this.#hot = undefined;
    this.#updateRef();
    this.#wakeup.close();
    this.#unwatch?.();
    this.#in.detach();
    let peerGone = true;
    try {
      this.#end.rings[0].flush();
      this.#signals.markClosed();
      // Closed flag first, then the peer's: of two sides closing at once, at least one sees
      // both flags and removes the segment.
      peerGone = this.#peerDead || this.#signals.peerClosed || Atomics.load(this.#i64, i64Index(ownerOffset(this.#peer))) === 0n;
      if (!peerGone) this.#signals.ring();
    } catch {
      // a broken segment: nothing more to tell the peer
    }
    this.#endWaiting();
    this.#out.endWritten(reason ?? closedError('channel'));
    // (a peer that joined but was never learned of: its identity is in the header)
    leaveEndpoint(this.#end, peerGone, this.#peerIdentity !== 0n ? this.#peerIdentity : this.#headerPeer());
    process.nextTick(() => (reason === undefined ? this.emit('close') : this.emit('close', reason)));
  }
}
