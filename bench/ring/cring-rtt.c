/* C reference for the ring round-trip benchmark: the same two SPSC rings as
 * bench/ring/rtt-peer.ts (the layout of native/include/shmring_layout.h, 4 KiB each), two
 * processes (fork), 64-byte messages copied in and out with memcpy, positions published
 * with sequentially consistent stores as Atomics.store does.
 *   cring-rtt spin|futex|hybrid ROUNDS SPIN_NS [YIELD_NS [MAX_MS]]
 * spin:   the receiver spins on the tail
 * futex:  the receiver parks on the tail at once (FUTEX_WAIT, shared); the sender always wakes
 * hybrid: spin for about SPIN_NS ns (a load count calibrated at start), then yield the CPU
 *         between looks for YIELD_NS (default 0), then announce in the consumer waiters
 *         word and park; the sender wakes only when that word is set
 * MAX_MS (default: none) bounds the warm-up and the measurement together in time: on a busy
 * machine, where the two spinning processes share one CPU, fewer round trips are measured
 * instead of the run taking minutes. The sender ends the receiver with a stop message.
 * Prints one JSON line: median, p99 and mean round trip in microseconds, and the round trips
 * measured. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rtt.h"
#include "shmring_layout.h"

#define CAPACITY 4096u
#define SIZE 64u
/* First payload byte of the message that ends the receiver (others are 7). */
#define STOP 1

struct ring {
  struct shmring_header *h;
  uint8_t *data;
  uint32_t pos; /* this side's next write (producer) or read (consumer) position */
  uint32_t cached_head; /* producer: the consumer's head when last read */
};


static void send_one(struct ring *r, const uint8_t *payload) {
  uint32_t index = r->pos & (CAPACITY - 1);
  uint32_t to_end = CAPACITY - index;
  uint32_t needed = to_end < shmring_record_size(SIZE) ? to_end + shmring_record_size(SIZE) : shmring_record_size(SIZE);
  /* Room is checked against a cached head, re-read when it runs out, as a real producer
   * does (and as the JS ring does): in a round trip the ring never fills, but the head's
   * cache line still moves between the cores every lap. */
  while (CAPACITY - (r->pos - r->cached_head) < needed) {
    r->cached_head = atomic_load_explicit((_Atomic uint32_t *)&r->h->head, memory_order_acquire);
  }
  /* A padding record at the wrap, as in the JS ring (4096 is no multiple of 72). */
  if (to_end < shmring_record_size(SIZE)) {
    struct shmring_record *pad = (struct shmring_record *)(r->data + index);
    pad->length = (int32_t)(CAPACITY - index - SHMRING_RECORD_HEADER_SIZE);
    pad->type = SHMRING_TYPE_PADDING;
    r->pos += CAPACITY - index;
    index = 0;
  }
  struct shmring_record *rec = (struct shmring_record *)(r->data + index);
  memcpy(shmring_payload(rec), payload, SIZE);
  rec->length = SIZE;
  rec->type = SHMRING_TYPE_MESSAGE;
  r->pos += shmring_record_size(SIZE);
  _Atomic uint32_t *tail = (_Atomic uint32_t *)&r->h->tail;
  atomic_store(tail, r->pos);
  _Atomic int32_t *waiters = (_Atomic int32_t *)&r->h->consumer_waiters;
  if (mode_futex || (!mode_spin && atomic_load(waiters) != 0)) syscall(SYS_futex, tail, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void receive_one(struct ring *r, uint8_t *sink) {
  _Atomic uint32_t *tail = (_Atomic uint32_t *)&r->h->tail;
  _Atomic int32_t *waiters = (_Atomic int32_t *)&r->h->consumer_waiters;
  for (;;) {
    uint32_t seen = atomic_load(tail);
    if (seen != r->pos) break;
    if (mode_spin) continue;
    if (!mode_futex) {
      long i = 0;
      while (i < spins && atomic_load(tail) == r->pos) i++;
      if (i < spins) break;
      if (yield_while((_Atomic int32_t *)tail, (int32_t)seen, yield_ns)) break;
    }
    atomic_fetch_add(waiters, 1);
    if (atomic_load(tail) == r->pos) syscall(SYS_futex, tail, FUTEX_WAIT, seen, NULL, NULL, 0);
    atomic_fetch_sub(waiters, 1);
  }
  struct shmring_record *rec = (struct shmring_record *)(r->data + (r->pos & (CAPACITY - 1)));
  if (rec->type == SHMRING_TYPE_PADDING) {
    r->pos += CAPACITY - (r->pos & (CAPACITY - 1));
    rec = (struct shmring_record *)(r->data + (r->pos & (CAPACITY - 1)));
  }
  memcpy(sink, shmring_payload(rec), (size_t)rec->length);
  r->pos += shmring_record_size((uint32_t)rec->length);
  atomic_store((_Atomic uint32_t *)&r->h->head, r->pos);
}

int main(int argc, char **argv) {
  long rounds = parse_rtt_args(argc, argv, "cring-rtt");
  if (rounds < 0) return 2;
  long warmup = rounds / 10;
  double max_us = argc > 5 ? atof(argv[5]) * 1000.0 : 0;
  size_t one = sizeof(struct shmring_header) + CAPACITY;
  uint8_t *base = mmap(NULL, 2 * one, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) { perror("mmap"); return 1; }
  struct ring requests = {(struct shmring_header *)base, base + sizeof(struct shmring_header), 0, 0};
  struct ring replies = {(struct shmring_header *)(base + one), base + one + sizeof(struct shmring_header), 0, 0};
  uint8_t payload[SIZE], sink[SIZE];
  memset(payload, 7, SIZE);
  pid_t child = fork();
  if (child == 0) {
    for (;;) {
      receive_one(&requests, sink);
      if (sink[0] == STOP) _exit(0);
      send_one(&replies, payload);
    }
  }
  double *rt = malloc(sizeof(double) * rounds);
  double until = max_us > 0 ? now_us() + max_us : 0;
  long measured = 0;
  for (long k = 0; k < warmup + rounds; k++) {
    double t0 = now_us();
    send_one(&requests, payload);
    receive_one(&replies, sink);
    double t1 = now_us();
    if (k >= warmup) rt[measured++] = t1 - t0;
    if (until > 0 && t1 > until && measured > 0) break;
  }
  payload[0] = STOP;
  send_one(&requests, payload);
  waitpid(child, NULL, 0);
  struct rtt_summary s = summarize_rtt(rt, measured);
  printf("{\"median\":%.4f,\"p99\":%.4f,\"mean\":%.4f,\"rounds\":%ld}\n", s.median, s.p99, s.mean, measured);
  return 0;
}
