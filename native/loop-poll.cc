// Waking the event loop directly: descriptors watched by uv_poll on the loop of the calling
// thread (main or worker), and the descriptors worth watching: a doorbell (an unbound-name,
// abstract-namespace Unix datagram socket, so nothing appears in the file system and an
// unrelated process can ring it by name) and a pidfd (readable once its process exits).
// Syscalls and libuv glue only: what a wake-up means is decided in src/transport/.
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "loop-poll.h"

namespace shmring {

// One watched descriptor. Freed by the uv_close callback, never before.
struct Watch {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  uint32_t id;
};

namespace {

void StopAll(void* arg);

PollSet* Polls(napi_env env) {
  InstanceData* data = Instance(Napi::Env(env));
  if (!data->polls) {
    data->polls = std::make_unique<PollSet>();
    napi_add_env_cleanup_hook(env, StopAll, data);
  }
  return data->polls.get();
}

void OnClosed(uv_handle_t* handle) { delete static_cast<Watch*>(handle->data); }

void Release(Watch* w, bool envAlive) {
  uv_poll_stop(&w->handle);
  if (envAlive) {
    napi_delete_reference(w->env, w->callback);
    napi_async_destroy(w->env, w->context);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&w->handle), OnClosed);
}

// Readable (or an error on the descriptor, which the JS side finds when it reads): call back
// into JS through node's callback scope, so microtasks and nextTicks run after it as after
// any I/O callback. An exception becomes an uncaught exception of the process.
void OnPoll(uv_poll_t* handle, int status, int events) {
  Watch* w = static_cast<Watch*>(handle->data);
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, w->callback, &fn) == napi_ok && fn != nullptr && napi_get_global(env, &recv) == napi_ok) {
    napi_status s = napi_make_callback(env, w->context, recv, fn, 0, nullptr, &result);
    if (s == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

void StopAll(void* arg) {
  auto* data = static_cast<InstanceData*>(arg);
  if (!data->polls) return;
  for (auto& entry : data->polls->watches) Release(entry.second, false);
  data->polls->watches.clear();
  if (data->polls->sender >= 0) close(data->polls->sender);
  data->polls->sender = -1;
}

// pollStart(fd, callback) -> id: watches fd for readability on this thread's loop (ref'd).
Napi::Value PollStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  PollSet* set = Polls(env);
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) ThrowCode(env, "ERR_NOT_SUPPORTED", "no event loop");
  auto* w = new Watch();
  w->env = env;
  w->id = set->nextId++;
  int rc = uv_poll_init(loop, &w->handle, fd);
  if (rc != 0) {
    delete w;
    ThrowErrno(env, -rc, "uv_poll_init", "");
  }
  w->handle.data = w;
  napi_create_reference(env, info[1], 1, &w->callback);
  napi_value name = Napi::String::New(env, "shmring.poll");
  napi_async_init(env, nullptr, name, &w->context);
  rc = uv_poll_start(&w->handle, UV_READABLE, OnPoll);
  if (rc != 0) {
    Release(w, true);
    ThrowErrno(env, -rc, "uv_poll_start", "");
  }
  set->watches[w->id] = w;
  return Napi::Number::New(env, w->id);
}

Watch* Find(const Napi::CallbackInfo& info) {
  PollSet* set = Polls(info.Env());
  auto it = set->watches.find(info[0].As<Napi::Number>().Uint32Value());
  return it == set->watches.end() ? nullptr : it->second;
}

// pollRef(id, ref): whether the watch keeps the loop alive.
Napi::Value PollRef(const Napi::CallbackInfo& info) {
  Watch* w = Find(info);
  if (w != nullptr) {
    if (info[1].ToBoolean().Value()) {
      uv_ref(reinterpret_cast<uv_handle_t*>(&w->handle));
    } else {
      uv_unref(reinterpret_cast<uv_handle_t*>(&w->handle));
    }
  }
  return info.Env().Undefined();
}

// pollStop(id): stops and frees the watch (the descriptor stays open: its owner closes it).
Napi::Value PollStop(const Napi::CallbackInfo& info) {
  Watch* w = Find(info);
  if (w != nullptr) {
    Polls(info.Env())->watches.erase(w->id);
    Release(w, true);
  }
  return info.Env().Undefined();
}

// doorbellOpen() -> [fd, name]: a non-blocking datagram socket bound to a fresh abstract
// name chosen by the kernel (autobind); name is the part after the leading NUL.
Napi::Value DoorbellOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, errno, "socket", "");
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(sa_family_t)) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "bind", "");
  }
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &len) != 0 || len <= sizeof(sa_family_t) + 1) {
    int err = errno != 0 ? errno : EINVAL;
    close(fd);
    ThrowErrno(env, err, "getsockname", "");
  }
  std::string name(addr.sun_path + 1, len - sizeof(sa_family_t) - 1);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fd));
  out.Set(1u, Napi::String::New(env, name));
  return out;
}

// doorbellRing(name, token) -> 0 or the errno of sendto. Never blocks and never throws for
// a doorbell that is full (EAGAIN: its owner is awake anyway) or gone (ECONNREFUSED, ENOENT).
Napi::Value DoorbellRing(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PollSet* set = Polls(env);
  if (set->sender < 0) {
    set->sender = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (set->sender < 0) ThrowErrno(env, errno, "socket", "");
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  uint32_t token = info[1].As<Napi::Number>().Uint32Value();
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (name.size() + 1 > sizeof(addr.sun_path)) return Napi::Number::New(env, ENAMETOOLONG);
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  socklen_t len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + 1 + name.size());
  ssize_t n = sendto(set->sender, &token, sizeof(token), MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<struct sockaddr*>(&addr), len);
  return Napi::Number::New(env, n < 0 ? errno : 0);
}

// doorbellDrain(fd, tokens: Uint32Array) -> how many tokens were read into `tokens`
// (it stops when the socket is empty or `tokens` is full).
Napi::Value DoorbellDrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint32Array tokens = info[1].As<Napi::Uint32Array>();
  size_t n = 0;
  while (n < tokens.ElementLength()) {
    uint32_t token = 0;
    ssize_t got = recv(fd, &token, sizeof(token), MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      ThrowErrno(env, errno, "recv", "");
    }
    if (got != sizeof(token)) continue;  // not one of ours
    tokens[n++] = token;
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

// pidfdOpen(pid) -> fd, readable once the process exits (Linux >= 5.3; ENOSYS before).
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#ifdef SYS_pidfd_open
  int pid = info[0].As<Napi::Number>().Int32Value();
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) ThrowErrno(env, errno, "pidfd_open", "");
  // pidfds are close-on-exec from the kernel.
  return Napi::Number::New(env, static_cast<double>(fd));
#else
  ThrowErrno(env, ENOSYS, "pidfd_open", "");
#endif
}

}  // namespace

void InitLoopPoll(Napi::Env env, Napi::Object exports) {
  exports.Set("pollStart", Napi::Function::New(env, PollStart, "pollStart"));
  exports.Set("pollRef", Napi::Function::New(env, PollRef, "pollRef"));
  exports.Set("pollStop", Napi::Function::New(env, PollStop, "pollStop"));
  exports.Set("doorbellOpen", Napi::Function::New(env, DoorbellOpen, "doorbellOpen"));
  exports.Set("doorbellRing", Napi::Function::New(env, DoorbellRing, "doorbellRing"));
  exports.Set("doorbellDrain", Napi::Function::New(env, DoorbellDrain, "doorbellDrain"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
}

}  // namespace shmring
