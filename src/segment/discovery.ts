// Which shared memory segments exist on this machine and how many processes map them:
// POSIX shm objects in /dev/shm (mappers counted from /proc/*/maps) and System V segments
// (/proc/sysvipc/shm, with their attach count). Reads /proc and /dev/shm only, and System V
// segments through read-only attachments detached at once; knows nothing of what the
// segments hold (rings judge that: ring/inspect.ts, admin/stale.ts).
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { native } from '../native.js';
import { parseAddress } from './address.js';
import { sysvKey } from './sysv.js';

export interface SysvSegment {
  address: string;
  key: number;
  /** The shmid: remove by it, not by the key again (the key may name a new segment by then). */
  id: number;
  size: number;
  /** Processes attached now (the kernel's count: complete whoever the caller is). */
  attached: number;
  uid: number;
  mode: number;
}

export interface Mappers {
  /** For each /dev/shm path, how many processes whose maps could be read map it. */
  counts: Map<string, number>;
  /**
   * The owners of processes whose /proc/PID/maps could not be read (another user's). Root's
   * are left out: they are unreadable to every other user everywhere (and to root itself
   * in some sandboxes), and are taken not to map users' shmring segments.
   */
  unseenUids: Set<number>;
}

/** How many processes map each /dev/shm path in `wanted` (every one if undefined), and whom we could not see. */
export function scanMappers(wanted?: string): Mappers {
  const counts = new Map<string, number>();
  const unseenUids = new Set<number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let maps: string;
    try {
      maps = readFileSync(`/proc/${pid}/maps`, 'latin1');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') continue; // gone
      try {
        const uid = statSync(`/proc/${pid}`).uid; // not ours to read: it may map what its owner can open
        if (uid !== 0) unseenUids.add(uid);
      } catch {
        // gone meanwhile
      }
      continue;
    }
    if (wanted !== undefined && !maps.includes(wanted)) continue;
    const seen = new Set<string>();
    for (const line of maps.split('\n')) {
      const at = line.indexOf('/dev/shm/');
      if (at < 0) continue;
      const path = line.slice(at).replace(/ \(deleted\)$/, '');
      if (wanted === undefined || path === wanted) seen.add(path);
    }
    for (const path of seen) counts.set(path, (counts.get(path) ?? 0) + 1);
  }
  return { counts, unseenUids };
}

/**
 * Whether a process this caller could not see may map a /dev/shm object of owner `uid`
 * and permission bits `mode`: one of its owner's processes, or anyone's if group or others
 * may open it. Root's processes are not counted (see Mappers.unseenUids).
 */
export function mayBeMappedUnseen(unseenUids: Set<number>, uid: number, mode: number): boolean {
  if (unseenUids.size === 0) return false;
  return (mode & 0o066) !== 0 || unseenUids.has(uid);
}

/** Names of the POSIX shm objects (entries of /dev/shm). */
export function shmNames(): string[] {
  return readdirSync('/dev/shm');
}

/** Every System V shared memory segment with a key, from /proc/sysvipc/shm. */
export function sysvSegments(): SysvSegment[] {
  let table = '';
  try {
    table = readFileSync('/proc/sysvipc/shm', 'latin1');
  } catch {
    return []; // no System V IPC here
  }
  const found: SysvSegment[] = [];
  // key shmid perms size cpid lpid nattch uid gid ...
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const key = Number(f[0]);
    const size = Number(f[3]);
    if (key === 0 || !Number.isFinite(size)) continue;
    const mode = parseInt(f[2]!, 8) & 0o777;
    found.push({ address: `sysv:0x${(key >>> 0).toString(16)}`, key: key >>> 0, id: Number(f[1]), size, attached: Number(f[6]), uid: Number(f[7]), mode });
  }
  return found;
}

/**
 * Reads up to `length` bytes at `offset` of one segment: fewer at its end, none past it or
 * if it cannot be read (any more). Every call reads the same object (the probe's).
 */
export type ReadAt = (offset: number, length: number) => Uint8Array;

const NOTHING = new Uint8Array(0);

/**
 * Reads from System V segment `id` (by its shmid, not its key) through read-only
 * attachments detached at once: it never attaches another application's segment writable.
 */
export function sysvReader(id: number): ReadAt {
  return (offset, length) => {
    try {
      return native.sysvPeek(id, length, offset);
    } catch {
      return NOTHING;
    }
  };
}

export interface FileProbe<T> {
  size: number;
  uid: number;
  mode: number;
  /** Device and inode: the object this probe read, to tell it from one made later under the same name. */
  dev: number;
  ino: number;
  /** What `look` made of the object's bytes. */
  value: T;
}

/**
 * Opens a file (a /dev/shm object) read-only and hands `look` a reader of its bytes, used
 * while it is open; its size, owner, identity and what `look` returned, or undefined if it
 * cannot be opened or is no regular file.
 */
export function probeFile<T>(path: string, look: (read: ReadAt, size: number) => T): FileProbe<T> | undefined {
  let fd: number;
  try {
    // Never blocks (a FIFO planted in /dev/shm), never follows a link, never becomes a tty.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return undefined; // a directory, FIFO, socket or device is no segment
    const size = stat.size;
    const read: ReadAt = (offset, length) => {
      const bytes = new Uint8Array(Math.max(0, Math.min(size - offset, length)));
      try {
        return bytes.subarray(0, readSync(fd, bytes, 0, bytes.length, offset));
      } catch {
        return NOTHING;
      }
    };
    return { size, uid: stat.uid, mode: stat.mode & 0o777, dev: stat.dev, ino: stat.ino, value: look(read, size) };
  } finally {
    closeSync(fd);
  }
}

/** Whether `path` still names the object a probe read (same device and inode). */
export function sameObject(path: string, head: { dev: number; ino: number }): boolean {
  try {
    const stat = lstatSync(path);
    return stat.dev === head.dev && stat.ino === head.ino;
  } catch {
    return false;
  }
}

/**
 * How many processes map (POSIX shm) or attach (System V) the segment at `address` now;
 * undefined for kinds nobody can count (files, descriptors), a segment that is gone, or
 * a POSIX object that processes this caller cannot see (another user's) may map.
 */
export function usersOf(address: string): number | undefined {
  const parsed = parseAddress(address);
  if (parsed.kind === 'shm') {
    const path = `/dev/shm/${parsed.name}`;
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return undefined;
    }
    const { counts, unseenUids } = scanMappers(path);
    if (mayBeMappedUnseen(unseenUids, stat.uid, stat.mode & 0o777)) return undefined;
    return counts.get(path) ?? 0;
  }
  if (parsed.kind === 'sysv' || parsed.kind === 'sysv-ftok') {
    const key = sysvKey(parsed) >>> 0;
    return sysvSegments().find((s) => s.key === key)?.attached;
  }
  return undefined;
}

/**
 * The size, first `max` bytes, owner and creator uids and mode of the System V segment at a
 * `sysv:` address, read-only, and a reader of the rest (see sysvReader); ShmError (ENOENT,
 * EACCES, ...) if it cannot be read.
 */
export function peekSysv(address: string, max: number): { size: number; bytes: Uint8Array; owners: number[]; mode: number; read: ReadAt } {
  const parsed = parseAddress(address);
  if (parsed.kind !== 'sysv' && parsed.kind !== 'sysv-ftok') throw new TypeError(`address=${address} is not a System V address`);
  const [id] = native.sysvGet(sysvKey(parsed), 0, false, false, 0);
  const [size, , , mode, uid, creatorUid] = native.sysvStat(id);
  return { size, bytes: native.sysvPeek(id, max), owners: [uid, creatorUid], mode, read: sysvReader(id) };
}
