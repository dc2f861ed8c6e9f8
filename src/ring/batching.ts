// Held work of this thread's ring handles: writes (releases) that batching holds back,
// and when they must be let go. A handle in per-task mode registers once per task and is
// flushed by a microtask; a corked handle is registered until uncork(). Both are flushed
// before this thread waits in the library, when a ring looks full or empty to it, and at
// process exit. Knows handles only as callbacks: no ring state, no shared memory.

/**
 * Makes a handle's held writes (or releases) visible to its peer. An internal callback,
 * registered below: rings expose no method for it.
 */
export type FlushHeld = () => void;

// Handles in per-task batching mode registered since the last flush of this thread, each
// once (a handle keeps a flag saying it is registered, cleared when its callback runs).
// One microtask per task flushes them all, so the hot path costs a flag test, and the list
// never grows past one entry per handle.
const deferred: FlushHeld[] = [];
let deferredCount = 0;
let taskQueued = false;
// Corked handles: what they hold is published on uncork(), never at the end of a task, but
// (like the above) before this thread waits in the library, when a ring looks full or
// empty to it, and at process exit.
const corked = new Set<FlushHeld>();

function flushTask(): void {
  taskQueued = false;
  flushDeferred();
}

/**
 * Registers a handle in per-task batching mode whose work must be visible by the end of
 * the current task at the latest. Before this thread parks in any blocking call of the
 * library, when a ring looks empty or full, and when the process exits, everything
 * registered is flushed as well, so deferred publication never makes a peer wait on this
 * thread.
 */
export function defer(flush: FlushHeld): void {
  deferred[deferredCount++] = flush;
  if (!taskQueued) {
    taskQueued = true;
    queueMicrotask(flushTask);
  }
}

/** Registers (true) or forgets (false) a corked handle (see corked). */
export function setCorked(flush: FlushHeld, on: boolean): void {
  if (on) corked.add(flush);
  else corked.delete(flush);
}

/** Makes every deferred write and release of this thread visible now (corked handles stay corked). */
export function flushDeferred(): void {
  for (let i = 0; i < deferredCount; i++) {
    const flush = deferred[i]!;
    deferred[i] = undefined!;
    flush();
  }
  deferredCount = 0;
  if (corked.size !== 0) for (const flush of corked) flush();
}

/**
 * For a ring that looks empty or full: flushes this thread's deferred work (the peer may
 * be another handle in this very thread) and says whether there may have been any, so the
 * caller knows a second look may find more.
 */
export function flushDeferredIfAny(): boolean {
  if (deferredCount === 0 && corked.size === 0) return false;
  flushDeferred();
  return true;
}

process.on('exit', flushDeferred);
