// Descriptor-backed shared memory: POSIX shm objects (shm_open), regular files (open),
// memfds (memfd_create) and inherited descriptors. All are sized with fallocate and
// mapped MAP_SHARED; the descriptor is closed once mapped unless the segment exposes it.
import { ShmError, shmError } from '../errors.js';
import { native } from '../native.js';
import type { CreateRequest, Mapped, OpenRequest } from './backend.js';
import { checkMapSize, checkTrusted } from './trust.js';

export type PathKind = 'shm' | 'file';

function closeQuietly(fd: number): void {
  try {
    native.closeFd(fd);
  } catch {
    // already failing: the first error is the one to report
  }
}

/**
 * open/shm_open of a name (never following a symbolic link at it, never blocking on a FIFO):
 * a link planted there is ELOOP, said plainly.
 */
function openName(kind: PathKind, path: string, address: string, create: boolean, exclusive: boolean, readOnly: boolean, mode: number): [fd: number, created: boolean] {
  try {
    return native.openFd(kind, path, create, exclusive, readOnly, mode);
  } catch (err) {
    if (!(err instanceof ShmError) || err.code !== 'ELOOP') throw err;
    throw shmError('ELOOP', `ELOOP: ${address} is a symbolic link; shmring does not follow links at a segment's name`, { errno: err.errno, syscall: err.syscall, address });
  }
}

/** Refuses anything but a regular file or shm object (a FIFO, device, socket or directory). */
function statRegular(fd: number, address: string): { size: number; mode: number; uid: number } {
  const [size, isRegular, mode, uid] = native.fdStat(fd);
  if (!isRegular) {
    throw shmError('EINVAL', `EINVAL: ${address} is not a shared memory object or regular file`, { errno: 22, address });
  }
  return { size, mode, uid };
}

function mapDescriptor(fd: number, readOnly: boolean, minSize: number, maxSize: number, address: string, keepFd: boolean): Mapped {
  const { size } = statRegular(fd, address);
  if (size === 0 || size < minSize) {
    throw shmError('ERR_SHM_TRUNCATED', `${address} holds ${size} bytes, fewer than the ${Math.max(minSize, 1)} expected`, { address });
  }
  checkMapSize(address, size, maxSize);
  const [buffer, fault] = native.mapFd(fd, size, readOnly);
  return keepFd ? { buffer, size, fd, fault: new Int32Array(fault) } : { buffer, size, fault: new Int32Array(fault) };
}

export function createPath(kind: PathKind, path: string, address: string, req: CreateRequest): Mapped {
  const [fd, created] = openName(kind, path, address, true, req.exclusive, false, req.mode);
  try {
    const existing = statRegular(fd, address);
    if (!created && !req.trustForeign) checkTrusted(address, [existing.uid], existing.mode, req.mode);
    checkMapSize(address, existing.size, req.maxSize);
    if (existing.size < req.size) native.fdReserve(fd, req.size);
    return mapDescriptor(fd, false, req.size, req.maxSize, address, false);
  } catch (err) {
    if (created) unlinkQuietly(kind, path);
    throw err;
  } finally {
    closeQuietly(fd);
  }
}

export function openPath(kind: PathKind, path: string, address: string, req: OpenRequest): Mapped {
  const [fd] = openName(kind, path, address, false, false, req.readOnly, 0);
  try {
    const existing = statRegular(fd, address);
    if (!req.trustForeign) checkTrusted(address, [existing.uid], existing.mode, undefined);
    return mapDescriptor(fd, req.readOnly, req.minSize, req.maxSize, address, false);
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

/** A memfd of `size` bytes, sealed at that size: whoever it is handed to cannot shrink it under our mapping. */
export function createMemfd(size: number): Mapped {
  const fd = native.memfdCreate('shmring');
  try {
    native.fdReserve(fd, size);
    native.fdSeal(fd);
    return mapDescriptor(fd, false, size, size, 'anonymous', true);
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
}

/** Maps an inherited descriptor through a duplicate the segment owns. */
export function openInherited(fd: number, address: string, req: OpenRequest): Mapped {
  const own = native.dupFd(fd);
  try {
    return mapDescriptor(own, req.readOnly, req.minSize, req.maxSize, address, true);
  } catch (err) {
    closeQuietly(own);
    throw err;
  }
}

export { closeQuietly };
