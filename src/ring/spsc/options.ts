// The options of SpscRing.create/open and their checks. No state.
import { rangeError, typeError } from '../../errors.js';
import type { WaitStrategy } from '../../sync/wait-strategy.js';
import { isPowerOfTwo } from '../handle.js';
import { MAX_CAPACITY, MIN_CAPACITY, spscRingSize } from '../layout/spsc.js';
import type { RegionOptions } from '../target.js';
import { BATCH_TASK, PUBLISH_EACH } from './side.js';

/** The side of an SpscRing a handle holds. */
export type SpscRole = 'producer' | 'consumer';

/**
 * When a handle makes its writes (releases) visible: 'none' (the default) before each call
 * returns; 'task' the first record of a burst at once and the rest by the end of the
 * current task (a microtask), for event-loop producers that write many messages per task.
 */
export type SpscBatching = 'none' | 'task';

/** Options of SpscRing.open. */
export interface SpscOpenOptions extends RegionOptions {
  role?: SpscRole;
  strategy?: WaitStrategy;
  /** 'none' (default): every write is published before it returns; 'task': see SpscBatching. */
  batching?: SpscBatching;
}

/** Options of SpscRing.create. */
export interface SpscCreateOptions extends SpscOpenOptions {
  /** Data bytes, a power of two from 64 to 2^30; default: the largest that fits the region. */
  capacity?: number;
  /** At an address that exists: replace the segment if it is stale (no process maps it, its participants all died). */
  replaceStale?: boolean;
}

export function checkCapacity(value: unknown): number {
  if (typeof value !== 'number') throw typeError('capacity', value, 'a number');
  if (!Number.isInteger(value) || !isPowerOfTwo(value) || value < MIN_CAPACITY || value > MAX_CAPACITY) {
    throw rangeError('capacity', value, `a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY}`);
  }
  return value;
}

/** Why a capacity read from a header is unusable, or undefined. */
export function badCapacity(capacity: number): string | undefined {
  return isPowerOfTwo(capacity) && capacity >= MIN_CAPACITY && capacity <= MAX_CAPACITY ? undefined : `capacity ${capacity} is not a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY}`;
}

export function checkBatching(value: unknown): number {
  if (value === undefined || value === 'none') return PUBLISH_EACH;
  if (value === 'task') return BATCH_TASK;
  throw typeError('batching', value, "'none' or 'task'");
}

export function checkRole(value: unknown): SpscRole | undefined {
  if (value === undefined || value === 'producer' || value === 'consumer') return value;
  throw typeError('role', value, "'producer' or 'consumer'");
}

/**
 * RangeError unless a ring of `capacity` fits a region of `byteLength` bytes (undefined: not known
 * yet).
 */
export function checkRingFits(capacity: number, byteLength: number | undefined): void {
  if (byteLength !== undefined && spscRingSize(capacity) > byteLength) {
    throw rangeError('capacity', capacity, `one whose ring fits: it needs ${spscRingSize(capacity)} bytes, its region holds ${byteLength}`);
  }
}

/** Largest power-of-two capacity whose ring fits in `bytes`. */
export function fittingCapacity(bytes: number): number {
  const room = Math.min(bytes - spscRingSize(0), MAX_CAPACITY);
  if (room < MIN_CAPACITY) throw rangeError('byteLength', bytes, `at least ${spscRingSize(MIN_CAPACITY)}: a region of ${bytes} bytes is too small for an SPSC ring`);
  return 2 ** Math.floor(Math.log2(room));
}
