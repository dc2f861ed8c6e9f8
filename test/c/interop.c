/* Plain C peer for the interop test: writes or verifies an array of records in shared
 * memory using only the standard calls (shm_open+mmap, open+mmap, ftok+shmget+shmat).
 *   interop write|read shm NAME COUNT
 *   interop write|read file /abs/path COUNT
 *   interop write|read sysv /path PROJ COUNT
 * Record i: id = i, flags = i * 3, value = i * 0.5, tag = "rec-<i>". */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

struct record {
  int32_t id;
  uint32_t flags;
  double value;
  char tag[16];
};
_Static_assert(sizeof(struct record) == 32, "record is 32 bytes");

static void *map_fd(int fd, size_t size, int create) {
  if (create && ftruncate(fd, (off_t)size) != 0) { perror("ftruncate"); exit(2); }
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(2); }
  close(fd);
  return p;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage\n"); return 2; }
  int writing = strcmp(argv[1], "write") == 0;
  const char *kind = argv[2];
  long count = atol(argv[argc - 1]);
  size_t size = (size_t)count * sizeof(struct record);
  struct record *recs;
  if (strcmp(kind, "shm") == 0) {
    char name[300];
    snprintf(name, sizeof name, "/%s", argv[3]);
    int fd = shm_open(name, writing ? O_RDWR | O_CREAT | O_EXCL : O_RDWR, 0600);
    if (fd < 0) { perror("shm_open"); return 2; }
    recs = map_fd(fd, size, writing);
  } else if (strcmp(kind, "file") == 0) {
    int fd = open(argv[3], writing ? O_RDWR | O_CREAT | O_EXCL : O_RDWR, 0600);
    if (fd < 0) { perror("open"); return 2; }
    recs = map_fd(fd, size, writing);
  } else {
    key_t key = ftok(argv[3], atoi(argv[4]));
    if (key == -1) { perror("ftok"); return 2; }
    int id = shmget(key, size, writing ? IPC_CREAT | IPC_EXCL | 0600 : 0);
    if (id < 0) { perror("shmget"); return 2; }
    recs = shmat(id, NULL, 0);
    if (recs == (void *)-1) { perror("shmat"); return 2; }
  }
  for (long i = 0; i < count; i++) {
    char tag[32];
    snprintf(tag, sizeof tag, "rec-%ld", i); /* at most 15 bytes for COUNT <= 10^11 */
    if (writing) {
      recs[i].id = (int32_t)i;
      recs[i].flags = (uint32_t)(i * 3);
      recs[i].value = (double)i * 0.5;
      memset(recs[i].tag, 0, sizeof recs[i].tag);
      memcpy(recs[i].tag, tag, strnlen(tag, sizeof recs[i].tag - 1));
    } else if (recs[i].id != i || recs[i].flags != (uint32_t)(i * 3) || recs[i].value != (double)i * 0.5 ||
               strcmp(recs[i].tag, tag) != 0) {
      printf("mismatch at %ld\n", i);
      return 1;
    }
  }
  printf("ok %ld\n", count);
  return 0;
}
