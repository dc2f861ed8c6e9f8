// A Channel's options: what each means, its default, and the checks that turn a wrong one
// into a TypeError or RangeError naming it.
import { rangeError, typeError } from '../errors.js';
import { MAX_CHANNEL_CAPACITY, MAX_MESSAGE_LIMIT, MIN_CHANNEL_CAPACITY } from './header.js';
import { resolveCodec, type CodecOption } from './codec.js';

/** Options of Channel.create. */
export interface ChannelOptions {
  /** Data bytes of each direction's ring, a power of two (create only). Default 1 MiB. */
  capacity?: number;
  /** 'structured' (default), 'advanced', 'json', 'raw', or { encode, decode }. */
  codec?: CodecOption;
  /** Bytes queued in this process above which postMessage returns false. Default 1 MiB. */
  highWaterMark?: number;
  /**
   * create: the largest message either side may send, written into the channel (default
   * 1 GiB). connect: the largest message this side accepts, at most the channel's (a larger
   * one changes nothing); a larger message from the peer is a 'messageerror' here.
   */
  maxMessageSize?: number;
  /** How this side's event loop is woken: 'socket' (default) or 'futex' (futex.waitAsync). */
  wake?: 'socket' | 'futex';
}

export type ConnectOptions = Omit<ChannelOptions, 'capacity'>;

export const DEFAULT_CAPACITY = 1 << 20;
export const DEFAULT_HIGH_WATER_MARK = 1 << 20;
export const DEFAULT_MAX_MESSAGE = 2 ** 30;

export function checkCapacity(value: unknown, name = 'capacity'): number {
  if (value === undefined) return DEFAULT_CAPACITY;
  if (typeof value !== 'number') throw typeError(name, value, 'a number');
  if (!Number.isInteger(value) || value < MIN_CHANNEL_CAPACITY || value > MAX_CHANNEL_CAPACITY || (value & (value - 1)) !== 0) {
    throw rangeError(name, value, `a power of two from ${MIN_CHANNEL_CAPACITY} to ${MAX_CHANNEL_CAPACITY}`);
  }
  return value;
}

/**
 * A byte count (highWaterMark, maxMessageSize): an integer from 1 to `max`, or Infinity when
 * `max` is. 0 is refused: a channel whose largest message is 0 bytes cannot be joined
 * (connect calls that header corrupt), and a highWaterMark of 0 would make every
 * postMessage return false with no 'drain' to follow (nothing waits in the queue).
 */
export function checkCount(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(name, value, 'a number');
  if (!(value >= 1 && value <= max) || (!Number.isInteger(value) && value !== Infinity)) {
    throw rangeError(name, value, max === Infinity ? 'an integer from 1, or Infinity' : `an integer from 1 to ${max}`);
  }
  return value;
}

export function checkWake(value: unknown): 'socket' | 'futex' {
  if (value === undefined || value === 'socket' || value === 'futex') return value ?? 'socket';
  throw typeError('wake', value, "'socket' or 'futex'");
}

/**
 * The options both ends take (checked before anything is made, so a bad one leaves nothing
 * behind).
 */
export function checkConnectOptions(o: Partial<ConnectOptions>): void {
  resolveCodec(o.codec);
  checkCount('maxMessageSize', o.maxMessageSize, 0, MAX_MESSAGE_LIMIT);
  checkCount('highWaterMark', o.highWaterMark, 0, Infinity);
  checkWake(o.wake);
}
