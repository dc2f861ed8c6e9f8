/* What a C peer of shmring needs from the system: atomic access to shared words, its identity
 * (pid and process start time, as src/sync/identity.ts packs them), the liveness of another
 * identity, futex wait/wake on shared (not private) words, a monotonic clock. Part of shmring.h;
 * Linux only, C11, no dependency. */
#ifndef SHMRING_SYS_H
#define SHMRING_SYS_H

/* syscall(), kill(), clock_gettime() under -std=c11: include shmring.h before any system header,
 * or compile with -D_GNU_SOURCE (or -std=gnu11). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Results of the shmring C calls: >= 0 a value (1 done, 0 full/empty), < 0 an error. */
#define SHMRING_OK 1
#define SHMRING_AGAIN 0
#define SHMRING_E_BAD_HEADER (-1)      /* ERR_SHM_BAD_HEADER: not a ring, or corrupt */
#define SHMRING_E_TOO_LARGE (-2)       /* ERR_MESSAGE_TOO_LARGE */
#define SHMRING_E_TIMEOUT (-3)         /* ERR_TIMEOUT */
#define SHMRING_E_PEER_DEAD (-4)       /* ERR_PEER_DEAD */
#define SHMRING_E_ROLE_TAKEN (-5)      /* ERR_ROLE_TAKEN */
#define SHMRING_E_CLOSED (-6)          /* ERR_CLOSED: the producer closed and all was read */
#define SHMRING_E_TOO_MANY (-7)        /* ERR_TOO_MANY_PARTICIPANTS */
#define SHMRING_E_TARGET_SMALL (-8)    /* the caller's buffer cannot hold the next message */

/* How a blocked call waits: how long it looks at the word before it parks, and how often a
 * parked call wakes to check its peer's liveness (src/sync/waiting.ts PEER_CHECK_INTERVAL_MS). */
#define SHMRING_SPIN_LOOKS 2000
#define SHMRING_YIELDS 4
#define SHMRING_CHECK_EVERY_MS 100

#define SHMRING_A32(p) ((_Atomic int32_t *)(void *)(p))
#define SHMRING_A64(p) ((_Atomic int64_t *)(void *)(p))

static inline int32_t shmring_load(const void *p) { return atomic_load_explicit(SHMRING_A32((void *)p), memory_order_seq_cst); }
static inline int32_t shmring_load_relaxed(const void *p) { return atomic_load_explicit(SHMRING_A32((void *)p), memory_order_relaxed); }
/* The publishing store: sequentially consistent, like Atomics.store, so that the waiters word
 * read after it cannot be read before it (see shmring_wake). */
static inline void shmring_store(void *p, int32_t v) { atomic_store_explicit(SHMRING_A32(p), v, memory_order_seq_cst); }
static inline void shmring_store_relaxed(void *p, int32_t v) { atomic_store_explicit(SHMRING_A32(p), v, memory_order_relaxed); }
static inline int32_t shmring_add(void *p, int32_t v) { return atomic_fetch_add_explicit(SHMRING_A32(p), v, memory_order_seq_cst); }
/* Compare-and-swap; returns the value found (== expected: swapped). */
static inline int32_t shmring_cas(void *p, int32_t expected, int32_t desired) {
  atomic_compare_exchange_strong_explicit(SHMRING_A32(p), &expected, desired, memory_order_seq_cst, memory_order_seq_cst);
  return expected;
}
static inline int64_t shmring_load64(const void *p) { return atomic_load_explicit(SHMRING_A64((void *)p), memory_order_seq_cst); }
static inline int64_t shmring_cas64(void *p, int64_t expected, int64_t desired) {
  atomic_compare_exchange_strong_explicit(SHMRING_A64(p), &expected, desired, memory_order_seq_cst, memory_order_seq_cst);
  return expected;
}

static inline int64_t shmring_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start time of process `pid` in clock ticks since boot (field 22 of /proc/PID/stat), or -1
 * if it is gone or a zombie. */
static inline int64_t shmring_start_time(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
  if (p == NULL || p[1] != ' ') return -1;
  p += 2;
  if (*p == 'Z' || *p == 'X') return -1;
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (p == NULL) return -1;
    p++;
  }
  return (int64_t)strtoull(p, NULL, 10);
}

/* This process's PID-namespace tag: 1..1023 from the inode of /proc/self/ns/pid, 0 if unknown. */
static inline uint32_t shmring_namespace_tag(void) {
  static int tag = -1;
  if (tag < 0) {
    char link[64];
    ssize_t n = readlink("/proc/self/ns/pid", link, sizeof link - 1);
    unsigned long long inode = 0;
    tag = 0;
    if (n > 0) {
      link[n] = 0;
      const char *open = strchr(link, '[');
      if (open != NULL && sscanf(open + 1, "%llu", &inode) == 1) tag = (int)(1 + inode % 1023);
    }
  }
  return (uint32_t)tag;
}

/* This process as an identity: bits 0..21 pid, 22..31 PID-namespace tag, 32..63 start time. */
static inline int64_t shmring_self(void) {
  int pid = (int)getpid();
  int64_t start = shmring_start_time(pid);
  return (int64_t)(((uint64_t)(uint32_t)start << 32) | ((shmring_namespace_tag() & 0x3ffu) << 22) | ((uint32_t)pid & 0x3fffffu));
}

/* Whether the thread of an identity still runs (a reused id with another start time: dead).
 * An identity tagged with another PID namespace counts as alive: nothing here proves it dead. */
static inline int shmring_alive(int64_t identity) {
  uint32_t tag = (uint32_t)((uint64_t)identity >> 22) & 0x3ffu;
  int pid = (int)(identity & 0x3fffff);
  if (pid == 0) return 0; /* no thread has id 0, in any namespace */
  if (tag != 0 && tag != shmring_namespace_tag()) return 1;
  if (kill(pid, 0) != 0 && errno == ESRCH) return 0;
  int64_t start = shmring_start_time(pid);
  return start >= 0 && (uint32_t)start == (uint32_t)((uint64_t)identity >> 32);
}

/* Sleeps while *word == expected, at most timeout_ms; spurious returns are normal. Returns 1
 * if the time ran out. */
static inline int shmring_futex_wait(void *word, int32_t expected, int64_t timeout_ms) {
  struct timespec ts = {(time_t)(timeout_ms / 1000), (long)(timeout_ms % 1000) * 1000000L};
  return syscall(SYS_futex, word, FUTEX_WAIT, expected, &ts, NULL, 0) != 0 && errno == ETIMEDOUT;
}

/* After a publishing store: futex wake only if the waiters word says someone sleeps. */
static inline void shmring_wake(void *word, const void *waiters) {
  if (shmring_load(waiters) != 0) syscall(SYS_futex, word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

#endif
