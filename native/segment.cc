// Segment syscalls: open/create the object that holds shared bytes (POSIX shm, a file,
// a memfd, a System V segment) and map it as a SharedArrayBuffer. Validation of
// addresses, sizes and options lives in src/segment/; this file only does the syscalls.
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "buffers.h"
#include "common.h"
#include "sigbus.h"

namespace shmring {
namespace {

// One live mapping. The SharedArrayBuffer's deleter owns it: the mapping is released
// when the last view (in any thread) is collected. close() swaps the shared pages for
// private zero pages at the same address first, so views held after close() read
// zeros instead of faulting. A SIGBUS in the mapping (its object was truncated) does the
// same swap and sets the fault word (sigbus.h).
struct Mapping {
  void* addr;
  size_t length;
  FaultCell* fault;
  Guard* guard;
};

std::mutex registryLock;
std::unordered_map<void*, Mapping*>& Registry() {
  static auto* registry = new std::unordered_map<void*, Mapping*>();
  return *registry;
}

void ReleaseMapping(void*, void* hint) {
  auto* mapping = static_cast<Mapping*>(hint);
  {
    std::lock_guard<std::mutex> guard(registryLock);
    Registry().erase(mapping->addr);
  }
  UnguardRange(mapping->guard);  // before munmap: no handler may map over a freed range
  munmap(mapping->addr, mapping->length);
  ReleaseFaultCell(mapping->fault);
  delete mapping;
}

// -> [buffer: SharedArrayBuffer, fault: SharedArrayBuffer of the fault word (sigbus.h)]
Napi::Value WrapMapping(Napi::Env env, void* addr, size_t length) {
  FaultCell* fault = NewFaultCell();
  auto* mapping = new Mapping{addr, length, fault, GuardRange(addr, length, fault)};
  {
    std::lock_guard<std::mutex> guard(registryLock);
    Registry()[addr] = mapping;
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, NewSharedBuffer(env, addr, length, ReleaseMapping, mapping));
  result.Set(1u, FaultBuffer(env, fault));
  return result;
}

std::string Str(const Napi::Value& v) { return v.As<Napi::String>().Utf8Value(); }
int Int(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }
size_t Size(const Napi::Value& v) { return static_cast<size_t>(v.As<Napi::Number>().DoubleValue()); }
bool Bool(const Napi::Value& v) { return v.ToBoolean().Value(); }

// Never follows a link planted at the name (ELOOP), never blocks on a FIFO, never makes a
// terminal the controlling one: the caller then accepts regular files only (fdStat).
int OpenPath(bool shm, const std::string& path, int flags, mode_t mode) {
  flags |= O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
  return shm ? shm_open(path.c_str(), flags, mode) : open(path.c_str(), flags, mode);
}

// openFd(kind 'shm'|'file', path, create, exclusive, readOnly, mode) -> [fd, created]
Napi::Value OpenFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool shm = Str(info[0]) == "shm";
  std::string path = Str(info[1]);
  bool create = Bool(info[2]), exclusive = Bool(info[3]), readOnly = Bool(info[4]);
  mode_t mode = static_cast<mode_t>(Int(info[5]));
  const char* syscall = shm ? "shm_open" : "open";
  int access = readOnly ? O_RDONLY : O_RDWR;
  int fd = -1;
  bool created = false;
  if (create) {
    fd = OpenPath(shm, path, access | O_CREAT | O_EXCL, mode);
    if (fd >= 0) {
      created = true;
      // The umask narrows the mode given to open(); a mode asked for explicitly is applied as given.
      if (fchmod(fd, mode) != 0) {
        int err = errno;
        close(fd);
        shm ? shm_unlink(path.c_str()) : unlink(path.c_str());
        ThrowErrno(env, err, "fchmod", path);
      }
    } else if (errno != EEXIST || exclusive) {
      ThrowErrno(env, errno, syscall, path);
    }
  }
  if (fd < 0) {
    fd = OpenPath(shm, path, access, 0);
    if (fd < 0) ThrowErrno(env, errno, syscall, path);
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, fd));
  result.Set(1u, Napi::Boolean::New(env, created));
  return result;
}

Napi::Value Unlink(const Napi::CallbackInfo& info) {
  bool shm = Str(info[0]) == "shm";
  std::string path = Str(info[1]);
  int rc = shm ? shm_unlink(path.c_str()) : unlink(path.c_str());
  if (rc != 0) ThrowErrno(info.Env(), errno, shm ? "shm_unlink" : "unlink", path);
  return info.Env().Undefined();
}

Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  int fd = memfd_create(Str(info[0]).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) ThrowErrno(info.Env(), errno, "memfd_create", "");
  return Napi::Number::New(info.Env(), fd);
}

// fdSeal(fd): fixes a sized memfd's size for good (no process it is handed to can shrink it
// under our mapping, which would SIGBUS us, or grow it) and forbids further seals.
Napi::Value FdSeal(const Napi::CallbackInfo& info) {
  if (fcntl(Int(info[0]), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    ThrowErrno(info.Env(), errno, "fcntl", "");
  }
  return info.Env().Undefined();
}

// fdStat(fd) -> [size, isRegular, mode, uid]
Napi::Value FdStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct stat st;
  if (fstat(Int(info[0]), &st) != 0) ThrowErrno(env, errno, "fstat", "");
  Napi::Array result = Napi::Array::New(env, 4);
  result.Set(0u, Napi::Number::New(env, static_cast<double>(st.st_size)));
  result.Set(1u, Napi::Boolean::New(env, S_ISREG(st.st_mode)));
  result.Set(2u, Napi::Number::New(env, st.st_mode & 07777));
  result.Set(3u, Napi::Number::New(env, st.st_uid));
  return result;
}

// fdReserve(fd, size): grows the object to size with its storage allocated now, so that
// a full tmpfs or disk is an ENOSPC here rather than a SIGBUS on first touch.
Napi::Value FdReserve(const Napi::CallbackInfo& info) {
  int fd = Int(info[0]);
  off_t size = static_cast<off_t>(Size(info[1]));
  if (fallocate(fd, 0, 0, size) != 0) {
    int err = errno;
    if (err != EOPNOTSUPP && err != ENOSYS) ThrowErrno(info.Env(), err, "fallocate", "");
    struct stat st;
    if (fstat(fd, &st) != 0) ThrowErrno(info.Env(), errno, "fstat", "");
    if (st.st_size < size && ftruncate(fd, size) != 0) ThrowErrno(info.Env(), errno, "ftruncate", "");
  }
  return info.Env().Undefined();
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  if (close(Int(info[0])) != 0 && errno != EINTR) ThrowErrno(info.Env(), errno, "close", "");
  return info.Env().Undefined();
}

Napi::Value DupFd(const Napi::CallbackInfo& info) {
  int fd = fcntl(Int(info[0]), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) ThrowErrno(info.Env(), errno, "fcntl", "");
  return Napi::Number::New(info.Env(), fd);
}

// mapFd(fd, size, readOnly) -> [SharedArrayBuffer, fault word] (see WrapMapping). A read-only segment is a private
// mapping of a read-only descriptor: it shows the shared bytes, and a stray write from
// JavaScript stays in this process instead of faulting on a read-only page.
Napi::Value MapFd(const Napi::CallbackInfo& info) {
  int fd = Int(info[0]);
  size_t size = Size(info[1]);
  bool readOnly = Bool(info[2]);
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, readOnly ? MAP_PRIVATE : MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) ThrowErrno(info.Env(), errno, "mmap", "");
  return WrapMapping(info.Env(), addr, size);
}

// sysvGet(key, size, create, exclusive, mode) -> [id, created]
Napi::Value SysvGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  key_t key = static_cast<key_t>(info[0].As<Napi::Number>().Int64Value());
  size_t size = Size(info[1]);
  bool create = Bool(info[2]), exclusive = Bool(info[3]);
  int mode = Int(info[4]) & 0777;
  int id = -1;
  bool created = false;
  if (create) {
    id = shmget(key, size, IPC_CREAT | IPC_EXCL | mode);
    if (id >= 0) {
      created = true;
    } else if (errno != EEXIST || exclusive) {
      ThrowErrno(env, errno, "shmget", "");
    }
  }
  if (id < 0) {
    id = shmget(key, 0, 0);
    if (id < 0) ThrowErrno(env, errno, "shmget", "");
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, id));
  result.Set(1u, Napi::Boolean::New(env, created));
  return result;
}

// sysvStat(id) -> [size, attachments, creatorPid, mode, uid, creatorUid]
Napi::Value SysvStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct shmid_ds ds;
  if (shmctl(Int(info[0]), IPC_STAT, &ds) != 0) ThrowErrno(env, errno, "shmctl", "");
  Napi::Array result = Napi::Array::New(env, 6);
  result.Set(0u, Napi::Number::New(env, static_cast<double>(ds.shm_segsz)));
  result.Set(1u, Napi::Number::New(env, static_cast<double>(ds.shm_nattch)));
  result.Set(2u, Napi::Number::New(env, ds.shm_cpid));
  result.Set(3u, Napi::Number::New(env, ds.shm_perm.mode & 0777));
  result.Set(4u, Napi::Number::New(env, ds.shm_perm.uid));
  result.Set(5u, Napi::Number::New(env, ds.shm_perm.cuid));
  return result;
}

// sysvAttach(id, size) -> [SharedArrayBuffer over the whole segment, fault word].
Napi::Value SysvAttach(const Napi::CallbackInfo& info) {
  int id = Int(info[0]);
  size_t size = Size(info[1]);
  void* addr = shmat(id, nullptr, 0);
  if (addr == reinterpret_cast<void*>(-1)) ThrowErrno(info.Env(), errno, "shmat", "");
  // Unmapping a SysV attachment (munmap in the deleter, or the zero-page swap of
  // close()) detaches it exactly as shmdt would.
  return WrapMapping(info.Env(), addr, size);
}

// sysvPeek(id, max, offset = 0) -> Uint8Array: a copy of max bytes from offset (fewer at the
// segment's end, none past it), read through a read-only attachment (SHM_RDONLY) that is
// detached at once. For tools that look at segments that may be another application's:
// never attached writable.
Napi::Value SysvPeek(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = Int(info[0]);
  size_t max = Size(info[1]);
  size_t offset = info.Length() > 2 ? Size(info[2]) : 0;
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) != 0) ThrowErrno(env, errno, "shmctl", "");
  size_t rest = offset < ds.shm_segsz ? ds.shm_segsz - offset : 0;
  size_t length = rest < max ? rest : max;
  void* addr = shmat(id, nullptr, SHM_RDONLY);
  if (addr == reinterpret_cast<void*>(-1)) ThrowErrno(env, errno, "shmat", "");
  Napi::Uint8Array copy = Napi::Uint8Array::New(env, length);
  if (length > 0) std::memcpy(copy.Data(), static_cast<char*>(addr) + offset, length);
  shmdt(addr);
  return copy;
}

Napi::Value SysvRemove(const Napi::CallbackInfo& info) {
  if (shmctl(Int(info[0]), IPC_RMID, nullptr) != 0) ThrowErrno(info.Env(), errno, "shmctl", "");
  return info.Env().Undefined();
}

Napi::Value Ftok(const Napi::CallbackInfo& info) {
  std::string path = Str(info[0]);
  key_t key = ftok(path.c_str(), Int(info[1]));
  if (key == -1) ThrowErrno(info.Env(), errno, "ftok", path);
  return Napi::Number::New(info.Env(), key);
}

// The pages of info[0], a SharedArrayBuffer this addon mapped and has not unmapped yet
// (and, if asked, their fault word with a reference the caller releases).
void* LiveMapping(const Napi::CallbackInfo& info, size_t* length, FaultCell** fault = nullptr) {
  void* data = SharedBufferData(info[0], length);
  std::lock_guard<std::mutex> guard(registryLock);
  auto found = Registry().find(data);
  if (found == Registry().end()) {
    throw Napi::TypeError::New(info.Env(), "buffer is not a live shmring mapping");
  }
  if (fault != nullptr) *fault = RetainFaultCell(found->second->fault);
  return data;
}

// faultOf(buffer) -> the fault word of the live mapping `buffer` views whole (a segment's
// buffer posted to a worker thread shares the main thread's pages and so its fault word),
// or undefined for any other SharedArrayBuffer.
Napi::Value FaultOf(const Napi::CallbackInfo& info) {
  size_t length = 0;
  void* data = SharedBufferData(info[0], &length);
  std::lock_guard<std::mutex> guard(registryLock);
  auto found = Registry().find(data);
  if (found == Registry().end() || found->second->length != length) return info.Env().Undefined();
  return FaultBuffer(info.Env(), found->second->fault);
}

// unmap(buffer): releases the shared pages now. A private zero mapping takes their place
// at the same address in one mmap(MAP_FIXED) call, so there is no moment when the
// address range is free for another mapping, and views that survive read zeros.
Napi::Value Unmap(const Napi::CallbackInfo& info) {
  size_t length = 0;
  void* data = LiveMapping(info, &length);
  void* addr = mmap(data, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  if (addr == MAP_FAILED) ThrowErrno(info.Env(), errno, "mmap", "");
  return info.Env().Undefined();
}

// alias(buffer) -> ArrayBuffer | undefined: a second mapping of the same shared pages as a
// plain (non-shared) ArrayBuffer, for bulk copies: V8 copies into and out of a
// SharedArrayBuffer with a relaxed-atomic loop, but between plain buffers with memmove.
// mremap with an old size of 0 duplicates a shared mapping (POSIX shm, file, memfd or
// System V). A private mapping (a read-only segment) cannot be duplicated: undefined.
// The alias is guarded like the mapping and shares its fault word.
struct AliasMapping {
  size_t length;
  Guard* guard;
};

void ReleaseAlias(void* data, void* hint) {
  auto* alias = static_cast<AliasMapping*>(hint);
  UnguardRange(alias->guard);
  munmap(data, alias->length);
  delete alias;
}

Napi::Value Alias(const Napi::CallbackInfo& info) {
  size_t length = 0;
  FaultCell* fault = nullptr;
  void* data = LiveMapping(info, &length, &fault);
  void* addr = mremap(data, 0, length, MREMAP_MAYMOVE);
  int err = errno;
  if (addr == MAP_FAILED) {
    ReleaseFaultCell(fault);
    if (err == EINVAL) return info.Env().Undefined();
    ThrowErrno(info.Env(), err, "mremap", "");
  }
  auto* alias = new AliasMapping{length, GuardRange(addr, length, fault)};
  ReleaseFaultCell(fault);  // the guard holds its own reference
  return NewPlainBuffer(info.Env(), addr, length, ReleaseAlias, alias);
}

// unalias(arrayBuffer): detaches the alias (its views become empty) and so unmaps it.
Napi::Value Unalias(const Napi::CallbackInfo& info) {
  DetachPlainBuffer(info[0]);
  return info.Env().Undefined();
}

Napi::Value Flush(const Napi::CallbackInfo& info) {
  size_t length = 0;
  void* data = SharedBufferData(info[0], &length);
  if (msync(data, length, MS_SYNC) != 0) ThrowErrno(info.Env(), errno, "msync", "");
  return info.Env().Undefined();
}

}  // namespace

void InitSegment(Napi::Env env, Napi::Object exports) {
  InstallSigbusHandler();
  exports.Set("openFd", Napi::Function::New(env, OpenFd, "openFd"));
  exports.Set("unlink", Napi::Function::New(env, Unlink, "unlink"));
  exports.Set("memfdCreate", Napi::Function::New(env, MemfdCreate, "memfdCreate"));
  exports.Set("fdSeal", Napi::Function::New(env, FdSeal, "fdSeal"));
  exports.Set("fdStat", Napi::Function::New(env, FdStat, "fdStat"));
  exports.Set("fdReserve", Napi::Function::New(env, FdReserve, "fdReserve"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("dupFd", Napi::Function::New(env, DupFd, "dupFd"));
  exports.Set("mapFd", Napi::Function::New(env, MapFd, "mapFd"));
  exports.Set("sysvGet", Napi::Function::New(env, SysvGet, "sysvGet"));
  exports.Set("sysvStat", Napi::Function::New(env, SysvStat, "sysvStat"));
  exports.Set("sysvAttach", Napi::Function::New(env, SysvAttach, "sysvAttach"));
  exports.Set("sysvPeek", Napi::Function::New(env, SysvPeek, "sysvPeek"));
  exports.Set("sysvRemove", Napi::Function::New(env, SysvRemove, "sysvRemove"));
  exports.Set("ftok", Napi::Function::New(env, Ftok, "ftok"));
  exports.Set("unmap", Napi::Function::New(env, Unmap, "unmap"));
  exports.Set("faultOf", Napi::Function::New(env, FaultOf, "faultOf"));
  exports.Set("alias", Napi::Function::New(env, Alias, "alias"));
  exports.Set("unalias", Napi::Function::New(env, Unalias, "unalias"));
  exports.Set("flush", Napi::Function::New(env, Flush, "flush"));
}

}  // namespace shmring
