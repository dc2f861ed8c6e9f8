// How mapped memory becomes a JavaScript buffer, in one of two builds:
// - the default (ABI) build calls the V8 API: v8::SharedArrayBuffer over foreign memory,
//   which Node-API lacked until node_api_create_external_sharedarraybuffer; such a binary
//   runs only in the Node major it was built for;
// - the Node-API build (SHMRING_NODE_API_ONLY) calls only Node-API, looking the experimental
//   SharedArrayBuffer functions up at load time, so one binary serves every Node that has them.
#pragma once

#include <napi.h>

#include <cstddef>

namespace shmring {

// Refuses to load where this build cannot run (another major; a Node without the functions).
void CheckRuntime(Napi::Env env);

// A SharedArrayBuffer over [addr, addr + length); `release(data, hint)` runs when the last
// view is gone, on any thread.
using ReleaseFn = void (*)(void* data, void* hint);
Napi::Value NewSharedBuffer(Napi::Env env, void* addr, size_t length, ReleaseFn release, void* hint);

// The memory of a SharedArrayBuffer (TypeError for anything else).
void* SharedBufferData(const Napi::Value& value, size_t* length);

// A plain ArrayBuffer over [addr, addr + length); `release(data, hint)` runs when it is
// collected or detached (and unmaps it).
Napi::Value NewPlainBuffer(Napi::Env env, void* addr, size_t length, ReleaseFn release, void* hint);

// Detaches a plain ArrayBuffer made by NewPlainBuffer: its views become empty.
void DetachPlainBuffer(const Napi::Value& value);

}  // namespace shmring
