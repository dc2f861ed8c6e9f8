// The stale-segment verdict for people and tools (shmring ls, rm --stale): every shmring
// segment on this machine, described, with how many processes use it and whether it is
// stale (see isStaleRing in ring/inspect.ts). Reads only; removing is the caller's.
import { Segment } from '../segment/segment.js';
import { readHead, shmMappers, shmNames, sysvSegments } from '../segment/discovery.js';
import { describeRing, isStaleRing, PROBE_BYTES, type RingDescription } from '../ring/inspect.js';

export interface FoundSegment {
  address: string;
  size: number;
  /** Processes that map (POSIX) or attach (System V) it now. */
  users: number;
  ring: RingDescription;
  stale: boolean;
}

function found(address: string, size: number, users: number, ring: RingDescription): FoundSegment {
  return { address, size, users, ring, stale: isStaleRing(ring, users) };
}

/** Every shmring segment in /dev/shm and System V shared memory. */
export function findSegments(): FoundSegment[] {
  const result: FoundSegment[] = [];
  const mapped = shmMappers();
  for (const name of shmNames()) {
    const path = `/dev/shm/${name}`;
    const probe = readHead(path, PROBE_BYTES);
    const ring = probe && describeRing(probe.bytes);
    if (probe && ring) result.push(found(`shm:${name}`, probe.size, mapped.get(path) ?? 0, ring));
  }
  for (const s of sysvSegments()) {
    let segment: Segment | undefined;
    try {
      segment = Segment.open(s.address);
      const ring = describeRing(new Uint8Array(segment.buffer, 0, Math.min(segment.size, PROBE_BYTES)).slice());
      // our own attachment is not a user: the count was read before it
      if (ring) result.push(found(s.address, s.size, s.attached, ring));
    } catch {
      // not ours to open, or gone
    } finally {
      segment?.close();
    }
  }
  return result;
}
