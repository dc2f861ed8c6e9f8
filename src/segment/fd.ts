// Descriptor-backed shared memory: POSIX shm objects (shm_open), regular files (open),
// memfds (memfd_create) and inherited descriptors. All are sized with fallocate and
// mapped MAP_SHARED; the descriptor is closed once mapped unless the segment exposes it.
import { shmError } from '../errors.js';
import { native } from '../native.js';
import type { CreateRequest, Mapped, OpenRequest } from './backend.js';

export type PathKind = 'shm' | 'file';

function closeQuietly(fd: number): void {
  try {
    native.closeFd(fd);
  } catch {
    // already failing: the first error is the one to report
  }
}

function mapDescriptor(fd: number, readOnly: boolean, minSize: number, address: string, keepFd: boolean): Mapped {
  const [size, isRegular] = native.fdStat(fd);
  if (!isRegular) {
    throw shmError('EINVAL', `EINVAL: ${address} is not a shared memory object or regular file`, { errno: 22, address });
  }
  if (size === 0 || size < minSize) {
    throw shmError('ERR_SHM_TRUNCATED', `${address} holds ${size} bytes, fewer than the ${Math.max(minSize, 1)} expected`, { address });
  }
  const buffer = native.mapFd(fd, size, readOnly);
  return keepFd ? { buffer, size, fd } : { buffer, size };
}

export function createPath(kind: PathKind, path: string, address: string, req: CreateRequest): Mapped {
  const [fd, created] = native.openFd(kind, path, true, req.exclusive, false, req.mode);
  try {
    const [existing] = native.fdStat(fd);
    if (existing < req.size) native.fdReserve(fd, req.size);
    return mapDescriptor(fd, false, req.size, address, false);
  } catch (err) {
    if (created) unlinkQuietly(kind, path);
    throw err;
  } finally {
    closeQuietly(fd);
  }
}

export function openPath(kind: PathKind, path: string, address: string, req: OpenRequest): Mapped {
  const [fd] = native.openFd(kind, path, false, false, req.readOnly, 0);
  try {
    return mapDescriptor(fd, req.readOnly, req.minSize, address, false);
  } finally {
    closeQuietly(fd);
  }
}

export function unlinkPath(kind: PathKind, path: string): void {
  native.unlink(kind, path);
}

function unlinkQuietly(kind: PathKind, path: string): void {
  try {
    native.unlink(kind, path);
  } catch {
    // best effort while reporting another error
  }
}

export function createMemfd(size: number): Mapped {
  const fd = native.memfdCreate('shmring');
  try {
    native.fdReserve(fd, size);
    return mapDescriptor(fd, false, size, 'anonymous', true);
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
}

/** Maps an inherited descriptor through a duplicate the segment owns. */
export function openInherited(fd: number, address: string, req: OpenRequest): Mapped {
  const own = native.dupFd(fd);
  try {
    return mapDescriptor(own, req.readOnly, req.minSize, address, true);
  } catch (err) {
    closeQuietly(own);
    throw err;
  }
}

export { closeQuietly };
