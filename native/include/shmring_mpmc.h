/* The MPMC ring for C peers: producers and consumers that interoperate with MpmcRing
 * (src/ring/mpmc/slots.ts, registry.ts). Protocol: a producer announces in its registry entry
 * the position it is about to claim, claims it with one CAS on the enqueue position, writes the
 * length and payload, then publishes with a store of sequence = position + 1; a consumer
 * announces and claims with one CAS on the dequeue position once the sequence says published,
 * copies the payload, then frees the slot with a store of sequence = position + slots. A slot
 * left claimed by a dead participant is repaired after a delay. Part of shmring.h. */
#ifndef SHMRING_MPMC_H
#define SHMRING_MPMC_H

#include "shmring_open.h"

/* Default time a slot may stay stuck before its dead claimer is looked for (DEFAULT_REPAIR_DELAY_MS). */
#define SHMRING_REPAIR_DELAY_MS 200

/* One participant (a handle): its registry entry and its watch on a stuck slot. */
struct shmring_mpmc {
  struct shmring *r;
  struct shmring_entry *entry; /* NULL until the first operation */
  int32_t roles;
  int64_t repair_delay_ms;
  uint32_t stuck_position;
  int64_t stuck_since; /* -1: watching nothing */
};

static inline struct shmring_entry *shmring_mpmc_entry(struct shmring *r, uint32_t i) {
  return (struct shmring_entry *)(void *)(r->base + SHMRING_HEADER_SIZE) + i;
}

static inline struct shmring_slot *shmring_mpmc_slot(struct shmring *r, uint32_t position) {
  return (struct shmring_slot *)(void *)(r->base + shmring_slots_offset(r->participants) + (uint64_t)(position & (r->slots - 1)) * r->slot_size);
}

static inline void shmring_mpmc_init(struct shmring_mpmc *m, struct shmring *r) {
  memset(m, 0, sizeof *m);
  m->r = r;
  m->repair_delay_ms = SHMRING_REPAIR_DELAY_MS;
  m->stuck_since = -1;
}

/* Takes an entry once (a free one, or a dead owner's left idle), then records `role` once. */
static inline int shmring_mpmc_enter(struct shmring_mpmc *m, int32_t role) {
  struct shmring *r = m->r;
  for (uint32_t i = 0; m->entry == NULL && i < r->participants; i++) {
    struct shmring_entry *e = shmring_mpmc_entry(r, i);
    int64_t owner = shmring_load64(&e->owner);
    if (owner != 0 && (shmring_load(&e->state) != SHMRING_ENTRY_IDLE || shmring_alive(owner))) continue;
    if (shmring_cas64(&e->owner, owner, r->self) != owner) continue;
    shmring_store(&e->state, SHMRING_ENTRY_IDLE);
    shmring_store(&e->roles, 0);
    m->entry = e;
  }
  if (m->entry == NULL) return shmring_fail(r, SHMRING_E_TOO_MANY, "all participant entries are held by live processes");
  if ((m->roles & role) == 0) {
    m->roles |= role;
    shmring_store(&m->entry->roles, m->roles); /* blocked peers look for live holders of a role */
  }
  return SHMRING_OK;
}

/* Written before the claiming CAS: a peer that finds the slot stuck can tell who claimed it. */
static inline void shmring_mpmc_announce(struct shmring_mpmc *m, int32_t state, uint32_t position) {
  shmring_store_relaxed(&m->entry->position, (int32_t)position);
  shmring_store(&m->entry->state, state);
}

static inline void shmring_mpmc_idle(struct shmring_mpmc *m) {
  atomic_store_explicit(SHMRING_A32(&m->entry->state), SHMRING_ENTRY_IDLE, memory_order_release);
}

/* After a publication or a release: if anyone sleeps on that side, move their event word and wake them. */
static inline void shmring_mpmc_signal(int32_t *event, int32_t *waiters) {
  if (shmring_load(waiters) == 0) return;
  shmring_add(event, 1);
  shmring_wake(event, waiters);
}

/*
 * A slot at `position` claimed but not moving: once stuck for the repair delay, if a dead
 * participant's entry holds `position` in `state` and no live one does, moves the slot's
 * sequence from `stuck` to `repaired` with one CAS (with a tombstone length for a dead
 * producer's slot: one 64-bit CAS of the slot header) and counts a lost message. Returns 1 if the slot was repaired (by this call or another).
 */
static inline int shmring_mpmc_repair(struct shmring_mpmc *m, uint32_t position, int32_t state, uint32_t stuck, uint32_t repaired) {
  struct shmring *r = m->r;
  struct shmring_header *h = shmring_hdr(r);
  int64_t now = shmring_now_ms();
  if (m->stuck_since < 0 || m->stuck_position != position) {
    m->stuck_position = position;
    m->stuck_since = now;
    return 0;
  }
  if (now - m->stuck_since < m->repair_delay_ms) return 0;
  m->stuck_since = now;
  struct shmring_entry *dead = NULL;
  for (uint32_t i = 0; i < r->participants; i++) {
    struct shmring_entry *e = shmring_mpmc_entry(r, i);
    if (shmring_load(&e->state) != state || shmring_load(&e->position) != (int32_t)position) continue;
    int64_t owner = shmring_load64(&e->owner);
    if (owner != 0 && shmring_alive(owner)) return 0; /* slow, not dead: never repaired over */
    dead = e;
  }
  if (dead == NULL) return 0;
  struct shmring_slot *slot = shmring_mpmc_slot(r, position);
  int tombstone = state == SHMRING_ENTRY_PRODUCING;
  int done;
  if (tombstone) {
    /* Sequence and tombstone in one 64-bit CAS of the slot header (sequence in the low half,
     * little-endian): a tombstone stored before a CAS on the sequence alone would clobber the
     * length of a live producer that published the slot meanwhile (docs/models/mpmc.pml). */
    uint32_t length = (uint32_t)shmring_load(&slot->length);
    int64_t expected = (int64_t)(((uint64_t)length << 32) | stuck);
    int64_t desired = (int64_t)(((uint64_t)(uint32_t)SHMRING_TOMBSTONE << 32) | repaired);
    done = shmring_cas64(slot, expected, desired) == expected;
  } else {
    done = shmring_cas(&slot->sequence, (int32_t)stuck, (int32_t)repaired) == (int32_t)stuck;
  }
  if (done) {
    if (tombstone) shmring_mpmc_signal(&h->consumer_event, &h->consumer_waiters);
    else shmring_mpmc_signal(&h->producer_event, &h->producer_waiters);
    shmring_add(&h->lost, 1);
    shmring_cas(&dead->state, state, SHMRING_ENTRY_IDLE);
  }
  return 1;
}

/* Claims the next free slot: its position in *position, SHMRING_AGAIN if full, or an error. */
static inline int shmring_mpmc_claim_enqueue(struct shmring_mpmc *m, uint32_t *claimed) {
  struct shmring *r = m->r;
  struct shmring_header *h = shmring_hdr(r);
  uint32_t position = (uint32_t)shmring_load(&h->tail);
  for (;;) {
    int32_t sequence = shmring_load(&shmring_mpmc_slot(r, position)->sequence);
    int32_t lag = (int32_t)((uint32_t)sequence - position);
    if (lag == 0) {
      shmring_mpmc_announce(m, SHMRING_ENTRY_PRODUCING, position);
      uint32_t seen = (uint32_t)shmring_cas(&h->tail, (int32_t)position, (int32_t)(position + 1));
      if (seen == position) return *claimed = position, SHMRING_OK;
      position = seen;
    } else if (lag < 0) {
      /* Full: the previous lap's producer has not published, or its consumer not freed (+1). */
      if (lag == 1 - (int32_t)r->slots) {
        uint32_t previous = position - r->slots;
        if ((int32_t)((uint32_t)shmring_load(&h->head) - previous) > 0 && shmring_mpmc_repair(m, previous, SHMRING_ENTRY_CONSUMING, previous + 1, position)) {
          position = (uint32_t)shmring_load(&h->tail);
          continue;
        }
      } else if (lag != -(int32_t)r->slots) {
        return shmring_corrupt(r, "slot sequence", sequence, position);
      }
      return SHMRING_AGAIN;
    } else {
      uint32_t next = (uint32_t)shmring_load(&h->tail);
      if (next == position) return shmring_corrupt(r, "slot sequence ahead of the enqueue position", sequence, position);
      position = next;
    }
  }
}

/* Claims the next published slot: its position in *claimed, SHMRING_AGAIN if empty, or an error. */
static inline int shmring_mpmc_claim_dequeue(struct shmring_mpmc *m, uint32_t *claimed) {
  struct shmring *r = m->r;
  struct shmring_header *h = shmring_hdr(r);
  uint32_t position = (uint32_t)shmring_load(&h->head);
  for (;;) {
    int32_t sequence = shmring_load(&shmring_mpmc_slot(r, position)->sequence);
    int32_t lag = (int32_t)((uint32_t)sequence - (position + 1));
    if (lag == 0) {
      shmring_mpmc_announce(m, SHMRING_ENTRY_CONSUMING, position);
      uint32_t seen = (uint32_t)shmring_cas(&h->head, (int32_t)position, (int32_t)(position + 1));
      if (seen == position) return *claimed = position, SHMRING_OK;
      position = seen;
    } else if (lag < 0) {
      /* Empty: not yet published, or the previous lap's consumer has not freed the slot. */
      if (lag == -1) {
        if ((uint32_t)shmring_load(&h->tail) != position && shmring_mpmc_repair(m, position, SHMRING_ENTRY_PRODUCING, position, position + 1)) continue;
      } else if (lag != -(int32_t)r->slots) {
        return shmring_corrupt(r, "slot sequence", sequence, position);
      }
      return SHMRING_AGAIN;
    } else {
      uint32_t next = (uint32_t)shmring_load(&h->head);
      if (next == position) return shmring_corrupt(r, "slot sequence ahead of the dequeue position", sequence, position);
      position = next;
    }
  }
}

/* Writes and publishes one message if a slot is free now: SHMRING_OK, SHMRING_AGAIN (full) or an error. */
static inline int shmring_mpmc_try_write(struct shmring_mpmc *m, const void *bytes, uint32_t length) {
  struct shmring *r = m->r;
  struct shmring_header *h = shmring_hdr(r);
  if (length > r->max_message) return shmring_fail(r, SHMRING_E_TOO_LARGE, "the message does not fit a slot");
  uint32_t position;
  int rc = shmring_mpmc_enter(m, SHMRING_ROLE_PRODUCER);
  if (rc < 0 || (rc = shmring_mpmc_claim_enqueue(m, &position)) != SHMRING_OK) return rc;
  struct shmring_slot *slot = shmring_mpmc_slot(r, position);
  shmring_store_relaxed(&slot->length, (int32_t)length);
  memcpy((uint8_t *)slot + SHMRING_SLOT_HEADER_SIZE, bytes, length);
  /* Publish: the consumer that sees this sequence sees the length and payload. */
  shmring_store(&slot->sequence, (int32_t)(position + 1));
  shmring_mpmc_idle(m);
  shmring_mpmc_signal(&h->consumer_event, &h->consumer_waiters);
  return SHMRING_OK;
}

/* Takes the next message into dst (room for at least max_message bytes), freeing its slot:
 * SHMRING_OK with *length set, SHMRING_AGAIN if empty, or an error. Tombstones are skipped. */
static inline int shmring_mpmc_try_read(struct shmring_mpmc *m, void *dst, uint32_t room, uint32_t *length) {
  struct shmring *r = m->r;
  struct shmring_header *h = shmring_hdr(r);
  if (room < r->max_message) return shmring_fail(r, SHMRING_E_TARGET_SMALL, "the target must hold a slot's largest message");
  int rc = shmring_mpmc_enter(m, SHMRING_ROLE_CONSUMER);
  if (rc < 0) return rc;
  for (;;) {
    uint32_t position;
    if ((rc = shmring_mpmc_claim_dequeue(m, &position)) != SHMRING_OK) return rc;
    struct shmring_slot *slot = shmring_mpmc_slot(r, position);
    int32_t n = shmring_load_relaxed(&slot->length); /* read once, checked, then used */
    int valid = n >= 0 && (uint32_t)n <= r->max_message;
    if (valid) memcpy(dst, (uint8_t *)slot + SHMRING_SLOT_HEADER_SIZE, (size_t)n);
    /* Free the slot for the next lap's producer even if it held a tombstone or garbage. */
    shmring_store(&slot->sequence, (int32_t)(position + r->slots));
    shmring_mpmc_idle(m);
    shmring_mpmc_signal(&h->producer_event, &h->producer_waiters);
    if (n == SHMRING_TOMBSTONE) continue; /* its producer died after claiming it: counted as lost */
    if (!valid) return shmring_corrupt(r, "slot length", n, position);
    *length = (uint32_t)n;
    return SHMRING_OK;
  }
}

/* ERR_PEER_DEAD if every participant that ever took `role` and has not left is dead. */
static inline int shmring_mpmc_check_peers(struct shmring_mpmc *m, int32_t role) {
  struct shmring *r = m->r;
  int dead = 0;
  for (uint32_t i = 0; i < r->participants; i++) {
    struct shmring_entry *e = shmring_mpmc_entry(r, i);
    int64_t owner = shmring_load64(&e->owner);
    if (owner == 0 || (shmring_load(&e->roles) & role) == 0) continue;
    if (shmring_alive(owner)) return 0;
    dead++;
  }
  return dead > 0 ? shmring_fail(r, SHMRING_E_PEER_DEAD, "every peer of the other side has died") : 0;
}

struct shmring_mpmc_job {
  struct shmring_mpmc *m;
  const void *bytes;
  void *dst;
  uint32_t length;
  uint32_t *out;
};

static inline int shmring_mpmc_write_attempt(void *ctx) {
  struct shmring_mpmc_job *j = ctx;
  return shmring_mpmc_try_write(j->m, j->bytes, j->length);
}
static inline int shmring_mpmc_read_attempt(void *ctx) {
  struct shmring_mpmc_job *j = ctx;
  return shmring_mpmc_try_read(j->m, j->dst, j->length, j->out);
}
static inline int shmring_mpmc_producer_check(void *ctx) { return shmring_mpmc_check_peers(((struct shmring_mpmc_job *)ctx)->m, SHMRING_ROLE_CONSUMER); }
static inline int shmring_mpmc_consumer_check(void *ctx) { return shmring_mpmc_check_peers(((struct shmring_mpmc_job *)ctx)->m, SHMRING_ROLE_PRODUCER); }

/* A few attempts with the CPU given away in between, then the wait on the side's event word
 * (it changes only for sleepers: looking at it would not see progress). */
static inline int shmring_mpmc_block(struct shmring_mpmc_job *j, shmring_attempt_fn attempt, shmring_attempt_fn check, int32_t *event, int32_t *waiters, int64_t timeout_ms) {
  for (int i = 0; i < SHMRING_YIELDS; i++) {
    int rc = attempt(j);
    if (rc != 0) return rc;
    sched_yield();
  }
  return shmring_block(j, attempt, check, event, waiters, 0, timeout_ms);
}

/* Writes one message, blocking while the ring is full (timeout_ms < 0: no limit). */
static inline int shmring_mpmc_write(struct shmring_mpmc *m, const void *bytes, uint32_t length, int64_t timeout_ms) {
  struct shmring_header *h = shmring_hdr(m->r);
  struct shmring_mpmc_job j = {m, bytes, NULL, length, NULL};
  return shmring_mpmc_block(&j, shmring_mpmc_write_attempt, shmring_mpmc_producer_check, &h->producer_event, &h->producer_waiters, timeout_ms);
}

/* Takes the next message, blocking while the ring is empty (timeout_ms < 0: no limit). */
static inline int shmring_mpmc_read(struct shmring_mpmc *m, void *dst, uint32_t room, uint32_t *length, int64_t timeout_ms) {
  struct shmring_header *h = shmring_hdr(m->r);
  struct shmring_mpmc_job j = {m, NULL, dst, room, length};
  return shmring_mpmc_block(&j, shmring_mpmc_read_attempt, shmring_mpmc_consumer_check, &h->consumer_event, &h->consumer_waiters, timeout_ms);
}

/* Gives the registry entry back. */
static inline void shmring_mpmc_close(struct shmring_mpmc *m) {
  if (m->entry == NULL) return;
  shmring_store(&m->entry->state, SHMRING_ENTRY_IDLE);
  shmring_cas64(&m->entry->owner, m->r->self, 0);
  m->entry = NULL;
}

#endif
