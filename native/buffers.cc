// The two ways (V8 API, Node-API) of wrapping mapped memory in a JavaScript buffer; see
// buffers.h. The rest of the addon calls only the functions declared there.
#include "buffers.h"

#include <sys/mman.h>

#include <cstring>
#include <string>

#include "common.h"

#ifdef SHMRING_NODE_API_ONLY
#include <dlfcn.h>
#else
#include <v8.h>
// node_version.h of Node 20 redefines NAPI_VERSION; keep the one this addon is built for.
#pragma push_macro("NAPI_VERSION")
#undef NAPI_VERSION
#include <node_version.h>
#pragma pop_macro("NAPI_VERSION")
#endif

namespace shmring {
namespace {

// What to call when a buffer over foreign memory is collected.
struct Release {
  ReleaseFn fn;
  void* hint;
};

}  // namespace

#ifdef SHMRING_NODE_API_ONLY

namespace {

// Experimental Node-API functions (Node 22.23.3+, 24.16+, 26.1+), looked up in the running
// node at load time instead of linked, so that loading fails with a message, not a crash.
using CreateExternalSab = napi_status (*)(napi_env, void*, size_t, void (*)(void*, void*), void*, napi_value*);
using IsSab = napi_status (*)(napi_env, napi_value, bool*);
CreateExternalSab createExternalSab = nullptr;
IsSab isSab = nullptr;

void FinalizePlain(napi_env, void* data, void* hint) {
  auto* release = static_cast<Release*>(hint);
  release->fn(data, release->hint);
  delete release;
}

}  // namespace

void CheckRuntime(Napi::Env env) {
  createExternalSab = reinterpret_cast<CreateExternalSab>(dlsym(RTLD_DEFAULT, "node_api_create_external_sharedarraybuffer"));
  isSab = reinterpret_cast<IsSab>(dlsym(RTLD_DEFAULT, "node_api_is_sharedarraybuffer"));
  if (createExternalSab == nullptr || isSab == nullptr) {
    const napi_node_version* running = nullptr;
    napi_get_node_version(env, &running);
    throw Napi::Error::New(env, std::string("shmring: this Node-API build needs node_api_create_external_sharedarraybuffer ") +
                                    "(Node 22.23.3+, 24.16+, 26.1+), which Node " + std::to_string(running->major) + "." +
                                    std::to_string(running->minor) + "." + std::to_string(running->patch) + " lacks");
  }
}

Napi::Value NewSharedBuffer(Napi::Env env, void* addr, size_t length, ReleaseFn release, void* hint) {
  napi_value result;
  NAPI_THROW_IF_FAILED(env, createExternalSab(env, addr, length, release, hint, &result), Napi::Value());
  return Napi::Value(env, result);
}

void* SharedBufferData(const Napi::Value& value, size_t* length) {
  bool shared = false;
  NAPI_THROW_IF_FAILED(value.Env(), isSab(value.Env(), value, &shared), nullptr);
  if (!shared) throw Napi::TypeError::New(value.Env(), "expected a SharedArrayBuffer");
  void* data = nullptr;
  NAPI_THROW_IF_FAILED(value.Env(), napi_get_arraybuffer_info(value.Env(), value, &data, length), nullptr);
  return data;
}

Napi::Value NewPlainBuffer(Napi::Env env, void* addr, size_t length, ReleaseFn release, void* hint) {
  napi_value result;
  auto* data = new Release{release, hint};
  napi_status status = napi_create_external_arraybuffer(env, addr, length, FinalizePlain, data, &result);
  if (status != napi_ok) delete data;
  NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  return Napi::Value(env, result);
}

void DetachPlainBuffer(const Napi::Value& value) {
  if (!value.IsArrayBuffer()) throw Napi::TypeError::New(value.Env(), "expected an ArrayBuffer");
  bool detached = false;
  NAPI_THROW_IF_FAILED_VOID(value.Env(), napi_is_detached_arraybuffer(value.Env(), value, &detached));
  if (detached) throw Napi::TypeError::New(value.Env(), "the ArrayBuffer is already detached");
  NAPI_THROW_IF_FAILED_VOID(value.Env(), napi_detach_arraybuffer(value.Env(), value));
}

#else  // the V8 API

namespace {

v8::Local<v8::Value> ToV8(napi_value v) {
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(v), "napi_value is a V8 handle");
  std::memcpy(static_cast<void*>(&local), &v, sizeof(v));
  return local;
}

napi_value ToNapi(v8::Local<v8::Value> local) {
  napi_value v;
  std::memcpy(static_cast<void*>(&v), &local, sizeof(v));
  return v;
}

void ReleaseShared(void* data, size_t, void* deleterData) {
  auto* release = static_cast<Release*>(deleterData);
  release->fn(data, release->hint);
  delete release;
}

}  // namespace

// The V8 API's ABI changes with every Node major, while the module registers through
// Node-API, which Node does not check against its ABI: so the binary refuses to load into
// another major itself, before any V8 call (the install script then builds from source).
void CheckRuntime(Napi::Env env) {
  const napi_node_version* running = nullptr;
  NAPI_THROW_IF_FAILED_VOID(env, napi_get_node_version(env, &running));
  if (running->major != NODE_MAJOR_VERSION) {
    throw Napi::Error::New(env, "shmring: this binary was built for Node " + std::to_string(NODE_MAJOR_VERSION) +
                                    " (ABI " + std::to_string(NODE_MODULE_VERSION) + ") and cannot run in Node " +
                                    std::to_string(running->major));
  }
}

Napi::Value NewSharedBuffer(Napi::Env env, void* addr, size_t length, ReleaseFn release, void* hint) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  std::shared_ptr<v8::BackingStore> store =
      v8::SharedArrayBuffer::NewBackingStore(addr, length, ReleaseShared, new Release{release, hint});
  return Napi::Value(env, ToNapi(v8::SharedArrayBuffer::New(isolate, std::move(store))));
}

void* SharedBufferData(const Napi::Value& value, size_t* length) {
  v8::Local<v8::Value> local = ToV8(value);
  if (!local->IsSharedArrayBuffer()) throw Napi::TypeError::New(value.Env(), "expected a SharedArrayBuffer");
  v8::Local<v8::SharedArrayBuffer> sab = local.As<v8::SharedArrayBuffer>();
  *length = sab->ByteLength();
  return sab->Data();
}

Napi::Value NewPlainBuffer(Napi::Env env, void* addr, size_t length, ReleaseFn release, void* hint) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  std::shared_ptr<v8::BackingStore> store =
      v8::ArrayBuffer::NewBackingStore(addr, length, ReleaseShared, new Release{release, hint});
  return Napi::Value(env, ToNapi(v8::ArrayBuffer::New(isolate, std::move(store))));
}

void DetachPlainBuffer(const Napi::Value& value) {
  v8::Local<v8::Value> local = ToV8(value);
  if (!local->IsArrayBuffer()) throw Napi::TypeError::New(value.Env(), "expected an ArrayBuffer");
  v8::Local<v8::ArrayBuffer> buffer = local.As<v8::ArrayBuffer>();
  if (!buffer->IsDetachable()) throw Napi::TypeError::New(value.Env(), "the ArrayBuffer cannot be detached");
  buffer->Detach(v8::Local<v8::Value>()).Check();
}

#endif

}  // namespace shmring
