// System V shared memory: shmget/shmat, IPC_RMID on unlink. The segment's real size is
// read back with IPC_STAT rather than trusted from the caller.
import { shmError } from '../errors.js';
import { native } from '../native.js';
import type { CreateRequest, Mapped, OpenRequest } from './backend.js';
import { checkMapSize, checkTrusted } from './trust.js';

export function sysvKey(address: { kind: 'sysv'; key: number } | { kind: 'sysv-ftok'; path: string; proj: number }): number {
  return address.kind === 'sysv' ? address.key : native.ftok(address.path, address.proj);
}

/**
 * Attaches segment `id` after checking it: its size, and unless trusted, who controls it (its
 * owner and its creator, who may both change its mode or remove it) and, for a create, its mode.
 */
function attach(id: number, minSize: number, maxSize: number, address: string, trust: { wanted: number | undefined } | undefined): Mapped {
  const [size, , , mode, uid, cuid] = native.sysvStat(id);
  if (trust !== undefined) checkTrusted(address, [uid, cuid], mode, trust.wanted);
  if (size < minSize) {
    throw shmError('ERR_SHM_TRUNCATED', `${address} holds ${size} bytes, fewer than the ${minSize} expected`, { address });
  }
  checkMapSize(address, size, maxSize);
  const [buffer, fault] = native.sysvAttach(id, size);
  return { buffer, size, fault: new Int32Array(fault) };
}

export function createSysv(key: number, address: string, req: CreateRequest): Mapped {
  const [id, created] = native.sysvGet(key, req.size, true, req.exclusive, req.mode);
  try {
    const trust = created || req.trustForeign ? undefined : { wanted: req.mode };
    return attach(id, req.size, req.maxSize, address, trust);
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
  return attach(id, Math.max(req.minSize, 1), req.maxSize, address, req.trustForeign ? undefined : { wanted: undefined });
}

export function unlinkSysv(key: number): void {
  const [id] = native.sysvGet(key, 0, false, false, 0);
  native.sysvRemove(id);
}
