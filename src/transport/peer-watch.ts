// Learning that a peer process died, without polling every channel: one pidfd per peer
// process (Linux ≥ 5.3), watched by uv_poll on this thread's loop, readable once the
// process exits. Where there is no pidfd to watch, one unref'd timer per thread checks the
// watched identities (thread id + start time, sync/identity.ts) every PEER_CHECK_MS: where
// pidfd_open is missing, for a peer that is a worker thread (of this process or another;
// pidfd_open takes only a process's main thread, and a thread's id leaves /proc when it
// ends, terminate() too), and for a peer in another PID namespace (never found dead).
// Watches never keep the process alive: a channel that waits keeps it alive through its
// doorbell.
import { ShmError } from '../errors.js';
import { native } from '../native.js';
import { identityThread, isAlive, isForeign, SELF_THREAD } from '../sync/identity.js';

/** How often the fallback timer looks at peers without a pidfd. */
export const PEER_CHECK_MS = 100;

interface Watched {
  identity: bigint;
  fd: number;
  poll: number;
  callbacks: Set<() => void>;
}

const byIdentity = new Map<bigint, Watched>();
let timer: NodeJS.Timeout | undefined;

/** Whether the thread (a process's main thread, or a worker) an identity names still runs. */
const alive = isAlive;

function fire(watched: Watched): void {
  stopWatching(watched);
  for (const callback of [...watched.callbacks]) callback();
}

function stopWatching(watched: Watched): void {
  byIdentity.delete(watched.identity);
  if (watched.poll > 0) native.pollStop(watched.poll);
  if (watched.fd >= 0) {
    try {
      native.closeFd(watched.fd);
    } catch {
      // already closed
    }
  }
  watched.poll = 0;
  watched.fd = -1;
}

function checkAll(): void {
  for (const watched of [...byIdentity.values()]) if (watched.fd < 0 && !alive(watched.identity)) fire(watched);
  if (![...byIdentity.values()].some((w) => w.fd < 0) && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

/**
 * Calls `onDead` (once, from the event loop) when the process named by `identity` exits.
 * Returns the function that stops watching. A process that is already gone is reported on
 * the next turn of the loop.
 */
export function watchPeer(identity: bigint, onDead: () => void): () => void {
  if (identity === SELF_THREAD) return () => {}; // a peer in this very thread lives as long as we do
  let watched = byIdentity.get(identity);
  if (watched === undefined) {
    watched = { identity, fd: -1, poll: 0, callbacks: new Set() };
    byIdentity.set(identity, watched);
    const w = watched;
    if (isForeign(identity)) {
      timer ??= setInterval(checkAll, PEER_CHECK_MS).unref();
    } else {
      try {
        // EINVAL for a worker thread's id: the timer watches it
        w.fd = native.pidfdOpen(identityThread(identity));
        w.poll = native.pollStart(w.fd, () => fire(w));
        native.pollRef(w.poll, false);
      } catch (err) {
        if (w.fd >= 0) native.closeFd(w.fd);
        w.fd = -1;
        if (!(err instanceof ShmError) || err.code !== 'ESRCH') timer ??= setInterval(checkAll, PEER_CHECK_MS).unref();
      }
    }
    // The pid may already belong to another process (pid reuse): the start time decides.
    if (!alive(identity)) setImmediate(() => (byIdentity.get(identity) === w ? fire(w) : undefined));
  }
  const callback = () => onDead();
  watched.callbacks.add(callback);
  const w = watched;
  return () => {
    w.callbacks.delete(callback);
    if (w.callbacks.size === 0 && byIdentity.get(identity) === w) stopWatching(w);
  };
}
