/* The SPSC ring for C peers: a producer and a consumer that interoperate with SpscRing
 * (src/ring/spsc/producer.ts, consumer.ts). Protocol: the producer writes the payload, then the
 * record header (length, type), then publishes the new tail with a sequentially consistent
 * store; the consumer loads the tail first, reads the records before it (checking every shared
 * value before using it), and releases their space by storing the new head. Part of shmring.h. */
#ifndef SHMRING_SPSC_H
#define SHMRING_SPSC_H

#include "shmring_open.h"

struct shmring_spsc_producer {
  struct shmring *r;
  uint32_t tail; /* next write position (published: every write publishes) */
  uint32_t room; /* free bytes as of the head last seen */
};

struct shmring_spsc_consumer {
  struct shmring *r;
  uint32_t head, released, cached_tail;
  uint32_t at, length; /* the record shmring_spsc_peek found: its offset and checked length */
};

static inline uint8_t *shmring_spsc_data(struct shmring *r) { return r->base + SHMRING_HEADER_SIZE; }

/* Whether tail and head can be positions of this ring: 8-aligned, at most the capacity apart. */
static inline int shmring_spsc_positions_ok(struct shmring *r, uint32_t tail, uint32_t head) {
  return ((tail | head) & 7) == 0 && tail - head <= r->capacity;
}

/* ---- producer ------------------------------------------------------------------------- */

/* Takes the producer role and resumes at the published tail (bytes past it were never published). */
static inline int shmring_spsc_producer_open(struct shmring_spsc_producer *p, struct shmring *r) {
  struct shmring_header *h = shmring_hdr(r);
  p->r = r;
  int rc = shmring_take_role(r, &h->producer_owner);
  if (rc < 0) return rc;
  uint32_t tail = (uint32_t)shmring_load(&h->tail), head = (uint32_t)shmring_load(&h->head);
  shmring_store(&h->producer_closed, 0);
  if (!shmring_spsc_positions_ok(r, tail, head)) {
    shmring_release_role(r, &h->producer_owner);
    return shmring_corrupt(r, "tail/head", (int64_t)tail - head, tail);
  }
  p->tail = tail;
  p->room = r->capacity - (tail - head);
  return SHMRING_OK;
}

/* Writes one message if it fits now and publishes it: SHMRING_OK, SHMRING_AGAIN (full) or an error. */
static inline int shmring_spsc_try_write(struct shmring_spsc_producer *p, const void *bytes, uint32_t length) {
  struct shmring *r = p->r;
  struct shmring_header *h = shmring_hdr(r);
  if (length > r->max_message) return shmring_fail(r, SHMRING_E_TOO_LARGE, "the message can never fit this ring");
  uint32_t size = shmring_record_size(length), index = p->tail & r->mask, to_end = r->capacity - index;
  uint32_t needed = size <= to_end ? size : to_end + size; /* a padding record first at the wrap */
  if (p->room < needed) {
    uint32_t head = (uint32_t)shmring_load(&h->head);
    if (!shmring_spsc_positions_ok(r, p->tail, head)) return shmring_corrupt(r, "head", head, p->tail);
    p->room = r->capacity - (p->tail - head);
    if (p->room < needed) return SHMRING_AGAIN;
  }
  uint8_t *data = shmring_spsc_data(r);
  if (size > to_end) {
    struct shmring_record *pad = (struct shmring_record *)(void *)(data + index);
    shmring_store_relaxed(&pad->length, (int32_t)(to_end - SHMRING_RECORD_HEADER_SIZE));
    shmring_store_relaxed(&pad->type, SHMRING_TYPE_PADDING);
    p->tail += to_end;
    p->room -= to_end;
    index = 0;
  }
  struct shmring_record *rec = (struct shmring_record *)(void *)(data + index);
  memcpy(shmring_payload(rec), bytes, length);
  shmring_store_relaxed(&rec->length, (int32_t)length);
  shmring_store_relaxed(&rec->type, SHMRING_TYPE_MESSAGE);
  p->tail += size;
  p->room -= size;
  /* Publish: the consumer that loads this tail sees the payload and record headers before it. */
  shmring_store(&h->tail, (int32_t)p->tail);
  shmring_wake(&h->tail, &h->consumer_waiters);
  return SHMRING_OK;
}

struct shmring_spsc_write_job {
  struct shmring_spsc_producer *p;
  const void *bytes;
  uint32_t length;
};

static inline int shmring_spsc_write_attempt(void *ctx) {
  struct shmring_spsc_write_job *j = ctx;
  return shmring_spsc_try_write(j->p, j->bytes, j->length);
}

static inline int shmring_spsc_producer_check(void *ctx) {
  struct shmring_spsc_write_job *j = ctx;
  struct shmring_header *h = shmring_hdr(j->p->r);
  if (shmring_holder_dead(&h->consumer_owner)) return shmring_fail(j->p->r, SHMRING_E_PEER_DEAD, "the consumer died while the ring was full");
  return 0;
}

/* Writes one message, blocking while the ring is full (timeout_ms < 0: no limit). */
static inline int shmring_spsc_write(struct shmring_spsc_producer *p, const void *bytes, uint32_t length, int64_t timeout_ms) {
  struct shmring_header *h = shmring_hdr(p->r);
  struct shmring_spsc_write_job job = {p, bytes, length};
  return shmring_block(&job, shmring_spsc_write_attempt, shmring_spsc_producer_check, (int32_t *)&h->head, &h->producer_waiters, 1, timeout_ms);
}

/* Marks the end of the stream (after the tail) and gives the role back. */
static inline void shmring_spsc_producer_close(struct shmring_spsc_producer *p) {
  struct shmring_header *h = shmring_hdr(p->r);
  shmring_store(&h->producer_closed, 1);
  shmring_wake(&h->tail, &h->consumer_waiters);
  shmring_release_role(p->r, &h->producer_owner);
}

/* ---- consumer ------------------------------------------------------------------------- */

/* Takes the consumer role and resumes at the released head. */
static inline int shmring_spsc_consumer_open(struct shmring_spsc_consumer *c, struct shmring *r) {
  struct shmring_header *h = shmring_hdr(r);
  c->r = r;
  int rc = shmring_take_role(r, &h->consumer_owner);
  if (rc < 0) return rc;
  uint32_t head = (uint32_t)shmring_load(&h->head), tail = (uint32_t)shmring_load(&h->tail);
  if (!shmring_spsc_positions_ok(r, tail, head)) {
    shmring_release_role(r, &h->consumer_owner);
    return shmring_corrupt(r, "tail/head", (int64_t)tail - head, head);
  }
  c->head = c->released = head;
  c->cached_tail = tail;
  return SHMRING_OK;
}

/* Gives the space of what was read back to the producer, and wakes it if it sleeps. */
static inline void shmring_spsc_release(struct shmring_spsc_consumer *c) {
  if (c->head == c->released) return;
  struct shmring_header *h = shmring_hdr(c->r);
  c->released = c->head;
  /* Release: the producer may overwrite these bytes once it loads this head. */
  shmring_store(&h->head, (int32_t)c->head);
  shmring_wake(&h->head, &h->producer_waiters);
}

/*
 * Finds the next message record, skipping padding: SHMRING_OK (c->at, c->length set, the length
 * read once and checked), SHMRING_AGAIN (none published) or SHMRING_E_BAD_HEADER. Every shared
 * value is checked before it is used as an index (src/ring/spsc/consumer.ts #next).
 */
static inline int shmring_spsc_peek(struct shmring_spsc_consumer *c) {
  struct shmring *r = c->r;
  struct shmring_header *h = shmring_hdr(r);
  uint8_t *data = shmring_spsc_data(r);
  for (;;) {
    uint32_t available = c->cached_tail - c->head;
    if (available == 0) {
      uint32_t tail = (uint32_t)shmring_load(&h->tail);
      if (!shmring_spsc_positions_ok(r, tail, c->released)) return shmring_corrupt(r, "tail", tail, c->released);
      c->cached_tail = tail;
      available = tail - c->head;
      if (available == 0) return SHMRING_AGAIN;
    }
    uint32_t index = c->head & r->mask;
    struct shmring_record *rec = (struct shmring_record *)(void *)(data + index);
    int32_t length = shmring_load_relaxed(&rec->length), type = shmring_load_relaxed(&rec->type);
    if ((type & ~(SHMRING_MAX_TAG << SHMRING_TAG_SHIFT)) == SHMRING_TYPE_MESSAGE) {
      if (length < 0 || (uint32_t)length > r->max_message) return shmring_corrupt(r, "record length", length, c->head);
      uint32_t size = shmring_record_size((uint32_t)length);
      if (size > available || index + size > r->capacity) return shmring_corrupt(r, "record overrunning the data, of length", length, c->head);
      c->at = index;
      c->length = (uint32_t)length;
      return SHMRING_OK;
    }
    if (type != SHMRING_TYPE_PADDING) return shmring_corrupt(r, "record type", type, c->head);
    uint32_t to_end = r->capacity - index;
    if ((uint32_t)length != to_end - SHMRING_RECORD_HEADER_SIZE || to_end > available) return shmring_corrupt(r, "padding length", length, c->head);
    c->head += to_end;
  }
}

/* The payload of the record shmring_spsc_peek found (c->length bytes); valid until consumed. */
static inline const uint8_t *shmring_spsc_peeked(struct shmring_spsc_consumer *c) {
  return shmring_spsc_data(c->r) + c->at + SHMRING_RECORD_HEADER_SIZE;
}

/* Moves past the record shmring_spsc_peek found and releases its space. */
static inline void shmring_spsc_consume(struct shmring_spsc_consumer *c) {
  c->head += shmring_record_size(c->length);
  shmring_spsc_release(c);
}

/* Copies the next message into dst (room for `room` bytes): SHMRING_OK with *length set,
 * SHMRING_AGAIN if empty, SHMRING_E_TARGET_SMALL (the message stays), or an error. */
static inline int shmring_spsc_try_read(struct shmring_spsc_consumer *c, void *dst, uint32_t room, uint32_t *length) {
  int rc = shmring_spsc_peek(c);
  if (rc != SHMRING_OK) {
    if (rc == SHMRING_AGAIN) shmring_spsc_release(c); /* padding skipped: give it back */
    return rc;
  }
  if (c->length > room) return shmring_fail(c->r, SHMRING_E_TARGET_SMALL, "the target cannot hold the next message");
  memcpy(dst, shmring_spsc_peeked(c), c->length);
  *length = c->length;
  shmring_spsc_consume(c);
  return SHMRING_OK;
}

struct shmring_spsc_read_job {
  struct shmring_spsc_consumer *c;
  void *dst;
  uint32_t room;
  uint32_t *length;
};

static inline int shmring_spsc_read_attempt(void *ctx) {
  struct shmring_spsc_read_job *j = ctx;
  int rc = shmring_spsc_try_read(j->c, j->dst, j->room, j->length);
  if (rc != SHMRING_AGAIN) return rc;
  /* The producer publishes before it sets the flag: seen, and still nothing, the stream ended. */
  if (shmring_load(&shmring_hdr(j->c->r)->producer_closed) == 1 && (rc = shmring_spsc_peek(j->c)) == SHMRING_AGAIN) {
    return shmring_fail(j->c->r, SHMRING_E_CLOSED, "the producer closed the ring and every message was read");
  }
  return rc < 0 ? rc : SHMRING_AGAIN;
}

static inline int shmring_spsc_consumer_check(void *ctx) {
  struct shmring_spsc_read_job *j = ctx;
  if (shmring_holder_dead(&shmring_hdr(j->c->r)->producer_owner) && shmring_spsc_peek(j->c) == SHMRING_AGAIN) {
    return shmring_fail(j->c->r, SHMRING_E_PEER_DEAD, "the producer died and every message it published was read");
  }
  return 0;
}

/* As shmring_spsc_try_read, blocking while the ring is empty (timeout_ms < 0: no limit);
 * SHMRING_E_CLOSED once the producer closed the ring and everything was read. */
static inline int shmring_spsc_read(struct shmring_spsc_consumer *c, void *dst, uint32_t room, uint32_t *length, int64_t timeout_ms) {
  struct shmring_header *h = shmring_hdr(c->r);
  struct shmring_spsc_read_job job = {c, dst, room, length};
  return shmring_block(&job, shmring_spsc_read_attempt, shmring_spsc_consumer_check, (int32_t *)&h->tail, &h->consumer_waiters, 1, timeout_ms);
}

/* Releases what was read and gives the role back. */
static inline void shmring_spsc_consumer_close(struct shmring_spsc_consumer *c) {
  shmring_spsc_release(c);
  shmring_release_role(c->r, &shmring_hdr(c->r)->consumer_owner);
}

#endif
