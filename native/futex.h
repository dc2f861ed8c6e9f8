// The async futex waiter: dedicated threads that sleep in futex_waitv on behalf of
// pending waitAsync() calls and report through a thread-safe function, so no libuv
// pool thread is held per waiter.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"

namespace shmring {

enum WaitResult : int32_t { kWaitOk = 0, kWaitNotEqual = 1, kWaitTimedOut = 2 };

struct AsyncWait {
  uint32_t id;
  int32_t* addr;
  int32_t expected;
  int64_t deadlineNs;  // CLOCK_MONOTONIC, or -1 for none
};

struct WaitOutcome {
  uint32_t id;
  int32_t result;
};

class WaiterThread;

class WaiterPool {
 public:
  WaiterPool(Napi::Env env, Napi::Function callback);
  ~WaiterPool();
  uint32_t Add(int32_t* addr, int32_t expected, int64_t deadlineNs);
  bool Cancel(uint32_t id);
  void SetRef(bool ref);
  void Deliver(std::vector<WaitOutcome>* outcomes);
  void Stop();

 private:
  Napi::Env env_;
  Napi::ThreadSafeFunction tsfn_;
  std::mutex lock_;
  std::vector<std::unique_ptr<WaiterThread>> threads_;
  uint32_t nextId_ = 1;
  bool stopped_ = false;
};

}  // namespace shmring
