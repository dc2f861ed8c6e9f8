/* C mirror of the SPSC ring layout owned by src/ring/layout/header.ts and src/ring/layout/spsc.ts,
 * for C peers (the benchmark's reference ring). test/layout.test.ts checks that the two
 * agree. */
#ifndef SHMRING_LAYOUT_H
#define SHMRING_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define SHMRING_MAGIC 0x524d4853u /* "SHMR" */
#define SHMRING_VERSION 1
#define SHMRING_KIND_SPSC 1
#define SHMRING_KIND_MPMC 2
#define SHMRING_STATE_READY 1
#define SHMRING_LINE 128

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
  uint32_t tail; /* producer line */
  uint8_t reserved1[SHMRING_LINE - 4];
  uint32_t head; /* consumer line */
  uint8_t reserved2[SHMRING_LINE - 4];
  int32_t consumer_waiters; /* waiters line */
  int32_t producer_waiters;
  int32_t consumer_event;
  int32_t producer_event;
  uint8_t reserved3[SHMRING_LINE - 16];
};

struct shmring_record {
  int32_t length;
  int32_t type;
};

#define SHMRING_TYPE_MESSAGE 1
#define SHMRING_TYPE_PADDING 2
#define SHMRING_RECORD_ALIGN 8
#define SHMRING_RECORD_HEADER_SIZE ((uint32_t)sizeof(struct shmring_record))

/* Bytes a record with `length` payload bytes takes in the data area. */
static inline uint32_t shmring_record_size(uint32_t length) {
  return SHMRING_RECORD_HEADER_SIZE + ((length + SHMRING_RECORD_ALIGN - 1) & ~(uint32_t)(SHMRING_RECORD_ALIGN - 1));
}

static inline uint8_t *shmring_payload(struct shmring_record *r) { return (uint8_t *)r + SHMRING_RECORD_HEADER_SIZE; }

_Static_assert(offsetof(struct shmring_header, producer_owner) == 32, "producer owner");
_Static_assert(offsetof(struct shmring_header, consumer_owner) == 40, "consumer owner");
_Static_assert(offsetof(struct shmring_header, producer_closed) == 48, "producer closed");
_Static_assert(offsetof(struct shmring_header, tail) == 128, "tail");
_Static_assert(offsetof(struct shmring_header, head) == 256, "head");
_Static_assert(offsetof(struct shmring_header, consumer_waiters) == 384, "consumer waiters");
_Static_assert(offsetof(struct shmring_header, producer_waiters) == 388, "producer waiters");
_Static_assert(sizeof(struct shmring_header) == 512, "data area offset");
_Static_assert(sizeof(struct shmring_record) == 8, "record header");

#endif
