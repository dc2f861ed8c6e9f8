// SPSC ring layout: the common header (header.ts), then a data area of `capacity` bytes
// (a power of two) holding variable-length records. Owns these bytes; pure constants and
// accessors, no state. Offsets are from the ring's byteOffset.
//
//   param A (header offset 16):  capacity   u32 data bytes; params B and C are 0
//
//   producer line (offset 128):  tail   u32 position: bytes ever published, mod 2^32
//   consumer line (offset 256):  head   u32 position: bytes ever released, mod 2^32
//   waiters line  (offset 384):  consumer waiters (sleep on tail), producer waiters (sleep on head)
//
// A record starts at an 8-aligned offset of the data area and is never split at the wrap:
//
//   +0  length  i32   payload bytes (a padding record: bytes to the end of the area - 8)
//   +4  type    i32   bits 0-7: 1 message, 2 padding; bits 8-15: a message's tag (0 unless
//                     its writer gave one: a Channel's frame kind); bits 16-31: zero
//   +8  payload       `length` bytes, then zeros up to the next multiple of 8
import { CONSUMER_LINE_OFFSET, HEADER_SIZE, type HeaderParams, PARAM_A_OFFSET, PRODUCER_CLOSED_OFFSET, PRODUCER_LINE_OFFSET } from './header.js';

export const CAPACITY_OFFSET = PARAM_A_OFFSET;
export const TAIL_OFFSET = PRODUCER_LINE_OFFSET;
export const HEAD_OFFSET = CONSUMER_LINE_OFFSET;
export const DATA_OFFSET = HEADER_SIZE;
/** Int32Array indices of the tail and head (the ring's Int32Array starts at its byteOffset). */
export const TAIL_INDEX = TAIL_OFFSET >> 2;
export const HEAD_INDEX = HEAD_OFFSET >> 2;
/** Int32Array index of the producer-closed flag (header). */
export const PRODUCER_CLOSED_INDEX = PRODUCER_CLOSED_OFFSET >> 2;

export const RECORD_LENGTH_OFFSET = 0;
export const RECORD_TYPE_OFFSET = RECORD_LENGTH_OFFSET + 4;
export const RECORD_HEADER_SIZE = RECORD_TYPE_OFFSET + 4;
export const RECORD_ALIGN = 8;

export const TYPE_MESSAGE = 1;
export const TYPE_PADDING = 2;
/** A message record's type word carries its tag above the type byte. */
export const TAG_SHIFT = 8;
export const MAX_TAG = 255;

/** The type word of a message record with `tag` (0..MAX_TAG). */
export function messageType(tag: number): number {
  return TYPE_MESSAGE | (tag << TAG_SHIFT);
}

export const MIN_CAPACITY = 64;
export const MAX_CAPACITY = 2 ** 30;

/** The header params of an SPSC ring. */
export function spscParams(capacity: number): HeaderParams {
  return [capacity, 0, 0];
}

/** Byte offset (from the ring's start) of the record at data-area index `index`. */
export function recordOffset(index: number): number {
  return DATA_OFFSET + index;
}

/** Int32Array index of the data word at byte `index` of the data (a multiple of 4). */
export function dataWordIndex(index: number): number {
  return (DATA_OFFSET + index) >> 2;
}

/** Int32Array index of the length word of the record at byte offset `at`. */
export function recordLengthIndex(at: number): number {
  return (at + RECORD_LENGTH_OFFSET) >> 2;
}

/** Int32Array index of the type word of the record at byte offset `at`. */
export function recordTypeIndex(at: number): number {
  return (at + RECORD_TYPE_OFFSET) >> 2;
}

/** Byte offset of the payload of the record at byte offset `at`. */
export function payloadOffset(at: number): number {
  return at + RECORD_HEADER_SIZE;
}

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
