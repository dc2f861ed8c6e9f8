// The child side of fork(): joins the Channel the parent handed down (its memfd at the stdio
// index named in the preload's URL, fork-spec.ts) and rewires `process` onto it
// (ipc-target.ts), so that process.send and process.on('message') work unchanged. Runs from
// the preload before the child's main module; connectParent() gives the Channel to code that
// wants it directly.
import { isMainThread } from 'node:worker_threads';
import { shmError } from '../errors.js';
import { Channel } from './channel.js';
import { forkCodec } from './fork-codec.js';
import { readPreloadHref, removePreloadArgs } from './fork-spec.js';
import { installIpc, type IpcTarget } from './ipc-target.js';

let parent: Channel | undefined;

/**
 * Run by the preload at `href`: takes the preload out of process.execArgv, then joins the
 * parent's Channel and rewires `process`, in the child the URL was written for only (not in a
 * grandchild or a worker thread that carried the URL on).
 */
export function installChild(href: string): Channel | undefined {
  const spec = readPreloadHref(href);
  removePreloadArgs(process.execArgv, href);
  if (parent !== undefined || !isMainThread || process.ppid !== spec.parent) return parent;
  const target = process as unknown as IpcTarget;
  if (typeof target.disconnect !== 'function') {
    throw shmError('ERR_CLOSED', 'this process has no IPC channel to its parent (was it started by shmring.fork()?)');
  }
  parent = Channel.connect(`fd:${spec.fd}`, { codec: forkCodec(spec.codec) });
  installIpc(target, parent);
  return parent;
}

/** The Channel to the parent, in a child started by shmring's fork(). */
export function connectParent<TReceive = unknown, TSend = TReceive>(): Channel<TReceive, TSend> {
  if (parent === undefined) throw shmError('ENOENT', 'no parent channel: this process was not started by shmring.fork()');
  return parent as Channel<TReceive, TSend>;
}
