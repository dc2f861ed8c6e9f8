/* Runs the corruption cases of the ring fuzz tests against the C peer (test/interop-c.test.ts):
 * reads cases from stdin, each [u32 kind][u32 length][length bytes of a ring image], copies each
 * into a heap block of exactly its length (so AddressSanitizer, when built with it, catches any
 * access outside the region) and uses it as test/ring-fuzz.test.ts `exercise` does: open and read
 * up to 1024 messages as a consumer, then open a second handle and write 64 messages of i % 40
 * bytes as a producer. Prints one letter per case: R refused at open, D corruption detected
 * later, U used without error, X a message longer than the ring allows (must never happen). */
#include "shmring.h"

#include <stdlib.h>

#define READS 1024

static uint8_t scratch[1 << 16];

static char spsc(uint8_t *base, uint32_t length) {
  struct shmring rc_ring, rp_ring;
  struct shmring_spsc_consumer c;
  struct shmring_spsc_producer p;
  if (shmring_open(&rc_ring, base, length, SHMRING_KIND_SPSC) < 0 || shmring_spsc_consumer_open(&c, &rc_ring) < 0) return 'R';
  char outcome = 'U';
  for (int i = 0; i < READS; i++) {
    uint32_t n;
    int rc = shmring_spsc_try_read(&c, scratch, sizeof scratch, &n);
    if (rc == SHMRING_AGAIN) break;
    if (rc < 0) return 'D';
    if (n > rc_ring.max_message) return 'X';
  }
  if (shmring_open(&rp_ring, base, length, SHMRING_KIND_SPSC) < 0 || shmring_spsc_producer_open(&p, &rp_ring) < 0) outcome = 'D';
  for (int i = 0; i < 64 && outcome == 'U'; i++) {
    int rc = shmring_spsc_try_write(&p, scratch, (uint32_t)(i % 40));
    if (rc == SHMRING_AGAIN) break;
    if (rc < 0) outcome = 'D';
  }
  return outcome;
}

static char mpmc(uint8_t *base, uint32_t length) {
  struct shmring rc_ring, rp_ring;
  struct shmring_mpmc c, p;
  if (shmring_open(&rc_ring, base, length, SHMRING_KIND_MPMC) < 0) return 'R';
  shmring_mpmc_init(&c, &rc_ring);
  for (int i = 0; i < READS; i++) {
    uint32_t n;
    int rc = shmring_mpmc_try_read(&c, scratch, sizeof scratch, &n);
    if (rc == SHMRING_AGAIN) break;
    if (rc < 0) return 'D';
    if (n > rc_ring.max_message) return 'X';
  }
  if (shmring_open(&rp_ring, base, length, SHMRING_KIND_MPMC) < 0) return 'D';
  shmring_mpmc_init(&p, &rp_ring);
  for (int i = 0; i < 64; i++) {
    int rc = shmring_mpmc_try_write(&p, scratch, (uint32_t)(i % 40));
    if (rc == SHMRING_AGAIN) break;
    if (rc < 0) return 'D';
  }
  return 'U';
}

int main(void) {
  uint32_t head[2];
  while (fread(head, sizeof head, 1, stdin) == 1) {
    uint8_t *image = malloc(head[1] == 0 ? 1 : head[1]);
    if (image == NULL || fread(image, 1, head[1], stdin) != head[1]) return 2;
    putchar(head[0] == SHMRING_KIND_SPSC ? spsc(image, head[1]) : mpmc(image, head[1]));
    free(image);
  }
  putchar('\n');
  return 0;
}
