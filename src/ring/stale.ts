// Finding shmring segments on this machine and telling stale ones apart: a segment is
// stale when no process maps it (/proc/*/maps for POSIX shm, the attach count for System
// V), its header records at least one participant, and every one of them is dead. A
// segment some process maps is never stale, whatever its header says; neither is one whose
// participants all closed cleanly (a persistent queue waiting for its next reader).
import { readdirSync, readFileSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { Segment } from '../segment/segment.js';
import { describeRing, type RingDescription } from './inspect.js';
import { entryOffset, MAX_PARTICIPANTS } from './mpmc-layout.js';

export interface FoundSegment {
  address: string;
  size: number;
  /** Processes that map (POSIX) or attach (System V) it now. */
  users: number;
  ring: RingDescription;
  stale: boolean;
}

/** How many bytes of a segment to read to describe its ring (header and MPMC registry). */
const PROBE_BYTES = entryOffset(MAX_PARTICIPANTS);

function mappedPaths(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let maps: string;
    try {
      maps = readFileSync(`/proc/${pid}/maps`, 'latin1');
    } catch {
      continue; // gone, or not ours to read
    }
    const seen = new Set<string>();
    for (const line of maps.split('\n')) {
      const at = line.indexOf('/dev/shm/');
      if (at >= 0) seen.add(line.slice(at).replace(/ \(deleted\)$/, ''));
    }
    for (const path of seen) counts.set(path, (counts.get(path) ?? 0) + 1);
  }
  return counts;
}

function probeFile(path: string): { size: number; bytes: Uint8Array } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(Math.min(size, PROBE_BYTES));
    readSync(fd, bytes, 0, bytes.length, 0);
    return { size, bytes };
  } finally {
    closeSync(fd);
  }
}

function judge(address: string, size: number, users: number, ring: RingDescription): FoundSegment {
  const stale = users === 0 && ring.participants.length > 0 && ring.participants.every((p) => !p.alive);
  return { address, size, users, ring, stale };
}

/** Every shmring segment in /dev/shm and System V shared memory. */
export function findSegments(): FoundSegment[] {
  const found: FoundSegment[] = [];
  const mapped = mappedPaths();
  for (const name of readdirSync('/dev/shm')) {
    const probe = probeFile(`/dev/shm/${name}`);
    const ring = probe && describeRing(probe.bytes);
    if (probe && ring) found.push(judge(`shm:${name}`, probe.size, mapped.get(`/dev/shm/${name}`) ?? 0, ring));
  }
  let sysv = '';
  try {
    sysv = readFileSync('/proc/sysvipc/shm', 'latin1');
  } catch {
    // no System V IPC here
  }
  for (const line of sysv.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    const key = Number(f[0]);
    const size = Number(f[3]);
    const attached = Number(f[6]);
    if (key === 0 || !Number.isFinite(size)) continue;
    const address = `sysv:0x${(key >>> 0).toString(16)}`;
    let segment: Segment | undefined;
    try {
      segment = Segment.open(address);
      const ring = describeRing(new Uint8Array(segment.buffer, 0, Math.min(segment.size, PROBE_BYTES)).slice());
      // our own attachment is not a user
      if (ring) found.push(judge(address, size, attached, ring));
    } catch {
      // not ours to open, or gone
    } finally {
      segment?.close();
    }
  }
  return found;
}

/** Whether the segment at `address` is a stale shmring segment (false if unknown). */
export function isStale(address: string): boolean {
  return findSegments().some((s) => s.address === address && s.stale);
}
