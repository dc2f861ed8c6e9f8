// Channel segment layout: a channel header at offset 0, then one SPSC ring per direction at
// 128-aligned offsets. This file owns every byte of the header; the rings own theirs.
//
//   offset  size  field             written by
//   0       4     magic "SHMC"      create(), first (a bare ring says "SHMR": connect refuses it)
//   4       4     version           create()
//   8       4     state             create(), last: 0 formatting, 1 READY
//   12      4     capacity          create(): data bytes of each ring (a power of two)
//   16      4     ring A offset     create(): the creator → connector ring
//   20      4     ring B offset     create(): the connector → creator ring
//   24      4     max message size  create(): the largest message either side may send
//   28      4     total size        create(): header + both rings
//   32      8     creator           identity (sync/identity.ts) of the creating thread
//   40      8     connector         identity of the connecting thread, 0 until one connects
//   48      4     creator closed    1 once the creator closed (after its last publication)
//   52      4     connector closed  1 once the connector closed
//   56      8     schema hash       create(): the codec's schema hash (src/schema), 0 for none
//   64..127       reserved
//   128     line  creator wake line   (see below) how to wake the creator's event loop
//   256     line  connector wake line how to wake the connector's event loop
//   384           ring A, then ring B (each SpscRing.requiredBytes(capacity) bytes)
//
// A wake line belongs to the side it wakes; the peer only reads it and clears its words:
//
//   +0   4   armed       1 while that side's loop waits for data; the peer that publishes
//                        swaps it to 0 and, if it was 1, rings the doorbell
//   +4   4   need room   1 while that side has messages queued for a full ring; the peer
//                        that frees room swaps it to 0 and, if it was 1, rings
//   +8   4   wake kind   written last: 0 not yet; 1 futex wake on `armed`; 2 a datagram
//                        to the doorbell socket
//   +12  4   token       socket: the number to send in that datagram (names the channel
//                        there); futex: a counter every ring increments before its wake
//   +16  4   name length bytes of the doorbell's abstract socket name (1..MAX_NAME)
//   +20  108 name        the abstract socket name, without its leading NUL
export const CHANNEL_MAGIC = 0x434d4853; // "SHMC" little-endian
export const CHANNEL_VERSION = 3; // 2: the frame kind moved from a frame header into the record's tag; 3: the schema hash
export const STATE_FORMATTING = 0;
export const STATE_READY = 1;

export const LINE = 128;

export const MAGIC_OFFSET = 0;
export const VERSION_OFFSET = MAGIC_OFFSET + 4;
export const STATE_OFFSET = VERSION_OFFSET + 4;
export const CAPACITY_OFFSET = STATE_OFFSET + 4;
export const RING_A_OFFSET_OFFSET = CAPACITY_OFFSET + 4;
export const RING_B_OFFSET_OFFSET = RING_A_OFFSET_OFFSET + 4;
export const MAX_MESSAGE_OFFSET = RING_B_OFFSET_OFFSET + 4;
export const TOTAL_SIZE_OFFSET = MAX_MESSAGE_OFFSET + 4;
export const CREATOR_OFFSET = TOTAL_SIZE_OFFSET + 4;
export const CONNECTOR_OFFSET = CREATOR_OFFSET + 8;
export const CREATOR_CLOSED_OFFSET = CONNECTOR_OFFSET + 8;
export const CONNECTOR_CLOSED_OFFSET = CREATOR_CLOSED_OFFSET + 4;
export const SCHEMA_HASH_OFFSET = CONNECTOR_CLOSED_OFFSET + 4;

export const CREATOR_WAKE_OFFSET = LINE;
export const CONNECTOR_WAKE_OFFSET = CREATOR_WAKE_OFFSET + LINE;
export const HEADER_SIZE = CONNECTOR_WAKE_OFFSET + LINE;

// Fields of a wake line, relative to its start.
export const ARMED = 0;
export const NEED_ROOM = ARMED + 4;
export const WAKE_KIND = NEED_ROOM + 4;
export const TOKEN = WAKE_KIND + 4;
export const NAME_LENGTH = TOKEN + 4;
export const NAME = NAME_LENGTH + 4;
export const MAX_NAME = LINE - NAME;

export const WAKE_UNKNOWN = 0;
export const WAKE_FUTEX = 1;
export const WAKE_SOCKET = 2;

/** Which end of the channel a handle is. */
export type Side = 0 | 1;
export const CREATOR: Side = 0;
export const CONNECTOR: Side = 1;

export const ownerOffset = (side: Side): number => (side === CREATOR ? CREATOR_OFFSET : CONNECTOR_OFFSET);
export const closedOffset = (side: Side): number => (side === CREATOR ? CREATOR_CLOSED_OFFSET : CONNECTOR_CLOSED_OFFSET);
export const wakeOffset = (side: Side): number => (side === CREATOR ? CREATOR_WAKE_OFFSET : CONNECTOR_WAKE_OFFSET);
/** The ring `side` writes to: A for the creator, B for the connector. */
export const outboundRingOffsetField = (side: Side): number => (side === CREATOR ? RING_A_OFFSET_OFFSET : RING_B_OFFSET_OFFSET);
export const inboundRingOffsetField = (side: Side): number => outboundRingOffsetField(side === CREATOR ? CONNECTOR : CREATOR);

/** Int32Array index of a byte offset (every header field is 4-aligned). */
export const i32Index = (byteOffset: number): number => byteOffset >> 2;
/** BigInt64Array index of a byte offset (identities are 8-aligned). */
export const i64Index = (byteOffset: number): number => byteOffset >> 3;

/** Rings start on 128-byte boundaries, so that no ring line shares a cache line pair with another. */
export const RING_ALIGN = LINE;
export const alignRing = (offset: number): number => Math.ceil(offset / RING_ALIGN) * RING_ALIGN;

/** Where each ring starts and how large the segment is, for a given ring size in bytes. */
export function channelLayout(ringBytes: number): { ringA: number; ringB: number; total: number } {
  const ringA = alignRing(HEADER_SIZE);
  const ringB = alignRing(ringA + ringBytes);
  return { ringA, ringB, total: ringB + ringBytes };
}

// Frames: how a message of any size travels through the records of a ring. The kind of a
// frame is its record's tag (bits 8-15 of the ring's type word, docs/PROTOCOL.md), so a
// message that fits one record carries no header of its own:
//
//   WHOLE  the record's payload is the whole message
//   FIRST  the first piece of a larger message, after a piece header:
//            +0  total   u32   the message's length in bytes (little-endian)
//            +4  -       4 bytes, zero (keeps the piece 8-aligned)
//            +8  piece
//   MORE   the record's payload is the next piece of the message begun by FIRST
export const WHOLE = 1;
export const FIRST = 2;
export const MORE = 3;
export const PIECE_TOTAL_OFFSET = 0;
export const PIECE_HEADER = PIECE_TOTAL_OFFSET + 8;

/** Writes the piece header of a FIRST frame at the start of `bytes` (the record's payload). */
export function writePieceHeader(bytes: Uint8Array, total: number): void {
  bytes[PIECE_TOTAL_OFFSET] = total & 0xff;
  bytes[PIECE_TOTAL_OFFSET + 1] = (total >>> 8) & 0xff;
  bytes[PIECE_TOTAL_OFFSET + 2] = (total >>> 16) & 0xff;
  bytes[PIECE_TOTAL_OFFSET + 3] = total >>> 24;
  bytes.fill(0, PIECE_TOTAL_OFFSET + 4, PIECE_HEADER);
}

/** The total length a FIRST frame declares. */
export function pieceTotal(view: Uint8Array): number {
  return (view[PIECE_TOTAL_OFFSET]! | (view[PIECE_TOTAL_OFFSET + 1]! << 8) | (view[PIECE_TOTAL_OFFSET + 2]! << 16) | (view[PIECE_TOTAL_OFFSET + 3]! << 24)) >>> 0;
}

/** Int32Array index of `word` (ARMED, NEED_ROOM, WAKE_KIND, TOKEN, NAME_LENGTH) of the wake line at byte offset `line`. */
export function wakeWordIndex(line: number, word: number): number {
  return i32Index(line + word);
}

/** Byte offset of the doorbell name in the wake line at byte offset `line`. */
export function wakeNameOffset(line: number): number {
  return line + NAME;
}
