// Surviving a shared object truncated under its mapping. Touching a page of a MAP_SHARED
// mapping past the end of its file raises SIGBUS, which would kill the process; a peer
// can cause it at any time (ftruncate of a /dev/shm object, a file, an unsealed memfd).
// The addon guards every range it maps: on a SIGBUS inside one, the handler maps private
// zero pages over the whole range (so the faulting access completes) and sets the range's
// fault word, which JavaScript reads through a small SharedArrayBuffer to report
// ERR_SHM_TRUNCATED. A SIGBUS anywhere else goes to the handler installed before ours.
#pragma once

#include <napi.h>

#include <cstddef>

namespace shmring {

// The word JavaScript reads: 0 while the mapping is intact, 1 once it was replaced.
// Reference-counted: by its SharedArrayBuffer and by each guard that points at it.
struct FaultCell;
struct Guard;

FaultCell* NewFaultCell();                    // one reference, for the caller
FaultCell* RetainFaultCell(FaultCell* cell);  // takes one more; returns cell
void ReleaseFaultCell(FaultCell* cell);       // drops one
// A SharedArrayBuffer over the cell's word (takes a reference, released with the buffer).
Napi::Value FaultBuffer(Napi::Env env, FaultCell* cell);

// Guards [addr, addr + length) (takes a reference to cell). UnguardRange ends the guard
// and waits until no handler is still looking at it; neither may run in a signal handler.
Guard* GuardRange(void* addr, size_t length, FaultCell* cell);
void UnguardRange(Guard* guard);

// Installs the SIGBUS handler once per process (chained to the previous one).
void InstallSigbusHandler();

}  // namespace shmring
