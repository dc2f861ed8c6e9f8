/* A C peer of the interop tests (test/interop-c.test.ts), built on native/include/shmring.h:
 * produces or consumes the seeded streams of test/helpers/messages.ts on a ring in /dev/shm.
 *   ring-peer spsc-produce NAME COUNT SEED MAXLEN
 *   ring-peer spsc-consume NAME COUNT SEED MAXLEN
 *   ring-peer mpmc-produce NAME ID COUNT SEED MAXLEN
 *   ring-peer mpmc-consume NAME MAXLEN ID:COUNT:SEED...
 * SPSC message i: xorshift(SEED) % (MAXLEN + 1) bytes, byte j = byteAt(i, j).
 * MPMC message i of producer ID: 8 + xorshift(SEED) % (MAXLEN - 7) bytes: ID and i (u32 LE),
 * then byte j = byteAt(i, j). Prints one line of JSON; exit code 0 if all went well. */
#include "shmring.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

static uint32_t next_random(uint32_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 17;
  *x ^= *x << 5;
  return *x;
}

static uint8_t byte_at(uint32_t i, uint32_t j) { return (uint8_t)((i * 31 + j * 7 + (i >> 8)) & 0xff); }

static void fail(const char *what, struct shmring *r, int rc) {
  printf("{\"error\":\"%s: %d %s\"}\n", what, rc, r == NULL ? "" : r->why);
  exit(1);
}

static void *map_ring(const char *name, size_t *length) {
  char path[300];
  snprintf(path, sizeof path, "/%s", name);
  int fd = shm_open(path, O_RDWR, 0);
  if (fd < 0) fail("shm_open", NULL, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) fail("fstat", NULL, errno);
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) fail("mmap", NULL, errno);
  close(fd);
  *length = (size_t)st.st_size;
  return p;
}

static void fill(uint8_t *m, uint32_t i, uint32_t from, uint32_t length) {
  for (uint32_t j = from; j < length; j++) m[j] = byte_at(i, j);
}

static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void put32(uint8_t *p, uint32_t v) {
  for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (8 * k));
}

static int spsc(const char *mode, struct shmring *r, long count, uint32_t seed, uint32_t max) {
  uint8_t *m = malloc(max + 1);
  uint32_t x = seed ? seed : 1;
  if (strcmp(mode, "spsc-produce") == 0) {
    struct shmring_spsc_producer p;
    int rc = shmring_spsc_producer_open(&p, r);
    if (rc < 0) fail("producer", r, rc);
    for (long i = 0; i < count; i++) {
      uint32_t length = next_random(&x) % (max + 1);
      fill(m, (uint32_t)i, 0, length);
      if ((rc = shmring_spsc_write(&p, m, length, 30000)) < 0) fail("write", r, rc);
    }
    shmring_spsc_producer_close(&p);
    printf("{\"written\":%ld}\n", count);
    return 0;
  }
  struct shmring_spsc_consumer c;
  int rc = shmring_spsc_consumer_open(&c, r);
  if (rc < 0) fail("consumer", r, rc);
  uint8_t *got = malloc(r->max_message + 1);
  long received = 0, bytes = 0;
  char error[200] = "";
  for (; received < count; received++) {
    uint32_t length, want = next_random(&x) % (max + 1);
    if ((rc = shmring_spsc_read(&c, got, r->max_message, &length, 30000)) < 0) fail("read", r, rc);
    bytes += length;
    if (error[0] != 0) continue;
    if (length != want) snprintf(error, sizeof error, "message %ld: %u bytes, expected %u", received, length, want);
    for (uint32_t j = 0; j < length && error[0] == 0; j++) {
      if (got[j] != byte_at((uint32_t)received, j)) snprintf(error, sizeof error, "message %ld: byte %u differs", received, j);
    }
  }
  shmring_spsc_consumer_close(&c);
  printf("{\"received\":%ld,\"bytes\":%ld,\"error\":%s%s%s}\n", received, bytes, error[0] ? "\"" : "", error[0] ? error : "null", error[0] ? "\"" : "");
  return error[0] != 0;
}

#define MAX_PRODUCERS 16

static int mpmc(int argc, char **argv, struct shmring *r) {
  struct shmring_mpmc m;
  shmring_mpmc_init(&m, r);
  uint8_t *buf = malloc(r->max_message + 8);
  int rc;
  if (strcmp(argv[1], "mpmc-produce") == 0) {
    uint32_t id = (uint32_t)atol(argv[3]), seed = (uint32_t)atol(argv[5]), max = (uint32_t)atol(argv[6]);
    long count = atol(argv[4]);
    uint32_t x = seed ? seed : 1;
    for (long i = 0; i < count; i++) {
      uint32_t length = 8 + next_random(&x) % (max - 7);
      put32(buf, id);
      put32(buf + 4, (uint32_t)i);
      fill(buf, (uint32_t)i, 8, length);
      if ((rc = shmring_mpmc_write(&m, buf, length, 30000)) < 0) fail("write", r, rc);
    }
    shmring_mpmc_close(&m);
    printf("{\"written\":%ld}\n", count);
    return 0;
  }
  uint32_t max = (uint32_t)atol(argv[3]);
  uint32_t ids[MAX_PRODUCERS], x[MAX_PRODUCERS], next[MAX_PRODUCERS];
  long counts[MAX_PRODUCERS], total = 0;
  int producers = 0;
  for (int k = 4; k < argc && producers < MAX_PRODUCERS; k++, producers++) {
    unsigned long id, count, seed;
    if (sscanf(argv[k], "%lu:%lu:%lu", &id, &count, &seed) != 3) fail("producer spec", NULL, k);
    ids[producers] = (uint32_t)id;
    counts[producers] = (long)count;
    x[producers] = seed ? (uint32_t)seed : 1;
    next[producers] = 0;
    total += (long)count;
  }
  long received = 0, bytes = 0;
  char error[200] = "";
  for (; received < total; received++) {
    uint32_t length;
    if ((rc = shmring_mpmc_read(&m, buf, r->max_message, &length, 30000)) < 0) fail("read", r, rc);
    bytes += length;
    if (error[0] != 0) continue;
    int p = 0;
    while (p < producers && (length < 8 || ids[p] != get32(buf))) p++;
    if (p == producers) {
      snprintf(error, sizeof error, "message %ld: no such producer", received);
      continue;
    }
    uint32_t i = get32(buf + 4), want = 8 + next_random(&x[p]) % (max - 7);
    if (i != next[p]++ || (long)i >= counts[p]) snprintf(error, sizeof error, "producer %u: message %u where %u was due", ids[p], i, next[p] - 1);
    else if (length != want) snprintf(error, sizeof error, "producer %u message %u: %u bytes, expected %u", ids[p], i, length, want);
    for (uint32_t j = 8; j < length && error[0] == 0; j++) {
      if (buf[j] != byte_at(i, j)) snprintf(error, sizeof error, "producer %u message %u: byte %u differs", ids[p], i, j);
    }
  }
  shmring_mpmc_close(&m);
  printf("{\"received\":%ld,\"bytes\":%ld,\"error\":%s%s%s}\n", received, bytes, error[0] ? "\"" : "", error[0] ? error : "null", error[0] ? "\"" : "");
  return error[0] != 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: see the top of ring-peer.c\n");
    return 2;
  }
  size_t length;
  void *base = map_ring(argv[2], &length);
  struct shmring r;
  int spsc_mode = strncmp(argv[1], "spsc-", 5) == 0;
  int rc = shmring_open(&r, base, length, spsc_mode ? SHMRING_KIND_SPSC : SHMRING_KIND_MPMC);
  if (rc < 0) fail("open", &r, rc);
  if (spsc_mode) {
    if (argc < 6) return 2;
    return spsc(argv[1], &r, atol(argv[3]), (uint32_t)atol(argv[4]), (uint32_t)atol(argv[5]));
  }
  return mpmc(argc, argv, &r);
}
