// Who a participant is, across processes: a pid plus the process start time from
// /proc/PID/stat, so a reused pid is never mistaken for the original. Packed in one
// 64-bit word so that taking a role or a lock is a single compareExchange.
//
//   bits  0..21  pid (Linux pid_max is at most 2^22)
//   bits 22..31  thread id within the process (worker_threads.threadId, low 10 bits)
//   bits 32..63  process start time in clock ticks since boot (low 32 bits)
import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

const PID_MASK = 0x3fffff;
const THREAD_SHIFT = 22;
const THREAD_MASK = 0x3ff;

/** Start time of a process in clock ticks since boot, or undefined if it is gone or a zombie. */
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

export function packIdentity(pid: number, startTime: number, thread = 0): bigint {
  const low = ((pid & PID_MASK) | ((thread & THREAD_MASK) << THREAD_SHIFT)) >>> 0;
  return (BigInt(startTime >>> 0) << 32n) | BigInt(low);
}

export function identityPid(identity: bigint): number {
  return Number(identity & BigInt(PID_MASK));
}

const selfStart = processStartTime(process.pid) ?? 0;

/** This process (thread 0): the identity other processes check for liveness. */
export const SELF_PROCESS = packIdentity(process.pid, selfStart);
/** This thread of this process: owners of locks are threads. */
export const SELF_THREAD = packIdentity(process.pid, selfStart, threadId);

/**
 * Whether the process named by an identity still runs. A pid that now belongs to a
 * process started at another time counts as dead. The answer may be stale as soon as it
 * is returned; callers only use "dead" answers, which cannot become wrong.
 */
export function isAlive(identity: bigint): boolean {
  const pid = identityPid(identity);
  if (pid === 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: it exists but belongs to another user; the start time decides
  }
  const start = processStartTime(pid);
  return start !== undefined && BigInt(start >>> 0) === identity >> 32n;
}
