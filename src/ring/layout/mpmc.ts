// MPMC ring layout: the common header (header.ts), a registry of participants, then
// `slots` fixed-size slots (a power of two) of `slotSize` bytes each (a multiple of 8, at
// least 16). Owns these bytes; pure constants and accessors, no state. Offsets are from
// the ring's byteOffset.
//
//   params (header offsets 16, 20, 52):  slots, slotSize, participants
//
//   producer line (offset 128):  enqueue position  u32, claimed by producers with a CAS
//   consumer line (offset 256):  dequeue position  u32, claimed by consumers with a CAS
//   waiters line  (offset 384):  consumer waiters, producer waiters, consumer/producer events
//
// Registry (offset 512): `participants` entries of one 128-byte line each (each written by
// its owner on every operation, so no two share a line):
//
//   +0   owner     i64   identity of the handle holding the entry (sync/identity.ts), or 0
//   +8   state     i32   0 idle, 1 producing, 2 consuming
//   +12  position  i32   the position the owner is about to claim or holds
//   +16  roles     i32   bit 0: the owner has written, bit 1: it has read (set once)
//
// An owner writes its position and state before its CAS on the shared position and goes
// back to idle after it has published (or freed) the slot. A participant that finds a slot
// stuck for longer than the repair delay, and a dead owner's entry naming that position
// (and no live one), repairs the slot (see mpmc/registry.ts).
//
// A slot (Vyukov's bounded queue): its sequence number says whose turn it is.
//
//   +0  sequence  i32   == position: free for the producer of that position
//                       == position + 1: published, for the consumer of that position
//   +4  length    i32   payload bytes, or TOMBSTONE for a slot repaired after its producer died
//   +8  payload         up to slotSize - 8 bytes
//
// Sleepers park on the event word of their side (header waiters line).
import { CONSUMER_LINE_OFFSET, HEADER_SIZE, type HeaderParams, LINE, PARAM_A_OFFSET, PARAM_B_OFFSET, PARAM_C_OFFSET, PRODUCER_LINE_OFFSET } from './header.js';

export const SLOTS_OFFSET = PARAM_A_OFFSET;
export const SLOT_SIZE_OFFSET = PARAM_B_OFFSET;
export const PARTICIPANTS_OFFSET = PARAM_C_OFFSET;
export const ENQUEUE_OFFSET = PRODUCER_LINE_OFFSET;
export const DEQUEUE_OFFSET = CONSUMER_LINE_OFFSET;
/** Int32Array indices of the enqueue and dequeue positions. */
export const ENQUEUE_INDEX = ENQUEUE_OFFSET >> 2;
export const DEQUEUE_INDEX = DEQUEUE_OFFSET >> 2;

export const REGISTRY_OFFSET = HEADER_SIZE;
export const ENTRY_OWNER_OFFSET = 0;
export const ENTRY_STATE_OFFSET = ENTRY_OWNER_OFFSET + 8;
export const ENTRY_POSITION_OFFSET = ENTRY_STATE_OFFSET + 4;
export const ENTRY_ROLES_OFFSET = ENTRY_POSITION_OFFSET + 4;
export const ENTRY_SIZE = LINE;

export const ROLE_PRODUCER = 1;
export const ROLE_CONSUMER = 2;

export const STATE_IDLE = 0;
export const STATE_PRODUCING = 1;
export const STATE_CONSUMING = 2;

export const SLOT_SEQUENCE_OFFSET = 0;
export const SLOT_LENGTH_OFFSET = SLOT_SEQUENCE_OFFSET + 4;
export const SLOT_HEADER_SIZE = SLOT_LENGTH_OFFSET + 4;
export const SLOT_ALIGN = 8;
/** Length of a slot whose producer died after claiming it: skipped and counted as lost. */
export const TOMBSTONE = -1;

export const MIN_SLOT_SIZE = 16;
export const MAX_SLOT_SIZE = 2 ** 30;
export const MIN_SLOTS = 2;
export const MAX_SLOTS = 2 ** 24;
export const DEFAULT_PARTICIPANTS = 16;
export const MAX_PARTICIPANTS = 1024;

/** Byte offset of registry entry `i`. */
export function entryOffset(i: number): number {
  return REGISTRY_OFFSET + i * ENTRY_SIZE;
}

/** Byte offsets of the fields of registry entry `i`. */
export const entryOwnerOffset = (i: number): number => entryOffset(i) + ENTRY_OWNER_OFFSET;
export const entryStateOffset = (i: number): number => entryOffset(i) + ENTRY_STATE_OFFSET;
export const entryPositionOffset = (i: number): number => entryOffset(i) + ENTRY_POSITION_OFFSET;
export const entryRolesOffset = (i: number): number => entryOffset(i) + ENTRY_ROLES_OFFSET;

/** BigInt64Array index of the owner word of registry entry `i`. */
export const entryOwnerIndex = (i: number): number => entryOwnerOffset(i) >> 3;
/** Int32Array indices of the state, position and roles words of registry entry `i`. */
export const entryStateIndex = (i: number): number => entryStateOffset(i) >> 2;
export const entryPositionIndex = (i: number): number => entryPositionOffset(i) >> 2;
export const entryRolesIndex = (i: number): number => entryRolesOffset(i) >> 2;

/** Int32Array index of the sequence word of the slot at byte offset `at`. */
export function slotSequenceIndex(at: number): number {
  return (at + SLOT_SEQUENCE_OFFSET) >> 2;
}

/** Int32Array index of the length word of the slot at byte offset `at`. */
export function slotLengthIndex(at: number): number {
  return (at + SLOT_LENGTH_OFFSET) >> 2;
}

/**
 * BigInt64Array index of the slot header at byte offset `at`: its sequence and length as one
 * word, which a repair replaces with one 64-bit CAS (see slotHeaderWord).
 */
export function slotHeaderIndex(at: number): number {
  return (at + SLOT_SEQUENCE_OFFSET) >> 3;
}

/** The 64-bit slot header holding `sequence` and `length` (little-endian: the sequence is the low half). */
export function slotHeaderWord(sequence: number, length: number): bigint {
  return BigInt.asIntN(64, (BigInt(length | 0) << 32n) | BigInt(sequence >>> 0));
}

/** Byte offset of the payload of the slot at byte offset `at`. */
export function slotPayloadOffset(at: number): number {
  return at + SLOT_HEADER_SIZE;
}

/** The header params of an MPMC ring. */
export function mpmcParams(slots: number, slotSize: number, participants: number): HeaderParams {
  return [slots, slotSize, participants];
}

/** Int32Array indices [from, to) of the whole registry, zeroed by create(). */
export function registryIndexRange(participants: number): readonly [number, number] {
  return [REGISTRY_OFFSET >> 2, slotsOffset(participants) >> 2];
}

/** Byte offset of the first slot. */
export function slotsOffset(participants: number): number {
  return entryOffset(participants);
}

/** Byte offset of slot `i`. */
export function slotOffset(i: number, slotSize: number, participants: number): number {
  return slotsOffset(participants) + i * slotSize;
}

/** Segment bytes needed for a ring of these dimensions. */
export function mpmcRingSize(slots: number, slotSize: number, participants: number): number {
  return slotOffset(slots, slotSize, participants);
}
