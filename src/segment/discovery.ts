// Which shared memory segments exist on this machine and how many processes map them:
// POSIX shm objects in /dev/shm (mappers counted from /proc/*/maps) and System V segments
// (/proc/sysvipc/shm, with their attach count). Reads /proc and /dev/shm only; knows
// nothing of what the segments hold (rings judge that: ring/inspect.ts, admin/stale.ts).
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { parseAddress } from './address.js';
import { sysvKey } from './sysv.js';

export interface SysvSegment {
  address: string;
  key: number;
  size: number;
  /** Processes attached now. */
  attached: number;
}

/** For each /dev/shm path in `wanted` (every one if undefined), how many processes map it now. */
export function shmMappers(wanted?: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let maps: string;
    try {
      maps = readFileSync(`/proc/${pid}/maps`, 'latin1');
    } catch {
      continue; // gone, or not ours to read
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
  return counts;
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
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    const key = Number(f[0]);
    const size = Number(f[3]);
    if (key === 0 || !Number.isFinite(size)) continue;
    found.push({ address: `sysv:0x${(key >>> 0).toString(16)}`, key: key >>> 0, size, attached: Number(f[6]) });
  }
  return found;
}

/** The first `max` bytes of a file (a /dev/shm object) and its size, or undefined if it cannot be read. */
export function readHead(path: string, max: number): { size: number; bytes: Uint8Array } | undefined {
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
    const bytes = new Uint8Array(Math.min(size, max));
    readSync(fd, bytes, 0, bytes.length, 0);
    return { size, bytes };
  } finally {
    closeSync(fd);
  }
}

/**
 * How many processes map (POSIX shm) or attach (System V) the segment at `address` now;
 * undefined for kinds nobody can count (files, descriptors) or a segment that is gone.
 */
export function usersOf(address: string): number | undefined {
  const parsed = parseAddress(address);
  if (parsed.kind === 'shm') {
    const path = `/dev/shm/${parsed.name}`;
    return shmMappers(path).get(path) ?? 0;
  }
  if (parsed.kind === 'sysv' || parsed.kind === 'sysv-ftok') {
    const key = sysvKey(parsed) >>> 0;
    return sysvSegments().find((s) => s.key === key)?.attached;
  }
  return undefined;
}
