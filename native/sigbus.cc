// The SIGBUS guard of mapped segments (see sigbus.h). The handler runs on the faulting
// thread at any moment, so it only reads a list that is never freed (guards are reused,
// not deleted), calls mmap (async-signal-safe) and stores a word. Registration takes a
// mutex; ending a guard waits for handlers in flight, so a cell is never freed under one.
#include "sigbus.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>

#include "buffers.h"

namespace shmring {

struct FaultCell {
  int32_t word[2] = {0, 0};  // [0]: the fault flag; [1]: padding to 8 bytes
  std::atomic<int> refs{1};
};

struct Guard {
  std::atomic<uintptr_t> start{0};  // 0: free (a free guard never matches)
  std::atomic<size_t> length{0};
  std::atomic<FaultCell*> cell{nullptr};
  Guard* next = nullptr;  // set once, before the guard is published
};

namespace {

std::atomic<Guard*> guards{nullptr};
std::mutex guardLock;  // registration only; never taken by the handler
std::atomic<int> handlersInFlight{0};
struct sigaction previous;
std::once_flag installed;

bool Replace(uintptr_t at) {
  for (Guard* g = guards.load(std::memory_order_acquire); g != nullptr; g = g->next) {
    uintptr_t start = g->start.load(std::memory_order_seq_cst);
    if (start == 0 || at < start) continue;
    size_t length = g->length.load(std::memory_order_relaxed);
    if (at - start >= length) continue;
    // Private zero pages over the whole range: the faulting access completes on them, and
    // no later access faults (the rest of the range may be past the end of the object too).
    void* addr = mmap(reinterpret_cast<void*>(start), length, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (addr == MAP_FAILED) return false;
    __atomic_store_n(&g->cell.load(std::memory_order_relaxed)->word[0], 1, __ATOMIC_SEQ_CST);
    return true;
  }
  return false;
}

void OnSigbus(int sig, siginfo_t* info, void* context) {
  int saved = errno;
  handlersInFlight.fetch_add(1, std::memory_order_seq_cst);
  // Only a fault (si_code > 0) has an address of ours; kill(pid, SIGBUS) does not.
  bool ours = info != nullptr && info->si_code > 0 && Replace(reinterpret_cast<uintptr_t>(info->si_addr));
  handlersInFlight.fetch_sub(1, std::memory_order_seq_cst);
  errno = saved;
  if (ours) return;
  if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(sig, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN && previous.sa_handler != nullptr) {
    previous.sa_handler(sig);
  } else {
    // The default action (a SIGBUS ignored would re-fault forever): a fault repeats on
    // return and now kills the process; a signal sent with kill() is raised again.
    signal(SIGBUS, SIG_DFL);
    if (info == nullptr || info->si_code <= 0) raise(SIGBUS);
  }
}

void ReleaseBuffer(void*, void* hint) { ReleaseFaultCell(static_cast<FaultCell*>(hint)); }

}  // namespace

FaultCell* NewFaultCell() { return new FaultCell(); }

FaultCell* RetainFaultCell(FaultCell* cell) {
  cell->refs.fetch_add(1, std::memory_order_relaxed);
  return cell;
}

void ReleaseFaultCell(FaultCell* cell) {
  if (cell->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete cell;
}

Napi::Value FaultBuffer(Napi::Env env, FaultCell* cell) {
  RetainFaultCell(cell);
  return NewSharedBuffer(env, cell->word, sizeof(cell->word), ReleaseBuffer, cell);
}

Guard* GuardRange(void* addr, size_t length, FaultCell* cell) {
  RetainFaultCell(cell);
  std::lock_guard<std::mutex> lock(guardLock);
  Guard* guard = nullptr;
  for (Guard* g = guards.load(std::memory_order_relaxed); g != nullptr && guard == nullptr; g = g->next) {
    if (g->start.load(std::memory_order_relaxed) == 0) guard = g;
  }
  bool fresh = guard == nullptr;
  if (fresh) {
    guard = new Guard();
    guard->next = guards.load(std::memory_order_relaxed);
  }
  guard->cell.store(cell, std::memory_order_relaxed);
  guard->length.store(length, std::memory_order_relaxed);
  // A handler that sees this start sees the length and cell above.
  guard->start.store(reinterpret_cast<uintptr_t>(addr), std::memory_order_seq_cst);
  if (fresh) guards.store(guard, std::memory_order_release);
  return guard;
}

void UnguardRange(Guard* guard) {
  FaultCell* cell = guard->cell.load(std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(guardLock);
    guard->start.store(0, std::memory_order_seq_cst);
  }
  // Either a handler announced itself before the store above (wait for it), or it reads
  // start after it and skips this guard (seq_cst orders the two).
  while (handlersInFlight.load(std::memory_order_seq_cst) != 0) sched_yield();
  ReleaseFaultCell(cell);
}

void InstallSigbusHandler() {
  std::call_once(installed, [] {
    struct sigaction action = {};
    action.sa_sigaction = OnSigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous);
  });
}

}  // namespace shmring
