// The options of a Channel over ZeroMQ: what each means, its default, and the checks that turn
// a wrong one into a TypeError or RangeError naming it. The shared-memory options that have no
// meaning on a network (capacity, wake) are checked and have no effect, so code moves with
// its address alone; highWaterMark is refused: ZeroMQ counts messages, not bytes.
import { checkInteger, rangeError, typeError } from '../../errors.js';
import { resolveCodec, type CodecOption } from '../codec.js';
import { checkCapacity, checkWake } from '../options.js';
import { MAX_MESSAGE_LIMIT } from '../header.js';

/** Keys of CURVE (Z85 text, 40 characters), as zeromq's curveKeyPair() makes them. */
export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

export interface ZmqCurveServer {
  /** This server's key pair. */
  keyPair: CurveKeyPair;
  /** The public keys of the clients allowed in; every other client is refused in the handshake. */
  allow: readonly string[];
}

export interface ZmqCurveClient {
  /** This client's key pair (its public key is in the server's allow list). */
  keyPair: CurveKeyPair;
  /** The server's public key: a server without its secret key cannot complete the handshake. */
  serverPublicKey: string;
}

export interface ZmqChannelOptions {
  /** As on shared memory: 'structured' (default), 'advanced', 'json', 'raw', or { encode, decode }. */
  codec?: CodecOption;
  /** The largest message this side sends or accepts (ZMQ_MAXMSGSIZE on receipt). Default 1 GiB. */
  maxMessageSize?: number;
  /** Messages ZeroMQ queues for the peer (ZMQ_SNDHWM) before postMessage returns false. Default 1000. */
  sendHighWaterMark?: number;
  /** Messages ZeroMQ takes in ahead of the reader (ZMQ_RCVHWM). Default 1000. */
  receiveHighWaterMark?: number;
  /** ZMTP heartbeat: ms between pings (ZMQ_HEARTBEAT_IVL). Default 1000. */
  heartbeatInterval?: number;
  /** ms without any traffic after a ping before the connection is dropped (ZMQ_HEARTBEAT_TIMEOUT). Default 5000. */
  heartbeatTimeout?: number;
  /** ms the peer waits for traffic from this side before it drops the connection (ZMQ_HEARTBEAT_TTL). Default 5000. */
  heartbeatTimeToLive?: number;
  /** ms ZeroMQ goes on sending what it accepted after close() (ZMQ_LINGER). Default 5000. */
  linger?: number;
  /** CURVE: on create the server's key pair and allowed clients, on connect the client's keys and the server's. */
  curve?: ZmqCurveServer | ZmqCurveClient;
  /** Shared memory only: checked, no effect over ZeroMQ. */
  capacity?: number;
  /** Shared memory only: checked, no effect over ZeroMQ. */
  wake?: 'socket' | 'futex';
}

export interface ZmqSettings {
  maxMessageSize: number;
  sendHighWaterMark: number;
  receiveHighWaterMark: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  heartbeatTimeToLive: number;
  linger: number;
}

export const ZMQ_DEFAULTS: ZmqSettings = {
  maxMessageSize: 2 ** 30,
  sendHighWaterMark: 1000,
  receiveHighWaterMark: 1000,
  heartbeatInterval: 1000,
  heartbeatTimeout: 5000,
  heartbeatTimeToLive: 5000,
  linger: 5000,
};

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

function checkKey(name: string, value: unknown): string {
  if (typeof value !== 'string') throw typeError(name, value, 'a Z85 key of 40 characters (zeromq curveKeyPair())');
  if (!Z85_KEY.test(value)) throw rangeError(name, value, 'a Z85 key of 40 characters (zeromq curveKeyPair())');
  return value;
}

function checkKeyPair(name: string, value: unknown): CurveKeyPair {
  if (value === null || typeof value !== 'object') throw typeError(name, value, '{ publicKey, secretKey }');
  const pair = value as CurveKeyPair;
  return { publicKey: checkKey(`${name}.publicKey`, pair.publicKey), secretKey: checkKey(`${name}.secretKey`, pair.secretKey) };
}

/** The CURVE option of one side: a server's (create) or a client's (connect); undefined for none. */
export function checkCurve(value: unknown, server: boolean): ZmqCurveServer | ZmqCurveClient | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') throw typeError('curve', value, server ? '{ keyPair, allow }' : '{ keyPair, serverPublicKey }');
  const keyPair = checkKeyPair('curve.keyPair', (value as ZmqCurveServer).keyPair);
  if (server) {
    const allow = (value as ZmqCurveServer).allow;
    if (!Array.isArray(allow)) throw typeError('curve.allow', allow, 'an array of client public keys');
    return { keyPair, allow: allow.map((key, i) => checkKey(`curve.allow[${i}]`, key)) };
  }
  return { keyPair, serverPublicKey: checkKey('curve.serverPublicKey', (value as ZmqCurveClient).serverPublicKey) };
}

function checkMs(name: keyof ZmqSettings, value: unknown, min: number): number {
  return value === undefined ? ZMQ_DEFAULTS[name] : checkInteger(name, value, min, 2 ** 31 - 1);
}

/** Checks every option before anything is made, so a bad one leaves nothing behind. */
export function checkZmqOptions(o: Partial<ZmqChannelOptions> & { highWaterMark?: unknown }): ZmqSettings {
  if (o.highWaterMark !== undefined) {
    throw typeError('highWaterMark', o.highWaterMark, 'no value over ZeroMQ, which counts messages: use sendHighWaterMark');
  }
  resolveCodec(o.codec);
  if (o.capacity !== undefined) checkCapacity(o.capacity);
  checkWake(o.wake);
  return {
    maxMessageSize: o.maxMessageSize === undefined ? ZMQ_DEFAULTS.maxMessageSize : checkInteger('maxMessageSize', o.maxMessageSize, 1, MAX_MESSAGE_LIMIT),
    sendHighWaterMark: checkMs('sendHighWaterMark', o.sendHighWaterMark, 1),
    receiveHighWaterMark: checkMs('receiveHighWaterMark', o.receiveHighWaterMark, 1),
    heartbeatInterval: checkMs('heartbeatInterval', o.heartbeatInterval, 0),
    heartbeatTimeout: checkMs('heartbeatTimeout', o.heartbeatTimeout, 1),
    heartbeatTimeToLive: o.heartbeatTimeToLive === undefined ? ZMQ_DEFAULTS.heartbeatTimeToLive : checkInteger('heartbeatTimeToLive', o.heartbeatTimeToLive, 0, 6_553_500), // ZeroMQ keeps it in 16 bits of 0.1 s
    linger: checkMs('linger', o.linger, 0),
  };
}
