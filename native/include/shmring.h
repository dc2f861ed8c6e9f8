/* shmring for C peers, header-only (C11 atomics, Linux, no dependency): open and validate a
 * ring in mapped memory, and produce or consume on an SPSC or MPMC ring alongside Node peers.
 * The protocol is docs/PROTOCOL.md; the layout is shmring_layout.h.
 *
 *   struct shmring r;
 *   if (shmring_open(&r, base, length, SHMRING_KIND_SPSC) < 0) puts(r.why);
 *   struct shmring_spsc_producer p;
 *   shmring_spsc_producer_open(&p, &r);
 *   shmring_spsc_write(&p, "hi", 2, 1000);
 *   shmring_spsc_producer_close(&p);
 *
 * Calls return SHMRING_OK (1), SHMRING_AGAIN (0: full/empty) or a SHMRING_E_* error with the
 * reason in r.why. A corrupt ring gives SHMRING_E_BAD_HEADER and is never read out of bounds. */
#ifndef SHMRING_H
#define SHMRING_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* syscall(), kill(), clock_gettime(): include shmring.h before system headers */
#endif

#include "shmring_layout.h"
#include "shmring_sys.h"
#include "shmring_open.h"
#include "shmring_spsc.h"
#include "shmring_mpmc.h"

#endif
