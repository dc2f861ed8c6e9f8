// System V shared memory: shmget/shmat, IPC_RMID on unlink. The segment's real size is
// read back with IPC_STAT rather than trusted from the caller.
import { shmError } from '../errors.js';
import { native } from '../native.js';
import type { CreateRequest, Mapped, OpenRequest } from './backend.js';

export function sysvKey(address: { kind: 'sysv'; key: number } | { kind: 'sysv-ftok'; path: string; proj: number }): number {
  return address.kind === 'sysv' ? address.key : native.ftok(address.path, address.proj);
}

function attach(id: number, minSize: number, address: string): Mapped {
  const [size] = native.sysvStat(id);
  if (size < minSize) {
    throw shmError('ERR_SHM_TRUNCATED', `${address} holds ${size} bytes, fewer than the ${minSize} expected`, { address });
  }
  return { buffer: native.sysvAttach(id, size), size };
}

export function createSysv(key: number, address: string, req: CreateRequest): Mapped {
  const [id, created] = native.sysvGet(key, req.size, true, req.exclusive, req.mode);
  try {
    return attach(id, req.size, address);
  } catch (err) {
    if (created) native.sysvRemove(id);
    throw err;
  }
}

export function openSysv(key: number, address: string, req: OpenRequest): Mapped {
  if (req.readOnly) {
    // shmat(SHM_RDONLY) maps read-only pages: one stray JavaScript write would kill the
    // process, and System V offers no private copy-on-write attach to make that safe.
    throw shmError('ERR_NOT_SUPPORTED', `readOnly is not supported for System V segments (${address})`, { address });
  }
  const [id] = native.sysvGet(key, 0, false, false, 0);
  return attach(id, Math.max(req.minSize, 1), address);
}

export function unlinkSysv(key: number): void {
  const [id] = native.sysvGet(key, 0, false, false, 0);
  native.sysvRemove(id);
}
