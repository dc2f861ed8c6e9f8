// The stale-segment verdict for people and tools (shmring ls, rm --stale): every shmring
// segment on this machine (a ring or a channel), described, with how many processes use it
// and whether it is stale (see isStaleRing in ring/inspect.ts: nobody maps it, and every
// participant or channel end it records is dead), and the removal of stale ones, each by
// the very object that was probed (the inode of a /dev/shm name, the shmid of a System V
// segment), never by looking its name or key up again.
//
// A caller that cannot read every process's /proc/PID/maps (not root, other users' processes
// run) cannot count every mapper of a POSIX object: what processes it cannot see may map
// (mayBeMappedUnseen) has `usersKnown: false` and is never stale, and a caller that is not
// root judges only segments it owns. System V attach counts come from the kernel and are
// complete for everyone.
import { native } from '../native.js';
import { mayBeMappedUnseen, probeFile, sameObject, scanMappers, shmNames, sysvReader, sysvSegments } from '../segment/discovery.js';
import { describeSegment, isStaleSegment, type SegmentDescription } from './contents.js';

export interface FoundSegment {
  address: string;
  size: number;
  /** Owner of the object. */
  uid: number;
  /** Processes that map (POSIX) or attach (System V) it now; a lower bound when usersKnown is false. */
  users: number;
  /** false when processes this caller cannot see may map it, or it belongs to another user and some cannot be seen. */
  usersKnown: boolean;
  /** The ring or channel it holds (`description.kind`). */
  description: SegmentDescription;
  stale: boolean;
}

/** How a stale segment is removed: the probed object itself. Kept out of FoundSegment's JSON. */
type Remover = () => 'removed' | string;

const removers = new WeakMap<FoundSegment, Remover>();

function found(address: string, size: number, uid: number, users: number, usersKnown: boolean, description: SegmentDescription): FoundSegment {
  return { address, size, uid, users, usersKnown, description, stale: usersKnown && isStaleSegment(description, users) };
}

const callerUid = (): number => process.getuid?.() ?? 0;

/** Every shmring segment in /dev/shm and System V shared memory. */
export function findSegments(): FoundSegment[] {
  const result: FoundSegment[] = [];
  const { counts, unseenUids } = scanMappers();
  const uid = callerUid();
  for (const name of shmNames()) {
    const path = `/dev/shm/${name}`;
    const head = probeFile(path, (read) => describeSegment(read));
    if (!head?.value) continue;
    const hidden = mayBeMappedUnseen(unseenUids, head.uid, head.mode) || (unseenUids.size > 0 && uid !== 0 && head.uid !== uid);
    const entry = found(`shm:${name}`, head.size, head.uid, counts.get(path) ?? 0, !hidden, head.value);
    removers.set(entry, () => {
      // The name may have been removed and made again since the probe: remove only the probed object.
      if (!sameObject(path, head)) return 'kept: the name now names another object than the one probed';
      const now = probeFile(path, (read) => describeSegment(read))?.value;
      if (!now || !isStaleSegment(now, 0)) return 'kept: its header changed since it was probed (a participant came back)';
      native.unlink('shm', `/${name}`);
      return 'removed';
    });
    result.push(entry);
  }
  for (const s of sysvSegments()) {
    // Read through a read-only attachment, detached at once: never a writable attach of
    // what may be another application's segment. Our probe is not in s.attached (read before).
    const description = describeSegment(sysvReader(s.id));
    if (!description) continue;
    const entry = found(s.address, s.size, s.uid, s.attached, true, description);
    removers.set(entry, () => {
      // By the shmid probed: IPC_RMID on the key looked up again could hit a segment made since.
      const [, attached] = native.sysvStat(s.id);
      if (attached > 0) return `kept: ${attached} process(es) attach it now`;
      native.sysvRemove(s.id);
      return 'removed';
    });
    result.push(entry);
  }
  return result;
}

export interface Removal {
  address: string;
  outcome: 'removed' | 'kept' | 'failed';
  /** Why it was kept, or the error (code and message) that stopped its removal. */
  reason?: string;
}

/**
 * Removes every stale segment; reports each stale one, and each whose participants are
 * all dead but whose users cannot be known, which is kept. An error on one segment is
 * reported and the others are still handled.
 */
export function removeStale(segments: FoundSegment[] = findSegments()): Removal[] {
  const report: Removal[] = [];
  const uid = callerUid();
  for (const s of segments) {
    if (uid !== 0 && s.uid !== uid) {
      // Only root judges other users' segments (and only the owner or root may remove them).
      if (s.stale || isStaleSegment(s.description, s.users)) report.push({ address: s.address, outcome: 'kept', reason: `owned by uid ${s.uid}, not by this user` });
      continue;
    }
    if (!s.stale) {
      if (!s.usersKnown && isStaleSegment(s.description, s.users)) {
        const reason = 'unknown: processes whose /proc/PID/maps this user cannot read may map it (root can judge it)';
        report.push({ address: s.address, outcome: 'kept', reason });
      }
      continue;
    }
    try {
      const result = removers.get(s)!();
      report.push(result === 'removed' ? { address: s.address, outcome: 'removed' } : { address: s.address, outcome: 'kept', reason: result.slice('kept: '.length) });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      report.push({ address: s.address, outcome: 'failed', reason: `${e.code ?? 'error'}: ${e.message ?? String(err)}` });
    }
  }
  return report;
}
