/* What the C round-trip programs of the benchmark share (bench/sync/pingpong.c,
 * bench/ring/cring-rtt.c): the clock, the spin budget in loads, and the summary of the
 * round trips. */
#ifndef SHMRING_BENCH_RTT_H
#define SHMRING_BENCH_RTT_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* How many loads of an unchanging shared word take `ns` nanoseconds here. */
static long calibrate_loads(double ns) {
  static _Atomic int32_t probe;
  long n = 10000000;
  double t0 = now_us();
  for (long i = 0; i < n; i++) {
    if (atomic_load(&probe) != 0) break;
  }
  return (long)(ns / ((now_us() - t0) * 1000.0 / n));
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

struct rtt_summary {
  double median, p99, mean;
};

/* Sorts the round trips (µs) and summarizes them. */
static struct rtt_summary summarize_rtt(double *rt, long rounds) {
  double sum = 0;
  for (long i = 0; i < rounds; i++) sum += rt[i];
  qsort(rt, rounds, sizeof(double), compare_doubles);
  struct rtt_summary s = {rt[rounds / 2], rt[(long)(rounds * 0.99)], sum / rounds};
  return s;
}

#endif
