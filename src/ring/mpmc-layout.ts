// MPMC ring layout: the common header (header.ts), then `slots` fixed-size slots (a power
// of two) of `slotSize` bytes each (a multiple of 8, at least 16).
//
//   producer line (offset 128):  enqueue position  u32, claimed by producers with a CAS
//   consumer line (offset 256):  dequeue position  u32, claimed by consumers with a CAS
//   waiters line  (offset 384):  consumer waiters, producer waiters
//
// A slot (Vyukov's bounded queue): its sequence number says whose turn it is.
//
//   +0  sequence  i32   == position: free for the producer of that position
//                       == position + 1: published, for the consumer of that position
//   +4  length    i32   payload bytes
//   +8  payload         up to slotSize - 8 bytes
//
// Sleepers park on the sequence word of the slot they wait for.
import { CONSUMER_LINE_OFFSET, HEADER_SIZE, PRODUCER_LINE_OFFSET } from './header.js';

export const ENQUEUE_OFFSET = PRODUCER_LINE_OFFSET;
export const DEQUEUE_OFFSET = CONSUMER_LINE_OFFSET;
export const SLOTS_OFFSET = HEADER_SIZE;

export const SLOT_SEQUENCE_OFFSET = 0;
export const SLOT_LENGTH_OFFSET = SLOT_SEQUENCE_OFFSET + 4;
export const SLOT_HEADER_SIZE = SLOT_LENGTH_OFFSET + 4;
export const SLOT_ALIGN = 8;

export const MIN_SLOT_SIZE = 16;
export const MAX_SLOT_SIZE = 2 ** 30;
export const MIN_SLOTS = 2;
export const MAX_SLOTS = 2 ** 24;

/** Byte offset of slot `i` in the ring. */
export function slotOffset(i: number, slotSize: number): number {
  return SLOTS_OFFSET + i * slotSize;
}

/** Segment bytes needed for a ring of these dimensions. */
export function mpmcRingSize(slots: number, slotSize: number): number {
  return SLOTS_OFFSET + slots * slotSize;
}
