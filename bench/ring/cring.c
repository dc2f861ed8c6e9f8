/* C reference ring for the throughput benchmark: the same SPSC layout as shmring
 * (native/include/shmring_layout.h), a producer and a consumer process (fork), payloads
 * copied in with memcpy and out with memcpy.
 *   cring SIZE COUNT REPS fenced|release BATCH
 * fenced:  the tail/head are published with a sequentially consistent store (xchg on
 *          x86), as Atomics.store does; release: with a plain release store.
 * BATCH:   records written (or consumed) between two publications.
 * Prints the duration of each repetition in ns (first send → last receipt) as JSON. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmring_layout.h"

struct control {
  _Atomic int32_t ready;
  _Atomic int32_t go;
  _Atomic int64_t start;
  double durations[400];
};

static int fenced;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void publish(_Atomic uint32_t *word, uint32_t value) {
  if (fenced) atomic_store_explicit(word, value, memory_order_seq_cst);
  else atomic_store_explicit(word, value, memory_order_release);
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: cring SIZE COUNT REPS fenced|release BATCH\n"); return 2; }
  uint32_t size = (uint32_t)atol(argv[1]);
  long count = atol(argv[2]);
  int reps = atoi(argv[3]);
  fenced = strcmp(argv[4], "fenced") == 0;
  long batch = atol(argv[5]);
  uint32_t capacity = 1u << 20;
  while (shmring_record_size(size) > capacity / 2) capacity <<= 1;
  uint32_t mask = capacity - 1;
  size_t total = sizeof(struct shmring_header) + capacity;
  struct shmring_header *h = mmap(NULL, total + sizeof(struct control), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (h == MAP_FAILED) { perror("mmap"); return 1; }
  uint8_t *data = (uint8_t *)h + sizeof(struct shmring_header);
  struct control *ctl = (struct control *)((uint8_t *)h + total);
  _Atomic uint32_t *tail = (_Atomic uint32_t *)&h->tail;
  _Atomic uint32_t *head = (_Atomic uint32_t *)&h->head;
  uint8_t *source = malloc(size + 1), *sink = malloc(size + 1);
  memset(source, 7, size);

  pid_t child = fork();
  if (child == 0) { /* consumer */
    uint32_t pos = 0, cached_tail = 0;
    for (int rep = 0; rep < reps; rep++) {
      atomic_fetch_add(&ctl->ready, 1);
      long got = 0, since = 0;
      while (got < count) {
        if (cached_tail == pos) {
          cached_tail = atomic_load_explicit(tail, memory_order_acquire);
          if (cached_tail == pos) { if (since) { publish(head, pos); since = 0; } continue; }
        }
        struct shmring_record *r = (struct shmring_record *)(data + (pos & mask));
        if (r->type == SHMRING_TYPE_PADDING) { pos += capacity - (pos & mask); continue; }
        memcpy(sink, shmring_payload(r), (size_t)r->length);
        pos += shmring_record_size((uint32_t)r->length);
        got++;
        if (++since >= batch) { publish(head, pos); since = 0; }
      }
      publish(head, pos);
      ctl->durations[rep] = (double)(now_ns() - atomic_load(&ctl->start));
      atomic_store(&ctl->go, -(rep + 1));
    }
    _exit(sink[0] == 255 ? 1 : 0);
  }
  /* producer */
  uint32_t pos = 0, cached_head = 0;
  for (int rep = 0; rep < reps; rep++) {
    while (atomic_load(&ctl->ready) < rep + 1) {}
    atomic_store(&ctl->start, now_ns());
    long since = 0;
    for (long i = 0; i < count; i++) {
      uint32_t need = shmring_record_size(size);
      uint32_t to_end = capacity - (pos & mask);
      uint32_t want = need <= to_end ? need : to_end + need;
      while (capacity - (pos - cached_head) < want) {
        if (since) { publish(tail, pos); since = 0; }
        cached_head = atomic_load_explicit(head, memory_order_acquire);
      }
      if (need > to_end) {
        struct shmring_record *pad = (struct shmring_record *)(data + (pos & mask));
        pad->length = (int32_t)(to_end - SHMRING_RECORD_HEADER_SIZE);
        pad->type = SHMRING_TYPE_PADDING;
        pos += to_end;
      }
      struct shmring_record *r = (struct shmring_record *)(data + (pos & mask));
      memcpy(shmring_payload(r), source, size);
      r->length = (int32_t)size;
      r->type = SHMRING_TYPE_MESSAGE;
      pos += need;
      if (++since >= batch) { publish(tail, pos); since = 0; }
    }
    publish(tail, pos);
    while (atomic_load(&ctl->go) != -(rep + 1)) {}
  }
  waitpid(child, NULL, 0);
  printf("[");
  for (int rep = 0; rep < reps; rep++) printf("%s%.0f", rep ? "," : "", ctl->durations[rep]);
  printf("]\n");
  return 0;
}
