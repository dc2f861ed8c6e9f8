/* What the C round-trip programs of the benchmark share (bench/sync/pingpong.c,
 * bench/ring/cring-rtt.c): the clock, their arguments, the spin budget in loads, the yield
 * phase of the spin-then-park waits, and the summary of the round trips. */
#ifndef SHMRING_BENCH_RTT_H
#define SHMRING_BENCH_RTT_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* How the receiver of a round trip waits, from the command line:
 *   PROGRAM spin|futex|hybrid ROUNDS SPIN_NS [YIELD_NS] */
static int mode_spin, mode_futex;
static long spins;      /* hybrid: loads to spin before yielding */
static double yield_ns; /* hybrid: time to yield before parking */

/* Parses the arguments above; returns ROUNDS, or -1 after printing the usage. */
static long parse_rtt_args(int argc, char **argv, const char *program) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s spin|futex|hybrid ROUNDS SPIN_NS [YIELD_NS]\n", program);
    return -1;
  }
  mode_spin = strcmp(argv[1], "spin") == 0;
  mode_futex = strcmp(argv[1], "futex") == 0;
  spins = calibrate_loads(atof(argv[3]));
  yield_ns = argc > 4 ? atof(argv[4]) : 0;
  return atol(argv[2]);
}

/* The yield phase of a spin-then-park wait, as in WaitStrategy: gives the CPU to any other
 * runnable thread between looks at *word for up to `ns`; 1 if the word left `seen`. */
static int yield_while(_Atomic int32_t *word, int32_t seen, double ns) {
  if (ns <= 0) return 0;
  double until = now_us() + ns / 1000.0;
  do {
    sched_yield();
    if (atomic_load(word) != seen) return 1;
  } while (now_us() < until);
  return 0;
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
