// Message-queue syscalls used only by the benchmark harness to compare shmring with
// POSIX and System V message queues. Filled in with the benchmark.
#include "common.h"

namespace shmring {

void InitQueues(Napi::Env env, Napi::Object exports) {}

}  // namespace shmring
