// ref()/unref() for channels over ZeroMQ. zeromq.js cannot unref its sockets: a pending
// receive (ours, its monitor's, the ZAP handler's) holds a libuv poll handle that keeps the
// process alive, and Node does not list it among the resources that do. So while any of our
// channels is unref'd, one unref'd timer looks, between turns, whether anything but those
// handles keeps the loop alive: when nothing does (no ref'd channel of ours, and
// process.getActiveResourcesInfo() empty), the process would have exited, and the unref'd
// channels close as at exit (what they accepted goes on within linger), which lets it exit.

/** What a channel shows the look. */
export interface Holder {
  /** Whether it wants the process alive (ref'd, a waiting iterator, messages not yet handed to ZeroMQ). */
  holds(): boolean;
  /** The process would exit but for ZeroMQ's handles: end as at exit. */
  closeAtExit(): void;
}

/** How often the look runs while an unref'd channel is open (it allocates a small array). */
const LOOK_MS = 50;

const open = new Set<Holder>();
let timer: NodeJS.Timeout | undefined;

/**
 * Whether anything Node knows of keeps the loop alive. process.stdout and stderr are listed
 * as long as they are ref'd, though an idle pipe or TTY keeps nothing alive (a pending write
 * is a request of its own), so they are left out.
 */
function othersKeepAlive(): boolean {
  let count = process.getActiveResourcesInfo().length;
  if (count === 0) return false;
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  for (const handle of handles) if (handle === process.stdout || handle === process.stderr) count--;
  return count > 0;
}

function look(): void {
  for (const holder of open) if (holder.holds()) return;
  if (othersKeepAlive()) return;
  for (const holder of [...open]) holder.closeAtExit();
}

export function track(holder: Holder): void {
  open.add(holder);
  timer ??= setInterval(look, LOOK_MS).unref();
}

export function untrack(holder: Holder): void {
  open.delete(holder);
  if (open.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}
