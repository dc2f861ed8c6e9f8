// Shared helpers of the shmring addon: per-environment state, ShmError construction and
// argument views. (Buffers over mapped memory: buffers.h.)
#pragma once

#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <napi.h>

#include <cstring>
#include <memory>
#include <string>

namespace shmring {

class WaiterPool;  // futex.cc
struct PollSet;    // loop-poll.h

// Everything the addon keeps per JavaScript environment (main thread or worker).
struct InstanceData {
  Napi::FunctionReference makeError;  // (code, errno, syscall, message, address) => ShmError
  std::unique_ptr<WaiterPool> waiters;
  std::unique_ptr<PollSet> polls;
  ~InstanceData();
};

InstanceData* Instance(Napi::Env env);

// Throws a ShmError whose code is the errno name (ENOENT, EEXIST, ...).
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& address);
// Throws a ShmError with a shmring code (ERR_*).
[[noreturn]] void ThrowCode(Napi::Env env, const char* code, const std::string& message);

// Raw pointer and length of the bytes an Int32Array views (any backing buffer).
struct Int32View {
  int32_t* data;
  size_t length;
};
Int32View GetInt32View(const Napi::Value& value);

void InitSegment(Napi::Env env, Napi::Object exports);
void InitFutex(Napi::Env env, Napi::Object exports);
void InitQueues(Napi::Env env, Napi::Object exports);
void InitLoopPoll(Napi::Env env, Napi::Object exports);

}  // namespace shmring
