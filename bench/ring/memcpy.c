/* The physical limit of the throughput scenario: single-core memcpy bandwidth for blocks
 * of SIZE bytes, copied COUNT times between two buffers larger than the caches (so the
 * figure is memory bandwidth, not cache bandwidth, for large blocks).
 *   memcpy SIZE COUNT  ->  {"seconds": ...} */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: memcpy SIZE COUNT\n"); return 2; }
  size_t size = (size_t)atol(argv[1]);
  long count = atol(argv[2]);
  size_t span = 64u << 20; /* 64 MiB on each side */
  if (span < size) span = size;
  unsigned char *src = malloc(span), *dst = malloc(span);
  memset(src, 7, span);
  memset(dst, 1, span); /* touch every page now, not during the copy */
  size_t blocks = span / size;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < count; i++) {
    size_t at = (size_t)(i % (long)blocks) * size;
    memcpy(dst + at, src + at, size);
    __asm__ volatile("" : : "r"(dst) : "memory");
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("{\"seconds\":%.9f,\"check\":%d}\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9, dst[size - 1]);
  return 0;
}
