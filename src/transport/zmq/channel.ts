// ZmqChannel: the Channel's contract over ZeroMQ, for a peer on another host (tcp://) or for
// tests (ipc://). One DEALER socket per end, DEALER to DEALER: with one peer it keeps order
// and blocks rather than drops at its high-water mark (ZMQ_SNDHWM), so nothing is lost while
// both ends live; the creator's ZAP handler (admission.ts) lets exactly one peer in. (PAIR,
// the one-peer socket, is not used: in ZeroMQ 4.3 a stranger's failed handshake can leave a
// bound PAIR refusing every later peer.) Each message is one ZeroMQ frame holding the codec's
// bytes; close() sends a goodbye (an empty frame then GOODBYE, a two-part message no codec
// makes) so that the peer tells a close from a death (the socket monitor's 'disconnect'
// without a goodbye: the peer died, its heartbeat stopped, or the link went down).
//
// Sending: a message goes to ZeroMQ at once while the socket is writable (sendTimeout 0: the
// send happens inside postMessage). Once ZeroMQ holds sendHighWaterMark messages, posts wait
// in this process, in order, and return false; one send waits for room (zeromq.js allows one
// pending send; it waits in slices of SEND_SLICE_MS), and 'drain' follows when they are all in
// ZeroMQ. Receiving: one receive is pending while someone reads (a 'message' listener, an
// async iterator, or receiveMessage() looking ahead one message); nobody reading leaves
// messages with ZeroMQ, at most receiveHighWaterMark of them, the rest held back at the sender.
import { lookup } from 'node:dns';
import { EventEmitter } from 'node:events';
import { lstatSync, unlinkSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkOptions, closedError, shmError, ShmError } from '../../errors.js';
import { resolveCodec, type Codec } from '../codec.js';
import { detach, transferList } from '../transfer.js';
import type { ChannelEvents } from '../channel.js';
import { checkAddressType, parseZmqAddress, type Endpoint, type ZmqAddress } from './address.js';
import { admitOne } from './admission.js';
import { track, untrack, type Holder } from './keep-alive.js';
import { loadZmq, type Zmq } from './load.js';
import { checkCurve, checkZmqOptions, type ZmqChannelOptions, type ZmqCurveClient, type ZmqCurveServer, type ZmqSettings } from './options.js';

/** The second part of the goodbye frame. */
const GOODBYE = 'shmring:close';
const GOODBYE_BYTES = Buffer.from(GOODBYE);
/** What a waiting async iterator gets when the channel ends instead of a message. */
const DONE = Symbol('done');
/** The goodbye in the send queue: close() sends it after everything posted before. */
const BYE = Symbol('bye');
/**
 * A pending receive gives up after this long and is made again. zeromq.js waits on ZeroMQ's
 * edge-triggered descriptor, and a look at the socket's state from here (socket.writable in
 * postMessage, socket.readable) can take the edge that a pending receive waits for: a
 * message that arrived then would wait for the next event. Receiving in slices bounds that.
 */
const RECEIVE_SLICE_MS = 250;
/**
 * A send that waits for room gives up after this long and is made again, for the same reason:
 * a receive made meanwhile looks at the socket's state and can take the edge that tells of room.
 */
const SEND_SLICE_MS = 10;
/** zeromq.js copies a message of up to this many bytes into ZeroMQ's own at send() (its zero_copy_threshold). */
const ZMQ_COPIES_UP_TO = 128;
/**
 * How long a connection may take to complete its ZMTP handshake (a stranger that says nothing is
 * dropped).
 */
const HANDSHAKE_MS = 5000;

type Dealer = InstanceType<Zmq['Dealer']>;

/** The open channels, as their keep-alive holders (private to each channel, not a public member). */
const openChannels = new Set<Holder>();
process.on('exit', () => {
  for (const channel of [...openChannels]) channel.closeAtExit();
});

function rethrow(error: unknown): never {
  throw error;
}

/** Removes the socket file an ipc:// channel bound (ZeroMQ 4.3 leaves it, even on unbind). */
function removeSocketFile(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // gone already
  }
}

function socketError(error: unknown, what: string, address: string): ShmError {
  const err = error as { code?: string; errno?: number; message?: string };
  const code = typeof err.code === 'string' && err.code !== '' ? err.code : 'ERR_NOT_SUPPORTED';
  return shmError(code, `${what} ${address}: ${err.message ?? String(error)}`, { cause: error, errno: err.errno, address });
}

/** The events of a ZmqChannel: the Channel's, and 'connect' when the peer completed the handshake. */
export interface ZmqChannelEvents<T> extends ChannelEvents<T> {
  connect: [];
}

export class ZmqChannel<TReceive = unknown, TSend = TReceive> extends EventEmitter<ZmqChannelEvents<TReceive>> implements AsyncIterable<TReceive> {
  /** What keep-alive.ts and the exit handler see of this channel. */
  readonly #holder: Holder = { holds: () => this.#holds(), closeAtExit: () => this.#closeAtExit() };
  /**
   * Names the channel for the other side: the bound endpoint (with the port chosen for a
   * port 0 or *), or the address connected to.
   */
  readonly address: string;
  readonly #socket: Dealer;
  readonly #codec: Codec;
  readonly #settings: ZmqSettings;
  readonly #server: boolean;
  #removeAllow: (() => void) | undefined;
  // Sending.
  /** Messages (and the goodbye) waiting for ZeroMQ to take them, in order. */
  readonly #queue: Array<Uint8Array | typeof BYE> = [];
  #queueHead = 0;
  #queuedBytes = 0;
  /** A send waits for room (the first of #queue). */
  #waitingRoom = false;
  #drainOwed = false;
  // Receiving.
  #receiving = false;
  #listeners = 0;
  readonly #waiting: Array<(value: unknown) => void> = [];
  /** Messages taken from ZeroMQ nobody was reading: receiveMessage()'s look-ahead and what remains after the end. */
  readonly #kept: unknown[] = [];
  #lookAhead = false;
  // The peer, from the socket monitor: connections open now, and whether a peer completed its handshake.
  #connections = 0;
  #peerSeen = false;
  #handshakeTimer: NodeJS.Timeout | undefined;
  /** The peer is gone: what it sent is read, then the channel ends with `reason`. */
  #ending: { reason: Error | undefined } | undefined;
  // Lifecycle.
  #refed = false;
  #closing = false;
  #closedHere = false;
  #closed = false;
  #reason: Error | undefined;

  private constructor(zmq: Zmq, endpoint: Endpoint, server: boolean, settings: ZmqSettings, codec: Codec, curve: ZmqCurveServer | ZmqCurveClient | undefined, address: string) {
    super();
    this.#settings = settings;
    this.#codec = codec;
    this.#server = server;
    const socket = new zmq.Dealer({
      linger: settings.linger,
      sendHighWaterMark: settings.sendHighWaterMark,
      receiveHighWaterMark: settings.receiveHighWaterMark,
      maxMessageSize: settings.maxMessageSize,
      heartbeatInterval: settings.heartbeatInterval,
      heartbeatTimeout: settings.heartbeatTimeout,
      heartbeatTimeToLive: settings.heartbeatTimeToLive,
      handshakeInterval: HANDSHAKE_MS,
      sendTimeout: 0,
      receiveTimeout: RECEIVE_SLICE_MS,
      ipv6: endpoint.host !== undefined && isIP(endpoint.host) !== 4,
    });
    this.#socket = socket;
    try {
      if (curve !== undefined) {
        socket.curveSecretKey = curve.keyPair.secretKey;
        socket.curvePublicKey = curve.keyPair.publicKey;
        if ('allow' in curve) socket.curveServer = true;
        else socket.curveServerKey = curve.serverPublicKey;
      }
      if (server) {
        // The ZAP handler admits one peer (with CURVE, one of the allowed keys), as a channel has one.
        const door = admitOne(zmq, curve !== undefined && 'allow' in curve ? curve.allow : undefined);
        this.#removeAllow = door.remove;
        socket.zapDomain = door.domain;
      }
      this.#watch();
      if (server) {
        socket.bindSync(endpoint.zmq); // synchronous: a port in use throws here
        address = socket.lastEndpoint ?? address;
      }
    } catch (err) {
      socket.close();
      this.#removeAllow?.();
      throw socketError(err, server ? 'cannot bind' : 'cannot connect to', address);
    }
    this.address = address;
    openChannels.add(this.#holder);
    track(this.#holder);
    // A 'message' listener refs the channel, as on a MessagePort; the first one gets the messages that waited.
    this.on('newListener', (event) => event === 'message' && this.#listenerAdded());
    this.on('removeListener', (event) => event === 'message' && this.#listenerRemoved());
  }

  /** Binds `address` (tcp://HOST:PORT, port 0 or * for any; ipc://PATH) and waits for one peer. */
  static create<TReceive = unknown, TSend = TReceive>(address: ZmqAddress, options?: ZmqChannelOptions): ZmqChannel<TReceive, TSend> {
    checkAddressType(address);
    const o = checkOptions(options);
    const settings = checkZmqOptions(o);
    const curve = checkCurve(o.curve, true);
    const endpoint = parseZmqAddress(address, true);
    return new ZmqChannel(loadZmq(address), endpoint, true, settings, resolveCodec(o.codec), curve, address);
  }

  /**
   * Connects to a channel another side created at `address`. A host name is resolved first
   * (a name that does not resolve ends the channel: 'error' if listened to, then 'close');
   * a peer not there yet is retried by ZeroMQ until it is.
   */
  static connect<TReceive = unknown, TSend = TReceive>(address: ZmqAddress, options?: ZmqChannelOptions): ZmqChannel<TReceive, TSend> {
    checkAddressType(address);
    const o = checkOptions(options);
    const settings = checkZmqOptions(o);
    const curve = checkCurve(o.curve, false);
    const endpoint = parseZmqAddress(address, false);
    const channel = new ZmqChannel<TReceive, TSend>(loadZmq(address), endpoint, false, settings, resolveCodec(o.codec), curve, address);
    const host = endpoint.host;
    if (host === undefined || isIP(host) !== 0) channel.#connect(endpoint.zmq);
    else {
      lookup(host, (err, ip, family) => {
        if (channel.#closed) return;
        if (err !== null) channel.#fail(shmError(err.code ?? 'ENOTFOUND', `cannot resolve ${host} for ${address}: ${err.message}`, { cause: err, address }));
        else channel.#connect(`tcp://${family === 6 ? `[${ip}]` : ip}:${endpoint.port}`);
      });
    }
    return channel;
  }

  #connect(zmqAddress: string): void {
    try {
      this.#socket.connect(zmqAddress);
    } catch (err) {
      this.#fail(socketError(err, 'cannot connect to', this.address));
      return;
    }
    this.#sendQueued(); // the pipe to the peer exists now: ZeroMQ queues for it
  }

  // ---- sending ---------------------------------------------------------------------------

  /**
   * Sends a copy of `value`. Never blocks: while ZeroMQ holds sendHighWaterMark messages (or,
   * on the creating side, before a peer connected) it waits in this process, in order, and
   * false is returned; 'drain' follows once ZeroMQ took it all. Throws a DataCloneError for a
   * value the codec cannot carry, ERR_MESSAGE_TOO_LARGE above maxMessageSize, or ERR_CLOSED
   * after close(). `transfer` (as on shared memory: ArrayBuffers, or `{ transfer }`) lists
   * buffers this side gives up: they are detached, and one the message's bytes view is sent
   * without a copy of its own.
   */
  postMessage(value: TSend, transfer?: readonly ArrayBufferLike[] | { transfer?: readonly ArrayBufferLike[] }): boolean {
    if (this.#closing) throw closedError('channel');
    const list = transfer === undefined ? undefined : transferList(transfer);
    let bytes = this.#codec.encode(value);
    if (bytes.length > this.#settings.maxMessageSize) {
      throw shmError('ERR_MESSAGE_TOO_LARGE', `a message of ${bytes.length} bytes is above maxMessageSize=${this.#settings.maxMessageSize}`);
    }
    // ZeroMQ keeps a reference to a large buffer until its I/O thread wrote it: a caller's own
    // buffer is copied, unless the caller gave it up (its memory moves, and the caller's is detached).
    const { byteOffset, length } = bytes; // (a view of a detached buffer reads as empty)
    const moved = list === undefined ? undefined : detach(list, bytes.buffer);
    if (moved !== undefined) bytes = new Uint8Array(moved, byteOffset, length);
    else if (this.#codec.fresh !== true && bytes.length > ZMQ_COPIES_UP_TO) bytes = Uint8Array.prototype.slice.call(bytes);
    if (this.#queue.length === this.#queueHead && this.#trySend(bytes)) return true;
    // A small message zeromq.js would have copied at send() waits here: it is copied now.
    if (moved === undefined && this.#codec.fresh !== true && length <= ZMQ_COPIES_UP_TO) bytes = Uint8Array.prototype.slice.call(bytes);
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    this.#drainOwed = true; // never emitted from inside postMessage: the caller listens for it after the false
    if (!this.#waitingRoom) this.#awaitRoom();
    return false;
  }

  /** Hands `frame` to ZeroMQ if it takes it now (the socket is writable: send() is synchronous at sendTimeout 0). */
  #trySend(frame: Uint8Array | typeof BYE): boolean {
    if (this.#waitingRoom || this.#closed || !this.#socket.writable) return false;
    this.#socket.send(frame === BYE ? ['', GOODBYE] : frame).catch(this.#sendFailed);
    return true;
  }

  readonly #sendFailed = (err: unknown): void => {
    if (!this.#closed) this.#finish(socketError(err, 'cannot send to', this.address));
  };

  /** Sends what waits, in order, until ZeroMQ is full; then one send waits for room. */
  #sendQueued(): void {
    const queue = this.#queue;
    while (this.#queueHead < queue.length && this.#trySend(queue[this.#queueHead]!)) this.#shift();
    if (this.#queueHead < queue.length) {
      if (!this.#waitingRoom && !this.#closed) this.#awaitRoom();
      return;
    }
    queue.length = 0;
    this.#queueHead = 0;
    if (this.#closed) return;
    if (this.#closing) this.#finish(undefined);
    else if (this.#drainOwed) {
      this.#drainOwed = false;
      this.emit('drain');
    }
  }

  #shift(): void {
    const frame = this.#queue[this.#queueHead];
    this.#queue[this.#queueHead++] = BYE; // let go of the bytes
    if (frame !== BYE && frame !== undefined) this.#queuedBytes -= frame.length;
  }

  /** One send of the first waiting frame that waits for room (zeromq.js's writable promise). */
  #awaitRoom(): void {
    this.#waitingRoom = true;
    const frame = this.#queue[this.#queueHead]!;
    const socket = this.#socket;
    socket.sendTimeout = SEND_SLICE_MS;
    const sent = socket.send(frame === BYE ? ['', GOODBYE] : frame);
    socket.sendTimeout = 0;
    sent.then(
      () => {
        this.#waitingRoom = false;
        if (this.#closed) return;
        this.#shift();
        this.#sendQueued();
      },
      (err) => {
        this.#waitingRoom = false;
        if ((err as { code?: string }).code === 'EAGAIN' && !this.#closed) this.#awaitRoom(); // a slice ended
        else this.#sendFailed(err);
      },
    );
  }

  /** Bytes waiting in this process for ZeroMQ to take them (not what ZeroMQ holds); stale as soon as it does. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  // ---- receiving -------------------------------------------------------------------------

  /** Whether anyone takes messages now: a 'message' listener or a waiting async iterator. */
  #reading(): boolean {
    return !this.#closing && (this.#listeners > 0 || this.#waiting.length > 0);
  }

  /** Starts a receive if one is wanted and none is pending; ends the channel once an ending peer's messages are read. */
  #pull(): void {
    if (this.#closed || this.#receiving) return;
    if (this.#ending !== undefined) {
      if (!this.#socket.readable) {
        this.#finish(this.#ending.reason);
        return;
      }
    } else if (!this.#reading() && !(this.#lookAhead && this.#kept.length === 0)) return;
    this.#receiving = true;
    this.#socket.receive().then(this.#onFrames, this.#onReceiveError);
  }

  readonly #onFrames = (frames: Buffer[]): void => {
    this.#receiving = false;
    try {
      this.#take(frames);
    } catch (error) {
      // A listener threw: its error goes on to 'uncaughtException', as from Node's IPC, and the next message still comes.
      process.nextTick(rethrow, error);
    }
    this.#pull();
  };

  readonly #onReceiveError = (err: unknown): void => {
    this.#receiving = false;
    if ((err as { code?: string }).code === 'EAGAIN' && !this.#closed) {
      this.#pull(); // a slice ended (RECEIVE_SLICE_MS)
      return;
    }
    if (!this.#closed) this.#finish(socketError(err, 'cannot receive from', this.address));
  };

  /** One ZeroMQ message: a message, the goodbye, or something no shmring peer sends ('messageerror'). */
  #take(frames: Buffer[]): void {
    if (frames.length === 1) {
      let message: unknown;
      try {
        message = this.#codec.decode(frames[0]!);
      } catch (err) {
        this.#refuse(`a message could not be decoded: ${(err as Error).message}`, err);
        return;
      }
      this.#deliver(message);
      return;
    }
    if (frames.length === 2 && frames[0]!.length === 0 && frames[1]!.equals(GOODBYE_BYTES)) {
      this.#ending = { reason: undefined }; // everything before it was read: the peer closed
      return;
    }
    this.#refuse(`a ZeroMQ message of ${frames.length} parts is not a shmring message`);
  }

  #refuse(message: string, cause?: unknown): void {
    if (this.#closedHere) return;
    this.emit('messageerror', shmError('ERR_BAD_MESSAGE', message, cause === undefined ? undefined : { cause }));
  }

  #deliver(message: unknown): void {
    if (this.#closedHere) return;
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(message);
    else if (this.#listeners > 0 && !this.#closed) this.emit('message', message as TReceive);
    else this.#kept.push(message);
  }

  /**
   * The next message, if one has arrived, or undefined (as worker_threads.receiveMessageOnPort).
   * Never blocks. ZeroMQ hands messages over asynchronously: the first call starts looking
   * ahead one message, which a later call takes.
   */
  receiveMessage(): { message: TReceive } | undefined {
    if (this.#closedHere) return undefined;
    this.#lookAhead = true;
    const found = this.#kept.length > 0 ? { message: this.#kept.shift() as TReceive } : undefined;
    this.#pull();
    return found;
  }

  /** Messages until the channel closes; an error close (ERR_PEER_DEAD, ...) is thrown. */
  async *[Symbol.asyncIterator](): AsyncIterator<TReceive> {
    for (;;) {
      if (this.#closedHere) return;
      if (this.#kept.length > 0) {
        yield this.#kept.shift() as TReceive;
        continue;
      }
      if (this.#closed) {
        if (this.#reason !== undefined) throw this.#reason;
        return;
      }
      const next = await new Promise<unknown>((resolve) => {
        this.#waiting.push(resolve);
        this.#pull();
      });
      if (next !== DONE) yield next as TReceive;
    }
  }

  #endWaiting(): void {
    for (const waiter of this.#waiting.splice(0)) waiter(DONE);
  }

  // ---- the peer --------------------------------------------------------------------------

  /**
   * The socket monitor. A connection that completes its handshake is the peer (the ZAP handler
   * refuses any other); a 'disconnect' that leaves no connection open means the
   * peer is gone. A connector whose handshake fails ends (a refused key: EACCES; a server that
   * does not speak ZMTP: ERR_BAD_MESSAGE); a creator ignores a stranger's failed handshake.
   */
  #watch(): void {
    const events = this.#socket.events;
    events.on('accept', () => this.#connections++);
    events.on('connect', () => {
      this.#connections++;
      // A server that does not speak ZMTP may never fail the handshake (ZeroMQ takes bytes
      // without its signature for ZMTP 1.0 and waits): give it HANDSHAKE_MS to answer.
      this.#handshakeTimer ??= setTimeout(() => {
        if (!this.#peerSeen) this.#fail(shmError('ERR_BAD_MESSAGE', `no ZeroMQ handshake from ${this.address} within ${HANDSHAKE_MS} ms of connecting: not a shmring channel`, { address: this.address }));
      }, HANDSHAKE_MS).unref();
    });
    events.on('handshake', () => {
      if (this.#peerSeen || this.#closed) return;
      this.#peerSeen = true;
      this.emit('connect'); // the peer is there (a shared-memory Channel has no such moment to tell)
    });
    events.on('disconnect', () => {
      this.#connections = Math.max(0, this.#connections - 1);
      if (this.#peerSeen && (this.#connections === 0 || !this.#server)) this.#peerGone();
    });
    const refused = (code: string, what: string) => (event: { error?: Error }) => {
      if (this.#server || this.#peerSeen) return;
      this.#fail(shmError(code, `${what} ${this.address}: ${event.error?.message ?? 'handshake failed'}`, { cause: event.error, address: this.address }));
    };
    events.on('handshake:error:auth', refused('EACCES', 'the server refused this client at'));
    events.on('handshake:error:protocol', refused('ERR_BAD_MESSAGE', 'no ZeroMQ peer (a protocol error in the handshake) at'));
    events.on('handshake:error:other', refused('ERR_BAD_MESSAGE', 'the handshake failed at'));
  }

  #peerGone(): void {
    if (this.#closed || this.#ending !== undefined) return;
    this.#ending = { reason: shmError('ERR_PEER_DEAD', `the other end of channel ${this.address} is gone (it died, its heartbeat stopped, the link went down, or it sent a message above maxMessageSize)`) };
    this.#pull(); // what it sent is read first (a receive already pending ends within its slice)
  }

  /** Setting up failed (a name that does not resolve, a refused handshake): 'error' if listened to, then 'close'. */
  #fail(error: Error): void {
    if (this.#closed) return;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.#finish(error);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  #listenerAdded(): void {
    if (this.#listeners++ === 0) {
      this.#refed = true;
      queueMicrotask(() => this.#handOutKept());
    }
  }

  /** Messages kept while nobody read go to the first listener, then receiving starts. */
  #handOutKept(): void {
    while (this.#kept.length > 0 && this.#listeners > 0 && !this.#closedHere) this.emit('message', this.#kept.shift() as TReceive);
    this.#pull();
  }

  #listenerRemoved(): void {
    if (--this.#listeners === 0) this.#refed = false;
  }

  /** Keep the process alive while this channel waits for messages (as MessagePort.ref). */
  ref(): this {
    this.#refed = true;
    return this;
  }

  /** Let the process exit even while this channel waits (messages not yet in ZeroMQ still hold it). */
  unref(): this {
    this.#refed = false;
    return this;
  }

  /** Whether this channel keeps the event loop alive now. */
  hasRef(): boolean {
    return this.#holds();
  }

  /** For keep-alive.ts: ref'd, an iterator waits, or messages wait to be handed to ZeroMQ. */
  #holds(): boolean {
    return !this.#closed && (this.#refed || this.#waiting.length > 0 || this.#queueHead < this.#queue.length);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Closes this end: no more messages are delivered here, postMessage throws ERR_CLOSED, what
   * waits in this process goes to ZeroMQ first (as room appears), then the goodbye; ZeroMQ
   * goes on sending it all for up to `linger` ms after the socket closes, while this process
   * lives (one that exits at once can lose what ZeroMQ still holds: wait for the peer's answer
   * first). Idempotent; 'close' is emitted on this side too.
   */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#closedHere = true;
    this.#endWaiting();
    this.#kept.length = 0;
    if (this.#closed) return;
    if (this.#ending !== undefined || (!this.#peerSeen && this.#server)) {
      this.#finish(undefined); // nobody to say goodbye to
      return;
    }
    if (this.#queueHead === this.#queue.length && this.#trySend(BYE)) this.#finish(undefined);
    else {
      this.#queue.push(BYE);
      this.#sendQueued();
    }
  }

  /** At process exit, or when only ZeroMQ's handles keep the process alive (keep-alive.ts): say goodbye if ZeroMQ takes it now, and close. */
  #closeAtExit(): void {
    if (this.#closed) return;
    if (this.#ending === undefined && this.#peerSeen) this.#trySend(BYE);
    this.#finish(undefined);
  }

  /** Ends this side: the socket closes (lingering if the peer may still read), 'close' follows. */
  #finish(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#reason = reason;
    openChannels.delete(this.#holder);
    untrack(this.#holder);
    clearTimeout(this.#handshakeTimer);
    if (this.#ending !== undefined || reason !== undefined) this.#socket.linger = 0; // nobody left to send to
    this.#socket.close(); // a pending receive or send rejects; the monitor closes with it
    if (this.#server && this.address.startsWith('ipc://')) removeSocketFile(this.address.slice('ipc://'.length));
    this.#removeAllow?.();
    this.#removeAllow = undefined;
    if (this.#closedHere) this.#kept.length = 0;
    this.#endWaiting();
    process.nextTick(() => (reason === undefined ? this.emit('close') : this.emit('close', reason)));
  }
}
