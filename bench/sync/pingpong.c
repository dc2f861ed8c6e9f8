/* C reference for the ping-pong benchmark: two processes (fork) hand one shared 32-bit
 * word back and forth, the parent writing odd values and the child even ones.
 *   pingpong spin|futex|hybrid ROUNDS SPIN_NS [YIELD_NS]
 * spin:   both sides spin on the word
 * futex:  both sides park on the word with FUTEX_WAIT (shared) and always wake
 * hybrid: spin for about SPIN_NS nanoseconds (a load count calibrated at start, so the
 *         budget matches the JS side's in time), then yield the CPU between looks for
 *         YIELD_NS (default 0), then announce in a waiters word and park; the writer
 *         wakes only when the waiters word is non-zero
 * Prints one JSON line: median, p99 and mean round trip in microseconds, and the cost of
 * a FUTEX_WAKE with no waiter in nanoseconds. */
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

struct shared {
  _Atomic int32_t word;
  _Atomic int32_t waiters;
};


static void futex_wait(_Atomic int32_t *w, int32_t v) { syscall(SYS_futex, w, FUTEX_WAIT, v, NULL, NULL, 0); }
static long futex_wake(_Atomic int32_t *w) { return syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0); }

static void await_value(struct shared *s, int32_t want) {
  if (mode_spin) {
    while (atomic_load(&s->word) != want) {}
    return;
  }
  for (;;) {
    int32_t v = atomic_load(&s->word);
    if (v == want) return;
    if (!mode_futex) {
      for (long i = 0; i < spins; i++) {
        if ((v = atomic_load(&s->word)) == want) return;
      }
      if (yield_while(&s->word, v, yield_ns)) continue;
    }
    atomic_fetch_add(&s->waiters, 1);
    if (atomic_load(&s->word) != want) futex_wait(&s->word, v);
    atomic_fetch_sub(&s->waiters, 1);
  }
}

static void publish(struct shared *s, int32_t value) {
  atomic_store(&s->word, value);
  if (mode_futex || (!mode_spin && atomic_load(&s->waiters) != 0)) futex_wake(&s->word);
}

int main(int argc, char **argv) {
  long rounds = parse_rtt_args(argc, argv, "pingpong");
  if (rounds < 0) return 2;
  long warmup = rounds / 10;
  struct shared *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) { perror("mmap"); return 1; }
  pid_t child = fork();
  if (child == 0) {
    for (long k = 0; k < warmup + rounds; k++) {
      await_value(s, (int32_t)(2 * k + 1));
      publish(s, (int32_t)(2 * k + 2));
    }
    _exit(0);
  }
  double *rt = malloc(sizeof(double) * rounds);
  for (long k = 0; k < warmup + rounds; k++) {
    double t0 = now_us();
    publish(s, (int32_t)(2 * k + 1));
    await_value(s, (int32_t)(2 * k + 2));
    if (k >= warmup) rt[k - warmup] = now_us() - t0;
  }
  waitpid(child, NULL, 0);
  struct rtt_summary summary = summarize_rtt(rt, rounds);
  long n = 200000;
  double w0 = now_us();
  for (long i = 0; i < n; i++) futex_wake(&s->waiters);
  double wake_ns = (now_us() - w0) * 1000.0 / n;
  printf("{\"median\":%.4f,\"p99\":%.4f,\"mean\":%.4f,\"wakeNoWaiterNs\":%.1f}\n", summary.median, summary.p99, summary.mean, wake_ns);
  return 0;
}
