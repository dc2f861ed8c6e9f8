// Message-queue syscalls used only by the benchmark harness to compare shmring with POSIX
// and System V message queues. Blocking calls: the benchmark peers are separate processes
// that do nothing else.
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common.h"

namespace shmring {
namespace {

std::string Str(const Napi::Value& v) { return v.As<Napi::String>().Utf8Value(); }
int Int(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }

Napi::Uint8Array Bytes(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(v.Env(), "expected a Uint8Array");
  }
  return v.As<Napi::Uint8Array>();
}

// mqOpen(name, create, maxmsg, msgsize) -> descriptor
Napi::Value MqOpen(const Napi::CallbackInfo& info) {
  std::string name = Str(info[0]);
  bool create = info[1].ToBoolean().Value();
  struct mq_attr attr = {};
  attr.mq_maxmsg = Int(info[2]);
  attr.mq_msgsize = Int(info[3]);
  mqd_t q = create ? mq_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, &attr) : mq_open(name.c_str(), O_RDWR);
  if (q == static_cast<mqd_t>(-1)) ThrowErrno(info.Env(), errno, "mq_open", name);
  return Napi::Number::New(info.Env(), q);
}

Napi::Value MqSend(const Napi::CallbackInfo& info) {
  Napi::Uint8Array bytes = Bytes(info[1]);
  while (mq_send(Int(info[0]), reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength(), 0) != 0) {
    if (errno != EINTR) ThrowErrno(info.Env(), errno, "mq_send", "");
  }
  return info.Env().Undefined();
}

Napi::Value MqReceive(const Napi::CallbackInfo& info) {
  Napi::Uint8Array bytes = Bytes(info[1]);
  ssize_t n;
  while ((n = mq_receive(Int(info[0]), reinterpret_cast<char*>(bytes.Data()), bytes.ByteLength(), nullptr)) < 0) {
    if (errno != EINTR) ThrowErrno(info.Env(), errno, "mq_receive", "");
  }
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

Napi::Value MqClose(const Napi::CallbackInfo& info) {
  mq_close(Int(info[0]));
  return info.Env().Undefined();
}

Napi::Value MqUnlink(const Napi::CallbackInfo& info) {
  std::string name = Str(info[0]);
  if (mq_unlink(name.c_str()) != 0) ThrowErrno(info.Env(), errno, "mq_unlink", name);
  return info.Env().Undefined();
}

// msgGet(key, create) -> id
Napi::Value MsgGet(const Napi::CallbackInfo& info) {
  key_t key = static_cast<key_t>(info[0].As<Napi::Number>().Int64Value());
  bool create = info[1].ToBoolean().Value();
  int id = msgget(key, create ? IPC_CREAT | IPC_EXCL | 0600 : 0);
  if (id < 0) ThrowErrno(info.Env(), errno, "msgget", "");
  return Napi::Number::New(info.Env(), id);
}

// msgSend(id, bytes): one message of type 1
Napi::Value MsgSend(const Napi::CallbackInfo& info) {
  Napi::Uint8Array bytes = Bytes(info[1]);
  std::vector<char> message(sizeof(long) + bytes.ByteLength());
  long type = 1;
  std::memcpy(message.data(), &type, sizeof(long));
  std::memcpy(message.data() + sizeof(long), bytes.Data(), bytes.ByteLength());
  while (msgsnd(Int(info[0]), message.data(), bytes.ByteLength(), 0) != 0) {
    if (errno != EINTR) ThrowErrno(info.Env(), errno, "msgsnd", "");
  }
  return info.Env().Undefined();
}

// msgReceive(id, bytes) -> length
Napi::Value MsgReceive(const Napi::CallbackInfo& info) {
  Napi::Uint8Array bytes = Bytes(info[1]);
  std::vector<char> message(sizeof(long) + bytes.ByteLength());
  ssize_t n;
  while ((n = msgrcv(Int(info[0]), message.data(), bytes.ByteLength(), 0, 0)) < 0) {
    if (errno != EINTR) ThrowErrno(info.Env(), errno, "msgrcv", "");
  }
  std::memcpy(bytes.Data(), message.data() + sizeof(long), static_cast<size_t>(n));
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

Napi::Value MsgRemove(const Napi::CallbackInfo& info) {
  if (msgctl(Int(info[0]), IPC_RMID, nullptr) != 0) ThrowErrno(info.Env(), errno, "msgctl", "");
  return info.Env().Undefined();
}

}  // namespace

void InitQueues(Napi::Env env, Napi::Object exports) {
  exports.Set("mqOpen", Napi::Function::New(env, MqOpen, "mqOpen"));
  exports.Set("mqSend", Napi::Function::New(env, MqSend, "mqSend"));
  exports.Set("mqReceive", Napi::Function::New(env, MqReceive, "mqReceive"));
  exports.Set("mqClose", Napi::Function::New(env, MqClose, "mqClose"));
  exports.Set("mqUnlink", Napi::Function::New(env, MqUnlink, "mqUnlink"));
  exports.Set("msgGet", Napi::Function::New(env, MsgGet, "msgGet"));
  exports.Set("msgSend", Napi::Function::New(env, MsgSend, "msgSend"));
  exports.Set("msgReceive", Napi::Function::New(env, MsgReceive, "msgReceive"));
  exports.Set("msgRemove", Napi::Function::New(env, MsgRemove, "msgRemove"));
}

}  // namespace shmring
