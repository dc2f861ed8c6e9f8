/* Opening a ring in mapped memory: the checks of src/ring/header-io.ts readHeader, in the same
 * order, so that C refuses exactly what TypeScript refuses; the shared view both ring kinds use;
 * taking and giving back a role held in an owner word (src/sync/role.ts). Part of shmring.h. */
#ifndef SHMRING_OPEN_H
#define SHMRING_OPEN_H

#include "shmring_layout.h"
#include "shmring_sys.h"

/* How long shmring_open waits for a ring that is still being formatted (OPEN_READY_WAIT_MS). */
#define SHMRING_OPEN_READY_WAIT_MS 500

/* One ring as a C peer sees it: where it is, and its checked dimensions. */
struct shmring {
  uint8_t *base;   /* the ring's first byte (its region's byteOffset already added) */
  size_t length;   /* bytes of the region: nothing past base + length is ever touched */
  uint32_t kind;
  uint32_t capacity, mask, max_message;     /* SPSC */
  uint32_t slots, slot_size, participants;  /* MPMC */
  uint64_t total_size;
  int64_t self;    /* this process's identity */
  char why[160];   /* the reason of the last error */
};

static inline struct shmring_header *shmring_hdr(struct shmring *r) { return (struct shmring_header *)(void *)r->base; }

/* Records why a call failed and returns `code`. */
static inline int shmring_fail(struct shmring *r, int code, const char *why) {
  snprintf(r->why, sizeof r->why, "%s", why);
  return code;
}

static inline int shmring_corrupt(struct shmring *r, const char *what, int64_t value, uint32_t position) {
  snprintf(r->why, sizeof r->why, "corrupt ring: %s %lld at position %u", what, (long long)value, position);
  return SHMRING_E_BAD_HEADER;
}

static inline int shmring_pow2(uint32_t n) { return n != 0 && (n & (n - 1)) == 0; }

/* The data bytes the kind needs for its params, or -1 if the params are bad. */
static inline int64_t shmring_data_size(uint32_t kind, uint32_t a, uint32_t b, uint32_t c) {
  if (kind == SHMRING_KIND_SPSC) return shmring_pow2(a) && a >= SHMRING_MIN_CAPACITY && a <= SHMRING_MAX_CAPACITY ? (int64_t)a : -1;
  if (!shmring_pow2(a) || a < SHMRING_MIN_SLOTS || a > SHMRING_MAX_SLOTS) return -1;
  if (b % SHMRING_SLOT_ALIGN != 0 || b < SHMRING_MIN_SLOT_SIZE || b > SHMRING_MAX_SLOT_SIZE) return -1;
  if (c < 1 || c > SHMRING_MAX_PARTICIPANTS) return -1;
  if ((uint64_t)a * b > SHMRING_MAX_SLOTS_BYTES) return -1;
  return (int64_t)(shmring_mpmc_size(a, b, c) - SHMRING_HEADER_SIZE);
}

/*
 * Validates the ring of `kind` at `base` (a region of `length` bytes) and fills `r`; never
 * writes the ring. SHMRING_E_BAD_HEADER (r->why says why) for anything that is not a ready
 * ring of that kind fitting the region.
 */
static inline int shmring_open(struct shmring *r, void *base, size_t length, uint32_t kind) {
  memset(r, 0, sizeof *r);
  r->base = (uint8_t *)base;
  r->length = length;
  r->kind = kind;
  if (length < SHMRING_HEADER_SIZE) return shmring_fail(r, SHMRING_E_BAD_HEADER, "too small for a ring header");
  struct shmring_header *h = shmring_hdr(r);
  if ((uint32_t)shmring_load(&h->magic) != SHMRING_MAGIC) return shmring_fail(r, SHMRING_E_BAD_HEADER, "no shmring magic");
  if (shmring_load(&h->version) != SHMRING_VERSION) return shmring_fail(r, SHMRING_E_BAD_HEADER, "unknown version");
  if ((uint32_t)shmring_load(&h->kind) != kind) return shmring_fail(r, SHMRING_E_BAD_HEADER, "another kind of ring");
  int64_t deadline = shmring_now_ms() + SHMRING_OPEN_READY_WAIT_MS;
  for (int32_t state; (state = shmring_load(&h->state)) != SHMRING_STATE_READY;) {
    if (state != SHMRING_STATE_FORMATTING) return shmring_fail(r, SHMRING_E_BAD_HEADER, "unknown state");
    if (shmring_now_ms() > deadline) return shmring_fail(r, SHMRING_E_BAD_HEADER, "the ring never became ready");
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
  }
  /* Read once: everything below uses these copies, never the shared words again. */
  uint32_t a = (uint32_t)shmring_load(&h->param_a), b = (uint32_t)shmring_load(&h->param_b), c = (uint32_t)shmring_load(&h->param_c);
  uint32_t header_size = (uint32_t)shmring_load(&h->header_size), total = (uint32_t)shmring_load(&h->total_size);
  if (header_size != SHMRING_HEADER_SIZE) return shmring_fail(r, SHMRING_E_BAD_HEADER, "wrong header size");
  int64_t data = shmring_data_size(kind, a, b, c);
  if (data < 0) return shmring_fail(r, SHMRING_E_BAD_HEADER, "bad ring parameters");
  if ((uint64_t)total != SHMRING_HEADER_SIZE + (uint64_t)data) return shmring_fail(r, SHMRING_E_BAD_HEADER, "total size disagrees with the parameters");
  if (total > length) return shmring_fail(r, SHMRING_E_BAD_HEADER, "truncated: the region is smaller than the ring");
  r->total_size = total;
  if (kind == SHMRING_KIND_SPSC) {
    r->capacity = a;
    r->mask = a - 1;
    r->max_message = shmring_spsc_max_message(a);
  } else {
    r->slots = a;
    r->slot_size = b;
    r->participants = c;
    r->max_message = b - SHMRING_SLOT_HEADER_SIZE;
  }
  r->self = shmring_self();
  return SHMRING_OK;
}

/* Takes the role held in owner word `owner` (SHMRING_E_ROLE_TAKEN if a live process has it);
 * a dead holder's role is taken over with a second CAS. */
static inline int shmring_take_role(struct shmring *r, int64_t *owner) {
  int64_t previous = shmring_cas64(owner, 0, r->self);
  if (previous == 0) return SHMRING_OK;
  if (previous == r->self || shmring_alive(previous)) return shmring_fail(r, SHMRING_E_ROLE_TAKEN, "the role is held by a live process");
  if (shmring_cas64(owner, previous, r->self) != previous) return shmring_fail(r, SHMRING_E_ROLE_TAKEN, "another process took the role over first");
  return SHMRING_OK;
}

static inline void shmring_release_role(struct shmring *r, int64_t *owner) { shmring_cas64(owner, r->self, 0); }

/* Whether the holder of owner word `owner` is known to be dead (0: nobody yet, not dead). */
static inline int shmring_holder_dead(int64_t *owner) {
  int64_t o = shmring_load64(owner);
  return o != 0 && !shmring_alive(o);
}

/*
 * The one wait of a blocked call: `attempt` until it gives non-zero; look at *word for a while,
 * then announce in *waiters, re-try, and park on *word while it holds what it held before the
 * re-try. `check` runs after each park that lasted SHMRING_CHECK_EVERY_MS (peer liveness); timeout_ms < 0:
 * no limit.
 */
typedef int (*shmring_attempt_fn)(void *ctx);
static inline int shmring_block(void *ctx, shmring_attempt_fn attempt, shmring_attempt_fn check, int32_t *word, int32_t *waiters, int spin, int64_t timeout_ms) {
  int64_t deadline = timeout_ms < 0 ? INT64_MAX : shmring_now_ms() + timeout_ms;
  for (;;) {
    int32_t before = shmring_load(word);
    int rc = attempt(ctx);
    if (rc != 0) return rc;
    if (spin) {
      int changed = 0;
      for (int i = 0; i < SHMRING_SPIN_LOOKS && !changed; i++) changed = shmring_load_relaxed(word) != before;
      for (int i = 0; i < SHMRING_YIELDS && !changed; i++) {
        sched_yield();
        changed = shmring_load_relaxed(word) != before;
      }
      if (changed) continue;
    }
    int64_t left = deadline - shmring_now_ms();
    if (left <= 0) return SHMRING_E_TIMEOUT;
    shmring_add(waiters, 1);
    int32_t seen = shmring_load(word);
    rc = attempt(ctx); /* the re-check: a publisher that missed our announcement published before it */
    int timed_out = rc == 0 && shmring_futex_wait(word, seen, left < SHMRING_CHECK_EVERY_MS ? left : SHMRING_CHECK_EVERY_MS);
    shmring_add(waiters, -1);
    if (rc != 0) return rc;
    if (timed_out && (rc = check(ctx)) != 0) return rc;
  }
}

#endif
