// Observing a real child: wait until one of its threads sits in a given syscall, so a
// test can be sure the child is parked before it wakes it.
import { readdirSync, readFileSync } from 'node:fs';

export const SYS_FUTEX = 202;
export const SYS_FUTEX_WAITV = 449;

function threadsIn(pid: number, nr: number): number {
  let count = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tasks) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'latin1').startsWith(`${nr} `)) count++;
    } catch {
      // thread gone
    }
  }
  return count;
}

/** Resolves true once `pid` has a thread in syscall `nr` (and `mainThread` restricts to the main one). */
export async function inSyscall(pid: number, nr: number, mainThread: boolean, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (mainThread) {
      try {
        if (readFileSync(`/proc/${pid}/syscall`, 'latin1').startsWith(`${nr} `)) return true;
      } catch {
        return false;
      }
    } else if (threadsIn(pid, nr) > 0) {
      return true;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}
