// The header every shmring ring starts with, whatever its kind. Owns these bytes and
// nothing else: layout/spsc.ts and layout/mpmc.ts own the parts that follow (and name the
// params of their kind). Pure constants and accessors; no state, no I/O.
// Offsets are from the ring's byteOffset in its target (see ring/target.ts).
//
//   offset  size  field            written by
//   0       4     magic "SHMR"     create(), first: marks the bytes as being formatted
//   4       4     version          create()
//   8       4     kind             create(): 1 SPSC, 2 MPMC
//   12      4     state            create(), last: 0 formatting, 1 READY
//   16      4     param A          create(): SPSC capacity in bytes, MPMC slot count
//   20      4     param B          create(): SPSC 0, MPMC slot size in bytes
//                                  (each kind's layout file names its params: CAPACITY_OFFSET, ...)
//   24      4     header size      create(): where the data area starts
//   28      4     total size       create(): header size + data area
//   32      8     producer owner   identity (see sync/identity.ts) of the SPSC producer, or 0
//   40      8     consumer owner   identity of the SPSC consumer, or 0
//   48      4     producer closed  SPSC: 1 once the producer closed (end of stream)
//   52      4     param C          create(): MPMC participant registry entries
//   56      4     lost             MPMC: messages lost to repairs after a participant died
//   60..127       reserved
//   128     line  producer line    the position only the producer (side) writes
//   256     line  consumer line    the position only the consumer (side) writes
//   384     line  waiters line     consumer waiters, producer waiters, consumer event, producer
//                                  event (i32 each): written only around sleeping
//   512           data area
//
// Each position sits alone on a 128-byte line (two 64-byte lines: adjacent-line prefetch
// would otherwise pair them) so that the two sides never write the same cache line.

export const RING_MAGIC = 0x524d4853; // "SHMR" little-endian
export const RING_VERSION = 1;
export const KIND_SPSC = 1;
export const KIND_MPMC = 2;
export const STATE_FORMATTING = 0;
export const STATE_READY = 1;

export const LINE = 128;

export const MAGIC_OFFSET = 0;
export const VERSION_OFFSET = MAGIC_OFFSET + 4;
export const KIND_OFFSET = VERSION_OFFSET + 4;
export const STATE_OFFSET = KIND_OFFSET + 4;
export const PARAM_A_OFFSET = STATE_OFFSET + 4;
export const PARAM_B_OFFSET = PARAM_A_OFFSET + 4;
export const HEADER_SIZE_OFFSET = PARAM_B_OFFSET + 4;
export const TOTAL_SIZE_OFFSET = HEADER_SIZE_OFFSET + 4;
export const PRODUCER_OWNER_OFFSET = TOTAL_SIZE_OFFSET + 4;
export const CONSUMER_OWNER_OFFSET = PRODUCER_OWNER_OFFSET + 8;
export const PRODUCER_CLOSED_OFFSET = CONSUMER_OWNER_OFFSET + 8;
export const PARAM_C_OFFSET = PRODUCER_CLOSED_OFFSET + 4;
export const LOST_OFFSET = PARAM_C_OFFSET + 4;

export const PRODUCER_LINE_OFFSET = LINE;
export const CONSUMER_LINE_OFFSET = PRODUCER_LINE_OFFSET + LINE;
export const WAITERS_LINE_OFFSET = CONSUMER_LINE_OFFSET + LINE;
/** Consumers sleeping because the ring was empty. */
export const CONSUMER_WAITERS_OFFSET = WAITERS_LINE_OFFSET;
/** Producers sleeping because the ring was full. */
export const PRODUCER_WAITERS_OFFSET = CONSUMER_WAITERS_OFFSET + 4;
/** MPMC: bumped by a producer that published while consumers slept; they sleep on it. */
export const CONSUMER_EVENT_OFFSET = PRODUCER_WAITERS_OFFSET + 4;
/** MPMC: bumped by a consumer that freed a slot while producers slept; they sleep on it. */
export const PRODUCER_EVENT_OFFSET = CONSUMER_EVENT_OFFSET + 4;
export const HEADER_SIZE = WAITERS_LINE_OFFSET + LINE;

/** Int32Array index of a byte offset (all header fields are 4-aligned). */
export const i32Index = (byteOffset: number): number => byteOffset >> 2;
/** BigInt64Array index of a byte offset (owner fields are 8-aligned). */
export const i64Index = (byteOffset: number): number => byteOffset >> 3;

/** The three kind-specific params (A, B, C), in that order; each layout file names them. */
export type HeaderParams = readonly [number, number, number];

export interface HeaderFields {
  kind: number;
  params: HeaderParams;
  totalSize: number;
}
