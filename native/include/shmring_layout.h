/* C mirror of the ring layouts owned by src/ring/layout/header.ts, src/ring/layout/spsc.ts and
 * src/ring/layout/mpmc.ts, for C peers (the benchmark's reference ring, shmring.h). Pure layout:
 * structs, constants and static_asserts; test/layout.test.ts checks that C and TypeScript agree,
 * and docs/PROTOCOL.md describes the same bytes. */
#ifndef SHMRING_LAYOUT_H
#define SHMRING_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define SHMRING_MAGIC 0x524d4853u /* "SHMR" */
#define SHMRING_VERSION 1
#define SHMRING_KIND_SPSC 1
#define SHMRING_KIND_MPMC 2
#define SHMRING_STATE_FORMATTING 0
#define SHMRING_STATE_READY 1
#define SHMRING_LINE 128

/* The common header: four 128-byte lines, then the kind's data (512 bytes in all). */
struct shmring_header {
  uint32_t magic;
  uint32_t version;
  uint32_t kind;
  uint32_t state;
  uint32_t param_a; /* SPSC capacity, MPMC slots */
  uint32_t param_b; /* MPMC slot size */
  uint32_t header_size;
  uint32_t total_size;
  int64_t producer_owner;
  int64_t consumer_owner;
  int32_t producer_closed;
  uint32_t param_c; /* MPMC participant registry entries */
  int32_t lost;     /* MPMC messages lost to repairs */
  uint8_t reserved0[SHMRING_LINE - 60];
  uint32_t tail; /* producer line: SPSC tail, MPMC enqueue position */
  uint8_t reserved1[SHMRING_LINE - 4];
  uint32_t head; /* consumer line: SPSC head, MPMC dequeue position */
  uint8_t reserved2[SHMRING_LINE - 4];
  int32_t consumer_waiters; /* waiters line */
  int32_t producer_waiters;
  int32_t consumer_event;
  int32_t producer_event;
  uint8_t reserved3[SHMRING_LINE - 16];
};

#define SHMRING_HEADER_SIZE ((uint32_t)sizeof(struct shmring_header))

/* ---- SPSC: a data area of `capacity` bytes of 8-aligned records ---------------------------- */

struct shmring_record {
  int32_t length;
  int32_t type;
};

#define SHMRING_TYPE_MESSAGE 1
#define SHMRING_TYPE_PADDING 2
/* A message record's type word carries a tag (0..255) in bits 8-15, e.g. a Channel's frame kind. */
#define SHMRING_TAG_SHIFT 8
#define SHMRING_MAX_TAG 255
#define SHMRING_RECORD_ALIGN 8
#define SHMRING_RECORD_HEADER_SIZE ((uint32_t)sizeof(struct shmring_record))
#define SHMRING_MIN_CAPACITY 64u
#define SHMRING_MAX_CAPACITY (1u << 30)

/* Bytes a record with `length` payload bytes takes in the data area. */
static inline uint32_t shmring_record_size(uint32_t length) {
  return SHMRING_RECORD_HEADER_SIZE + ((length + SHMRING_RECORD_ALIGN - 1) & ~(uint32_t)(SHMRING_RECORD_ALIGN - 1));
}

static inline uint8_t *shmring_payload(struct shmring_record *r) { return (uint8_t *)r + SHMRING_RECORD_HEADER_SIZE; }

/* Largest payload of a ring of this capacity: a record takes at most half the data area. */
static inline uint32_t shmring_spsc_max_message(uint32_t capacity) { return capacity / 2 - SHMRING_RECORD_HEADER_SIZE; }

/* ---- MPMC: a registry of participants, then fixed-size slots ---------------------------- */

struct shmring_entry {
  int64_t owner;    /* identity of the participant holding the entry, or 0 */
  int32_t state;    /* SHMRING_ENTRY_* */
  int32_t position; /* the position it is about to claim or holds */
  int32_t roles;    /* SHMRING_ROLE_* bits, set once */
  uint8_t reserved[SHMRING_LINE - 20];
};

struct shmring_slot {
  int32_t sequence; /* == position: free for its producer; == position + 1: published */
  int32_t length;   /* payload bytes, or SHMRING_TOMBSTONE */
};

#define SHMRING_ENTRY_IDLE 0
#define SHMRING_ENTRY_PRODUCING 1
#define SHMRING_ENTRY_CONSUMING 2
#define SHMRING_ROLE_PRODUCER 1
#define SHMRING_ROLE_CONSUMER 2
#define SHMRING_TOMBSTONE (-1)
#define SHMRING_SLOT_HEADER_SIZE ((uint32_t)sizeof(struct shmring_slot))
#define SHMRING_SLOT_ALIGN 8u
#define SHMRING_MIN_SLOT_SIZE 16u
#define SHMRING_MAX_SLOT_SIZE (1u << 30)
#define SHMRING_MIN_SLOTS 2u
#define SHMRING_MAX_SLOTS (1u << 24)
#define SHMRING_MAX_PARTICIPANTS 1024u
#define SHMRING_MAX_SLOTS_BYTES (1ull << 40)

/* Byte offset of the first slot, from the ring's start. */
static inline uint64_t shmring_slots_offset(uint32_t participants) {
  return SHMRING_HEADER_SIZE + (uint64_t)participants * sizeof(struct shmring_entry);
}

/* Bytes a ring of these dimensions takes. */
static inline uint64_t shmring_mpmc_size(uint32_t slots, uint32_t slot_size, uint32_t participants) {
  return shmring_slots_offset(participants) + (uint64_t)slots * slot_size;
}

_Static_assert(offsetof(struct shmring_header, version) == 4, "version");
_Static_assert(offsetof(struct shmring_header, kind) == 8, "kind");
_Static_assert(offsetof(struct shmring_header, state) == 12, "state");
_Static_assert(offsetof(struct shmring_header, param_a) == 16, "param A");
_Static_assert(offsetof(struct shmring_header, param_b) == 20, "param B");
_Static_assert(offsetof(struct shmring_header, header_size) == 24, "header size");
_Static_assert(offsetof(struct shmring_header, total_size) == 28, "total size");
_Static_assert(offsetof(struct shmring_header, producer_owner) == 32, "producer owner");
_Static_assert(offsetof(struct shmring_header, consumer_owner) == 40, "consumer owner");
_Static_assert(offsetof(struct shmring_header, producer_closed) == 48, "producer closed");
_Static_assert(offsetof(struct shmring_header, param_c) == 52, "param C");
_Static_assert(offsetof(struct shmring_header, lost) == 56, "lost");
_Static_assert(offsetof(struct shmring_header, tail) == 128, "tail");
_Static_assert(offsetof(struct shmring_header, head) == 256, "head");
_Static_assert(offsetof(struct shmring_header, consumer_waiters) == 384, "consumer waiters");
_Static_assert(offsetof(struct shmring_header, producer_waiters) == 388, "producer waiters");
_Static_assert(offsetof(struct shmring_header, consumer_event) == 392, "consumer event");
_Static_assert(offsetof(struct shmring_header, producer_event) == 396, "producer event");
_Static_assert(sizeof(struct shmring_header) == 512, "data area offset");
_Static_assert(sizeof(struct shmring_record) == 8, "record header");
_Static_assert(offsetof(struct shmring_entry, state) == 8, "entry state");
_Static_assert(offsetof(struct shmring_entry, position) == 12, "entry position");
_Static_assert(offsetof(struct shmring_entry, roles) == 16, "entry roles");
_Static_assert(sizeof(struct shmring_entry) == 128, "registry entry");
_Static_assert(sizeof(struct shmring_slot) == 8, "slot header");
/* The MPMC repair swaps sequence (low half) and length (high half) in one 64-bit CAS. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the 64-bit slot header word is little-endian");

#endif
