// Who a participant is, across processes and threads: the OS thread id (gettid; a
// process's main thread has its pid as id), that thread's start time from /proc/TID/stat,
// so a reused id is never mistaken for the original, and a tag of its PID namespace, so
// an id from another namespace is never looked up in ours. Packed in one 64-bit word so
// that taking a role or a lock is a single compareExchange.
//
//   bits  0..21  thread id (gettid; the main thread's is the pid; pid_max is at most 2^22)
//   bits 22..31  PID-namespace tag, 1..1023 (see NAMESPACE_TAG); 0 in identities written
//                by shmring before the tag existed
//   bits 32..63  start time of the thread in clock ticks since boot (low 32 bits)
//
// Identities written before the tag existed held (pid, worker threadId low 10 bits,
// process start time). Reading them: tag 0 (a main thread) is judged here as before, by
// pid and start time; an old worker's threadId bits read as another namespace's tag, so
// its holder counts as alive (safe: never taken over; remove the segment to recover). Old
// code reading a new identity judges bits 0..21 and 32..63 by kill() and /proc/ID/stat,
// which on a thread id answers for that thread: the same verdict.
import { readFileSync, readlinkSync } from 'node:fs';

const THREAD_MASK = 0x3fffff;
const TAG_SHIFT = 22;
const TAG_MASK = 0x3ff;

/** Start time of a process or thread in clock ticks since boot, or undefined if it is gone or a zombie. */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, not yet reaped
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : undefined;
}

/** The tag of a PID namespace inode: 1..1023, so 0 stays the mark of an untagged identity. */
export function namespaceTag(inode: number): number {
  return 1 + (inode % TAG_MASK);
}

/**
 * This process's PID-namespace tag, from the inode of /proc/self/ns/pid. Namespace inodes
 * are handed out in sequence, so 1,023 namespaces made one after another get distinct tags.
 * 0 (untagged: judged as local) where the link cannot be read.
 */
function selfNamespace(): number {
  try {
    const inode = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
    return inode === undefined ? 0 : namespaceTag(Number(inode));
  } catch {
    return 0;
  }
}

export const NAMESPACE_TAG = selfNamespace();

export function packIdentity(thread: number, startTime: number, tag = NAMESPACE_TAG): bigint {
  const low = ((thread & THREAD_MASK) | ((tag & TAG_MASK) << TAG_SHIFT)) >>> 0;
  return (BigInt(startTime >>> 0) << 32n) | BigInt(low);
}

/** The thread id of an identity: the pid for a main thread. Meaningful only in its own namespace. */
export function identityThread(identity: bigint): number {
  return Number(identity & BigInt(THREAD_MASK));
}

export function identityNamespace(identity: bigint): number {
  return Number((identity >> BigInt(TAG_SHIFT)) & BigInt(TAG_MASK));
}

/** Whether the identity was made in another PID namespace: its ids mean nothing in ours. */
export function isForeign(identity: bigint): boolean {
  const tag = identityNamespace(identity);
  return tag !== 0 && tag !== NAMESPACE_TAG;
}

/** The calling thread's id: /proc/thread-self links to PID/task/TID. */
function selfThreadId(): number {
  try {
    const link = readlinkSync('/proc/thread-self');
    const tid = Number(link.slice(link.lastIndexOf('/') + 1));
    if (Number.isInteger(tid) && tid > 0) return tid;
  } catch {
    // no /proc/thread-self (Linux < 3.17): fall back to the process
  }
  return process.pid;
}

const selfTid = selfThreadId();
const selfStart = processStartTime(process.pid) ?? 0;

/** This process (its main thread): the identity other processes check for liveness. */
export const SELF_PROCESS = packIdentity(process.pid, selfStart);
/** This thread of this process: owners of locks and roles are threads. */
export const SELF_THREAD = selfTid === process.pid ? SELF_PROCESS : packIdentity(selfTid, processStartTime(selfTid) ?? selfStart);

/**
 * Whether the thread named by an identity still runs. An id that now belongs to a thread
 * started at another time counts as dead. An identity from another PID namespace counts as
 * alive: nothing here can prove it dead. The answer may be stale as soon as it is returned;
 * callers only act on "dead" answers, which cannot become wrong.
 */
export function isAlive(identity: bigint): boolean {
  const tid = identityThread(identity);
  if (tid === 0) return false; // no thread has id 0, in any namespace
  if (isForeign(identity)) return true;
  try {
    process.kill(tid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: it exists but belongs to another user; the start time decides
  }
  const start = processStartTime(tid);
  return start !== undefined && BigInt(start >>> 0) === identity >> 32n;
}

/**
 * The process an identity's thread belongs to, for people: the pid of its thread group
 * while the thread runs, else the thread id itself (a main thread's id is its pid).
 */
export function identityProcess(identity: bigint): number {
  const tid = identityThread(identity);
  if (isForeign(identity)) return tid;
  try {
    const tgid = /^Tgid:\s*(\d+)$/m.exec(readFileSync(`/proc/${tid}/status`, 'latin1'))?.[1];
    return tgid === undefined ? tid : Number(tgid);
  } catch {
    return tid;
  }
}
