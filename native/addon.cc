// Module entry: registers each wrapped concept and the ShmError factory.
#include "common.h"

#include <cerrno>
#include <cstring>

#include "buffers.h"
#include "futex.h"
#include "loop-poll.h"

namespace shmring {

InstanceData::~InstanceData() = default;

InstanceData* Instance(Napi::Env env) { return env.GetInstanceData<InstanceData>(); }

static Napi::Value MakeError(Napi::Env env, const char* code, int err, const char* syscall,
                             const std::string& message, const std::string& address) {
  InstanceData* data = Instance(env);
  if (data == nullptr || data->makeError.IsEmpty()) {
    Napi::Error e = Napi::Error::New(env, message);
    e.Set("code", Napi::String::New(env, code));
    return e.Value();
  }
  return data->makeError.Call({
      Napi::String::New(env, code),
      err != 0 ? Napi::Number::New(env, err) : env.Undefined(),
      syscall != nullptr ? Napi::String::New(env, syscall) : env.Undefined(),
      Napi::String::New(env, message),
      address.empty() ? env.Undefined() : Napi::String::New(env, address),
  });
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& address) {
  const char* name = strerrorname_np(err);
  std::string code = name != nullptr ? name : "E" + std::to_string(err);
  std::string message = code + ": " + std::strerror(err) + ", " + syscall;
  if (!address.empty()) message += " '" + address + "'";
  throw Napi::Error(env, MakeError(env, code.c_str(), err, syscall, message, address));
}

void ThrowCode(Napi::Env env, const char* code, const std::string& message) {
  throw Napi::Error(env, MakeError(env, code, 0, nullptr, message, ""));
}

Int32View GetInt32View(const Napi::Value& value) {
  if (!value.IsTypedArray()) throw Napi::TypeError::New(value.Env(), "expected an Int32Array");
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(value.Env(), "expected an Int32Array");
  }
  void* data = nullptr;
  size_t length = 0;
  napi_status status = napi_get_typedarray_info(value.Env(), value, nullptr, &length, &data, nullptr, nullptr);
  NAPI_THROW_IF_FAILED(value.Env(), status, (Int32View{nullptr, 0}));
  return Int32View{static_cast<int32_t*>(data), length};
}

static Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "factory must be a function");
  Instance(info.Env())->makeError = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  CheckRuntime(env);
  env.SetInstanceData(new InstanceData());
  exports.Set("setErrorFactory", Napi::Function::New(env, SetErrorFactory, "setErrorFactory"));
  InitSegment(env, exports);
  InitFutex(env, exports);
  InitQueues(env, exports);
  InitLoopPoll(env, exports);
  return exports;
}

}  // namespace shmring

static Napi::Object InitShmring(Napi::Env env, Napi::Object exports) { return shmring::Init(env, exports); }

NODE_API_MODULE(shmring, InitShmring)
