// Channel: MessagePort-like messaging between two processes or threads over one shared
// segment holding an SPSC ring per direction (layout.ts, endpoints.ts). This file owns the
// events, the references and the lifecycle, and the loop's look at everything (pump); the
// sending half is outbox.ts (postMessage encodes at once, so a value that cannot be cloned
// throws there, then writes frames while the ring has room and queues the rest), the
// receiving half receiver.ts, and the wake-up protocol between the two ends signals.ts.
import { EventEmitter } from 'node:events';
import { checkOptions, closedError, shmError } from '../errors.js';
import { resolveCodec } from './codec.js';
import { joinEndpoint, leaveEndpoint, makeEndpoint, type Endpoint } from './endpoints.js';
import { FRAME_HEADER, Reassembly } from './framing.js';
import { Receiver } from './receiver.js';
import { MAX_MESSAGE_LIMIT } from './header.js';
import { checkCapacity, checkConnectOptions, checkCount, checkWake, DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_MESSAGE, type ChannelOptions, type ConnectOptions } from './options.js';
import { CONNECTOR, CREATOR, HEADER_SIZE, i64Index, ownerOffset, wakeOffset, type Side } from './layout.js';
import { watchPeer } from './peer-watch.js';
import { Outbox } from './outbox.js';
import { Signals } from './signals.js';
import { makeWakeup, type Wakeup } from './wake.js';

/** Messages read in one turn of the loop before the rest waits for the next turn. */
const READ_TURN = 4096;
/** How long process exit waits for a peer that makes no room for what is still queued. */
const EXIT_STALL_MS = 1000;

const openChannels = new Set<Channel>();
process.on('exit', () => {
  for (const channel of [...openChannels]) channel.closeOnExit();
});

export class Channel extends EventEmitter implements AsyncIterable<unknown> {
  /** Names the channel for the other side: pass it to Channel.connect (a worker gets it in workerData). */
  readonly address: string;
  readonly #end: Endpoint;
  readonly #peer: Side;
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;
  readonly #receiver: Receiver;
  readonly #outbox: Outbox;
  readonly #wakeup: Wakeup;
  readonly #signals: Signals;
  #peerIdentity = 0n;
  #unwatch: (() => void) | undefined;
  #peerDead = false;
  // Receiving: the loop looks again on its next turn while traffic is dense (an immediate
  // ref'd even on an unref'd channel: an unref'd one does not stop the loop from blocking in
  // poll, so it would run only when something else woke the loop; it holds one turn at most).
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

  private constructor(end: Endpoint, side: Side, options: ConnectOptions) {
    super();
    const { segment, shape, rings: [out, inbound] } = end;
    this.address = end.address;
    this.#end = end;
    this.#peer = side === CREATOR ? CONNECTOR : CREATOR;
    this.#i32 = new Int32Array(segment.buffer, 0, HEADER_SIZE / 4);
    this.#i64 = new BigInt64Array(segment.buffer, 0, HEADER_SIZE / 8);
    const codec = resolveCodec(options.codec);
    const highWaterMark = checkCount('highWaterMark', options.highWaterMark, DEFAULT_HIGH_WATER_MARK, Infinity);
    this.#outbox = new Outbox(out, codec, { pieceMax: Math.min(out.maxMessageSize - FRAME_HEADER, shape.capacity / 4), maxMessage: shape.maxMessage, highWaterMark }, {
      endPass: () => this.#endPass(),
      askForRoom: () => this.#signals.askForRoom(),
      updateRef: () => this.#updateRef(),
      emptied: (drain) => {
        if (this.#closing) this.#finish(undefined);
        else if (drain) this.emit('drain');
      },
    });
    this.#receiver = new Receiver(inbound, codec, new Reassembly(inbound.maxMessageSize - FRAME_HEADER, shape.maxMessage), {
      closing: () => this.#closing,
      listeners: () => this.listenerCount('message'),
      emitMessage: (message) => this.emit('message', message),
      emitMessageError: (error) => this.emit('messageerror', error),
      roomFreed: () => this.#signals.freed(),
      fail: (error) => this.#finish(error),
      updateRef: () => this.#updateRef(),
      poke: () => queueMicrotask(() => this.#pump()),
    });
    this.#signals = new Signals(this.#i32, side, this.#peer);
    this.#wakeup = makeWakeup(this.#i32, wakeOffset(side), { onWake: () => this.#pump() }, checkWake(options.wake));
    openChannels.add(this);
    // A 'message' listener refs the channel, as on a MessagePort; the first one gets the kept messages.
    this.on('newListener', (event) => event === 'message' && this.listenerCount('message') === 0 && this.#listening(true));
    this.on('removeListener', (event) => event === 'message' && this.listenerCount('message') === 0 && this.#listening(false));
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
    checkConnectOptions(o);
    return makeEndpoint(address, capacity, maxMessage, (end) => new Channel(end, CREATOR, o));
  }

  /** Joins the channel another side created. ENOENT, ERR_SHM_BAD_HEADER, ERR_ROLE_TAKEN. */
  static connect(address: string, options?: ConnectOptions): Channel {
    const o = checkOptions(options);
    checkConnectOptions(o);
    return joinEndpoint(address, (end) => {
      const channel = new Channel(end, CONNECTOR, o);
      channel.#learnPeer();
      channel.#signals.ring(); // the creator learns who joined, and starts watching it
      queueMicrotask(() => channel.#pump()); // the creator may have closed or written already
      return channel;
    });
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
    return this.#outbox.post(value);
  }

  /** `callback()` once every message posted so far is in shared memory; `callback(reason)` if the channel ends first. */
  afterWritten(callback: (error?: Error) => void): void {
    this.#outbox.afterWritten(callback);
  }

  /** Blocks until every message posted so far is in shared memory and published (Outbox.flushSync). */
  flushSync(timeoutMs = 30_000): void {
    if (this.#closed) throw closedError('channel');
    this.#outbox.flushSync(timeoutMs);
  }

  /** Bytes waiting in this process for room in the ring; stale as soon as the peer reads. */
  get queuedBytes(): number {
    return this.#outbox.queuedBytes;
  }

  /** The end of a pass of writes (a corked stretch of the ring): publishes them, rings the peer if it sleeps. */
  #endPass(): void {
    this.#end.rings[0].flush();
    this.#signals.published();
  }

  // ---- receiving -------------------------------------------------------------------------

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
    this.#receiver.deliverKept();
    const got = this.#receiver.reading() ? this.#receiver.receive(READ_TURN, false) : 0;
    if (this.#closed) return;
    if (!this.#outbox.empty) this.#outbox.sendQueued();
    if (this.#closed) return;
    if (this.#signals.peerClosed) {
      // The peer published everything before its flag: take it all, then end.
      this.#receiver.receive(Infinity, true);
      this.#finish(undefined);
      return;
    }
    if (!this.#receiver.reading()) return;
    if (got > 0) {
      this.#stayHot();
      return;
    }
    this.#signals.arm();
    // Armed, then one more look: a sender that published before it could see `armed` is
    // found here (signals.ts).
    if (this.#receiver.usedBytes !== 0 || this.#signals.peerClosed) {
      this.#signals.disarm();
      this.#stayHot();
    }
  }

  #stayHot(): void {
    this.#hot ??= setImmediate(this.#hotTask);
  }

  /**
   * The next message, taken now, or undefined if none has arrived (as
   * worker_threads.receiveMessageOnPort). Never blocks; emits 'messageerror' for a corrupt
   * record it passes.
   */
  receiveMessage(): { message: unknown } | undefined {
    return this.#receiver.takeNow(!this.#closed);
  }

  /** Messages until the channel closes; an error close (ERR_PEER_DEAD, ...) is thrown. */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this.#receiver.messages(() => ({ done: this.#closed, reason: this.#reason }));
  }

  // ---- lifecycle -------------------------------------------------------------------------

  #learnPeer(): void {
    const identity = Atomics.load(this.#i64, i64Index(ownerOffset(this.#peer)));
    if (identity === 0n) return;
    this.#peerIdentity = identity;
    this.#signals.learnBell();
    this.#unwatch = watchPeer(identity, () => this.#onPeerDead());
  }

  #onPeerDead(): void {
    if (this.#closed) return;
    this.#peerDead = true;
    this.#receiver.receive(Infinity, true); // everything it published comes first
    // A peer that closed before it exited closed gracefully, whichever of its doorbell ring
    // and its pidfd this loop happens to see first.
    const graceful = this.#signals.peerClosed;
    this.#finish(graceful ? undefined : shmError('ERR_PEER_DEAD', `the other end of channel ${this.address} died`));
  }

  #listening(on: boolean): void {
    this.#refed = on;
    this.#updateRef();
    if (on) queueMicrotask(() => this.#pump());
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
    const want = !this.#closed && (this.#refed || this.#receiver.waiting.length > 0 || !this.#outbox.empty);
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
    this.#receiver.endWaiting();
    if (this.#outbox.empty || this.#peerDead || this.#signals.peerClosed) this.#finish(undefined);
    else this.#updateRef();
  }

  /** At process exit: writes what is queued (while the peer makes room, see EXIT_STALL_MS), then closes. */
  closeOnExit(): void {
    if (this.#closed) return;
    if (!this.#peerDead) this.#outbox.writeAllAtExit(EXIT_STALL_MS, () => this.#endPass());
    this.#finish(undefined);
  }

  /** Ends this side: publishes, marks it closed, tells the peer, removes the segment if the peer is gone. */
  #finish(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#reason = reason;
    this.#outbox.stop();
    openChannels.delete(this);
    if (this.#hot !== undefined) clearImmediate(this.#hot);
    this.#hot = undefined;
    this.#updateRef();
    this.#wakeup.close();
    this.#unwatch?.();
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
    this.#receiver.endWaiting();
    this.#outbox.endWritten(reason ?? closedError('channel'));
    leaveEndpoint(this.#end, peerGone, this.#peerIdentity);
    process.nextTick(() => (reason === undefined ? this.emit('close') : this.emit('close', reason)));
  }
}
