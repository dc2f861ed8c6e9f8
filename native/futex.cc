// futex(2) on words of shared memory: a blocking wait and a wake for any thread, and the
// futex_waitv-based waiter threads behind waitAsync(). Shared (not private) futexes are
// used throughout so that waiters and wakers in different processes meet.
#include "futex.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace shmring {
namespace {

// Each waiter thread sleeps on its control word plus up to this many user words.
constexpr size_t kWordsPerThread = FUTEX_WAITV_MAX - 1;

int64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

long FutexWait(int32_t* addr, int32_t expected, const struct timespec* relative) {
  return syscall(SYS_futex, addr, FUTEX_WAIT, expected, relative, nullptr, 0);
}

long FutexWake(int32_t* addr, int count, bool isPrivate) {
  return syscall(SYS_futex, addr, isPrivate ? FUTEX_WAKE_PRIVATE : FUTEX_WAKE, count, nullptr, nullptr, 0);
}

int32_t* WordAt(const Napi::CallbackInfo& info) {
  Int32View view = GetInt32View(info[0]);
  double index = info[1].As<Napi::Number>().DoubleValue();
  if (!(index >= 0 && index < static_cast<double>(view.length))) {
    throw Napi::RangeError::New(info.Env(), "index is out of range");
  }
  return view.data + static_cast<size_t>(index);
}

// wait(i32, index, expected, timeoutMs) -> 0 ok | 1 not-equal | 2 timed-out; timeoutMs < 0: none.
Napi::Value Wait(const Napi::CallbackInfo& info) {
  int32_t* addr = WordAt(info);
  int32_t expected = info[2].As<Napi::Number>().Int32Value();
  double timeoutMs = info[3].As<Napi::Number>().DoubleValue();
  int64_t deadline = timeoutMs < 0 ? -1 : MonotonicNs() + static_cast<int64_t>(timeoutMs * 1e6);
  for (;;) {
    struct timespec ts;
    struct timespec* tsp = nullptr;
    if (deadline >= 0) {
      int64_t left = deadline - MonotonicNs();
      if (left <= 0) return Napi::Number::New(info.Env(), kWaitTimedOut);
      ts.tv_sec = left / 1000000000LL;
      ts.tv_nsec = left % 1000000000LL;
      tsp = &ts;
    }
    if (FutexWait(addr, expected, tsp) == 0) return Napi::Number::New(info.Env(), kWaitOk);
    switch (errno) {
      case EAGAIN: return Napi::Number::New(info.Env(), kWaitNotEqual);
      case ETIMEDOUT: return Napi::Number::New(info.Env(), kWaitTimedOut);
      case EINTR: continue;  // a signal is not a wake-up: wait out the remaining time
      default: ThrowErrno(info.Env(), errno, "futex", "");
    }
  }
}

// wake(i32, index, count) -> number of waiters woken (count < 0: all).
Napi::Value Wake(const Napi::CallbackInfo& info) {
  int32_t* addr = WordAt(info);
  double count = info[2].As<Napi::Number>().DoubleValue();
  int n = count < 0 || count > INT_MAX ? INT_MAX : static_cast<int>(count);
  long woken = FutexWake(addr, n, false);
  if (woken < 0) ThrowErrno(info.Env(), errno, "futex", "");
  return Napi::Number::New(info.Env(), static_cast<double>(woken));
}

// Loads between two looks at the clock while spinning (a vDSO clock read costs ~20 loads).
constexpr int kLoadsPerClockCheck = 64;
// A sched_yield that kept the thread off the CPU for this long ran another thread here.
constexpr int64_t kDescheduledNs = 2000;

// spinWait(i32, index, expected, spinUs, yieldUs): waits, without sleeping, for the word to
// differ from `expected`: first loads it for spinUs, then gives the CPU to any other runnable
// thread (sched_yield) between looks for yieldUs. With nothing else runnable here,
// sched_yield returns at once and the second phase is a spin with a syscall between loads;
// with the peer queued behind this thread on its CPU, it lets the peer run. Returns
//   0: the word changed while spinning,
//   1: it changed while yielding, and no yield gave the CPU away,
//   2: it changed after a yield ran another thread on this CPU (the peer likely shares it),
//   3: it did not change.
// The spin runs here rather than in JS: a JS spin needs a clock, and performance.now()
// allocates in Node 20, so a long JS spin fills the young generation.
Napi::Value SpinWait(const Napi::CallbackInfo& info) {
  int32_t* addr = WordAt(info);
  int32_t expected = info[2].As<Napi::Number>().Int32Value();
  double spinUs = info[3].As<Napi::Number>().DoubleValue();
  double yieldUs = info[4].As<Napi::Number>().DoubleValue();
  auto changed = [addr, expected] { return __atomic_load_n(addr, __ATOMIC_SEQ_CST) != expected; };
  int64_t now = MonotonicNs();
  const int64_t spinUntil = now + static_cast<int64_t>(spinUs * 1000);
  while (now < spinUntil) {
    for (int i = 0; i < kLoadsPerClockCheck; i++) {
      if (changed()) return Napi::Number::New(info.Env(), 0);
    }
    now = MonotonicNs();
  }
  const int64_t yieldUntil = now + static_cast<int64_t>(yieldUs * 1000);
  bool gaveCpu = false;
  while (now < yieldUntil) {
    sched_yield();
    int64_t after = MonotonicNs();
    if (after - now >= kDescheduledNs) gaveCpu = true;
    now = after;
    if (changed()) return Napi::Number::New(info.Env(), gaveCpu ? 2 : 1);
  }
  return Napi::Number::New(info.Env(), changed() ? 0 : 3);
}

}  // namespace

// One thread sleeping in futex_waitv on its control word and up to kWordsPerThread words.
class WaiterThread {
 public:
  explicit WaiterThread(WaiterPool* pool) : pool_(pool), thread_([this] { Run(); }) {}

  ~WaiterThread() {
    {
      std::lock_guard<std::mutex> guard(lock_);
      stop_ = true;
    }
    Poke();
    thread_.join();
  }

  bool HasRoom() {
    std::lock_guard<std::mutex> guard(lock_);
    return waits_.size() < kWordsPerThread;
  }

  void Add(const AsyncWait& wait) {
    {
      std::lock_guard<std::mutex> guard(lock_);
      waits_.push_back(wait);
    }
    Poke();
  }

  bool Cancel(uint32_t id) {
    bool found = false;
    {
      std::lock_guard<std::mutex> guard(lock_);
      for (size_t i = 0; i < waits_.size(); i++) {
        if (waits_[i].id == id) {
          waits_[i] = waits_.back();
          waits_.pop_back();
          found = true;
          break;
        }
      }
    }
    if (found) Poke();
    return found;
  }

 private:
  // Changing the control word makes a futex_waitv in progress return (or not start).
  void Poke() {
    control_.fetch_add(1, std::memory_order_seq_cst);
    FutexWake(reinterpret_cast<int32_t*>(&control_), 1, true);
  }

  void Run() {
    std::vector<struct futex_waitv> vec;
    std::vector<uint32_t> ids;
    for (;;) {
      int64_t deadline = -1;
      {
        std::lock_guard<std::mutex> guard(lock_);
        if (stop_) return;
        vec.clear();
        ids.clear();
        struct futex_waitv control = {};
        control.val = static_cast<uint32_t>(control_.load(std::memory_order_seq_cst));
        control.uaddr = reinterpret_cast<uintptr_t>(&control_);
        control.flags = FUTEX_32 | FUTEX_PRIVATE_FLAG;
        vec.push_back(control);
        for (const AsyncWait& w : waits_) {
          struct futex_waitv entry = {};
          entry.val = static_cast<uint32_t>(w.expected);
          entry.uaddr = reinterpret_cast<uintptr_t>(w.addr);
          entry.flags = FUTEX_32;
          vec.push_back(entry);
          ids.push_back(w.id);
          if (w.deadlineNs >= 0 && (deadline < 0 || w.deadlineNs < deadline)) deadline = w.deadlineNs;
        }
      }
      struct timespec ts;
      if (deadline >= 0) {
        ts.tv_sec = deadline / 1000000000LL;
        ts.tv_nsec = deadline % 1000000000LL;
      }
      long rc = syscall(SYS_futex_waitv, vec.data(), static_cast<unsigned>(vec.size()), 0,
                        deadline >= 0 ? &ts : nullptr, CLOCK_MONOTONIC);
      uint32_t wokenId = rc >= 1 && static_cast<size_t>(rc) <= ids.size() ? ids[rc - 1] : 0;
      Settle(wokenId);
    }
  }

  // After any return from futex_waitv: settle the waits whose word has changed (their
  // wake-up may have been the one that ended the call, or is about to come), the one the
  // kernel named, and the ones whose deadline passed.
  void Settle(uint32_t wokenId) {
    int64_t now = MonotonicNs();
    auto* outcomes = new std::vector<WaitOutcome>();
    {
      std::lock_guard<std::mutex> guard(lock_);
      for (size_t i = 0; i < waits_.size();) {
        const AsyncWait& w = waits_[i];
        int32_t current = __atomic_load_n(w.addr, __ATOMIC_SEQ_CST);
        int32_t result = -1;
        if (w.id == wokenId || current != w.expected) {
          result = kWaitOk;
        } else if (w.deadlineNs >= 0 && now >= w.deadlineNs) {
          result = kWaitTimedOut;
        }
        if (result >= 0) {
          outcomes->push_back(WaitOutcome{w.id, result});
          waits_[i] = waits_.back();
          waits_.pop_back();
        } else {
          i++;
        }
      }
    }
    if (outcomes->empty()) {
      delete outcomes;
    } else {
      pool_->Deliver(outcomes);
    }
  }

  WaiterPool* pool_;
  std::mutex lock_;
  std::vector<AsyncWait> waits_;
  std::atomic<int32_t> control_{0};
  bool stop_ = false;
  std::thread thread_;  // last: starts after the fields above exist
};

WaiterPool::WaiterPool(Napi::Env env, Napi::Function callback) : env_(env) {
  tsfn_ = Napi::ThreadSafeFunction::New(env, callback, "shmring futex waiter", 0, 1);
  tsfn_.Unref(env);
}

WaiterPool::~WaiterPool() { Stop(); }

void WaiterPool::Stop() {
  std::vector<std::unique_ptr<WaiterThread>> threads;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (stopped_) return;
    stopped_ = true;
    threads.swap(threads_);
  }
  threads.clear();  // joins every thread
  tsfn_.Abort();
}

uint32_t WaiterPool::Add(int32_t* addr, int32_t expected, int64_t deadlineNs) {
  std::lock_guard<std::mutex> guard(lock_);
  uint32_t id = nextId_++;
  if (nextId_ == 0) nextId_ = 1;
  WaiterThread* target = nullptr;
  for (auto& t : threads_) {
    if (t->HasRoom()) {
      target = t.get();
      break;
    }
  }
  if (target == nullptr) {
    threads_.push_back(std::make_unique<WaiterThread>(this));
    target = threads_.back().get();
  }
  target->Add(AsyncWait{id, addr, expected, deadlineNs});
  return id;
}

bool WaiterPool::Cancel(uint32_t id) {
  std::lock_guard<std::mutex> guard(lock_);
  for (auto& t : threads_) {
    if (t->Cancel(id)) return true;
  }
  return false;
}

void WaiterPool::SetRef(bool ref) {
  if (ref) {
    tsfn_.Ref(env_);
  } else {
    tsfn_.Unref(env_);
  }
}

void WaiterPool::Deliver(std::vector<WaitOutcome>* outcomes) {
  napi_status status = tsfn_.NonBlockingCall(outcomes, [](Napi::Env env, Napi::Function fn, std::vector<WaitOutcome>* list) {
    if (env != nullptr && fn != nullptr) {
      Napi::Array ids = Napi::Array::New(env, list->size());
      Napi::Array results = Napi::Array::New(env, list->size());
      for (size_t i = 0; i < list->size(); i++) {
        ids.Set(i, Napi::Number::New(env, (*list)[i].id));
        results.Set(i, Napi::Number::New(env, (*list)[i].result));
      }
      fn.Call({ids, results});
    }
    delete list;
  });
  if (status != napi_ok) delete outcomes;  // the environment is closing; nobody is listening
}

namespace {

void StopPool(void* arg) {
  auto* data = static_cast<InstanceData*>(arg);
  if (data->waiters) data->waiters->Stop();
}

// asyncInit(callback(ids[], results[])): starts the waiter pool of this environment.
Napi::Value AsyncInit(const Napi::CallbackInfo& info) {
  InstanceData* data = Instance(info.Env());
  if (!data->waiters) {
    data->waiters = std::make_unique<WaiterPool>(info.Env(), info[0].As<Napi::Function>());
    napi_add_env_cleanup_hook(info.Env(), StopPool, data);
  }
  return info.Env().Undefined();
}

WaiterPool* Pool(const Napi::CallbackInfo& info) {
  WaiterPool* pool = Instance(info.Env())->waiters.get();
  if (pool == nullptr) throw Napi::Error::New(info.Env(), "asyncInit was not called");
  return pool;
}

// asyncAdd(i32, index, expected, timeoutMs) -> id; the JS side has checked the value already.
Napi::Value AsyncAdd(const Napi::CallbackInfo& info) {
  int32_t* addr = WordAt(info);
  int32_t expected = info[2].As<Napi::Number>().Int32Value();
  double timeoutMs = info[3].As<Napi::Number>().DoubleValue();
  int64_t deadline = timeoutMs < 0 ? -1 : MonotonicNs() + static_cast<int64_t>(timeoutMs * 1e6);
  return Napi::Number::New(info.Env(), Pool(info)->Add(addr, expected, deadline));
}

Napi::Value AsyncCancel(const Napi::CallbackInfo& info) {
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  return Napi::Boolean::New(info.Env(), Pool(info)->Cancel(id));
}

Napi::Value AsyncRef(const Napi::CallbackInfo& info) {
  Pool(info)->SetRef(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

}  // namespace

void InitFutex(Napi::Env env, Napi::Object exports) {
  exports.Set("futexWait", Napi::Function::New(env, Wait, "futexWait"));
  exports.Set("futexWake", Napi::Function::New(env, Wake, "futexWake"));
  exports.Set("spinWait", Napi::Function::New(env, SpinWait, "spinWait"));
  exports.Set("asyncInit", Napi::Function::New(env, AsyncInit, "asyncInit"));
  exports.Set("asyncAdd", Napi::Function::New(env, AsyncAdd, "asyncAdd"));
  exports.Set("asyncCancel", Napi::Function::New(env, AsyncCancel, "asyncCancel"));
  exports.Set("asyncRef", Napi::Function::New(env, AsyncRef, "asyncRef"));
}

}  // namespace shmring
