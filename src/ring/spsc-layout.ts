// SPSC ring layout: the common header (header.ts), then a data area of `capacity` bytes
// (a power of two) holding variable-length records.
//
//   producer line (offset 128):  tail   u32 position: bytes ever published, mod 2^32
//   consumer line (offset 256):  head   u32 position: bytes ever released, mod 2^32
//   waiters line  (offset 384):  consumer waiters (sleep on tail), producer waiters (sleep on head)
//
// A record starts at an 8-aligned offset of the data area and is never split at the wrap:
//
//   +0  length  i32   payload bytes (a padding record: bytes to the end of the area - 8)
//   +4  type    i32   1 message, 2 padding
//   +8  payload       `length` bytes, then zeros up to the next multiple of 8
import { CONSUMER_LINE_OFFSET, HEADER_SIZE, PRODUCER_LINE_OFFSET } from './header.js';

export const TAIL_OFFSET = PRODUCER_LINE_OFFSET;
export const HEAD_OFFSET = CONSUMER_LINE_OFFSET;
export const DATA_OFFSET = HEADER_SIZE;

export const RECORD_LENGTH_OFFSET = 0;
export const RECORD_TYPE_OFFSET = RECORD_LENGTH_OFFSET + 4;
export const RECORD_HEADER_SIZE = RECORD_TYPE_OFFSET + 4;
export const RECORD_ALIGN = 8;

export const TYPE_MESSAGE = 1;
export const TYPE_PADDING = 2;

export const MIN_CAPACITY = 64;
export const MAX_CAPACITY = 2 ** 30;

/** Bytes a record with `length` payload bytes takes in the data area. */
export function recordSize(length: number): number {
  return RECORD_HEADER_SIZE + ((length + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1));
}

/**
 * Largest payload a ring of this capacity accepts: its record takes at most half the data
 * area, so an empty ring always has room for it wherever the tail stands (at worst a
 * padding record of less than half the area comes first).
 */
export function maxMessageSize(capacity: number): number {
  return capacity / 2 - RECORD_HEADER_SIZE;
}

/** Segment bytes needed for a ring of this capacity. */
export function spscRingSize(capacity: number): number {
  return DATA_OFFSET + capacity;
}
