// The child side of fork(): joins the Channel the parent handed down (its memfd at the stdio
// index named in SHMRING_FORK) and rewires `process` onto it (ipc-target.ts), so that
// process.send and process.on('message') work unchanged. Runs from the preload before the
// child's main module; connectParent() gives the Channel to code that wants it directly.
import { shmError } from '../errors.js';
import { Channel } from './channel.js';
import { FORK_ENV, forkCodec } from './fork-codec.js';
import { installIpc, type IpcTarget } from './ipc-target.js';

let parent: Channel | undefined;

/**
 * Joins the parent's Channel and rewires `process` (once). Does nothing in a process that
 * shmring's fork() did not start. The variable is removed so grandchildren do not inherit it.
 */
export function installChild(): Channel | undefined {
  if (parent !== undefined) return parent;
  const spec = process.env[FORK_ENV];
  if (spec === undefined) return undefined;
  delete process.env[FORK_ENV];
  const match = /^(\d+):(\w+)$/.exec(spec);
  if (match === null) throw shmError('ERR_SHM_BAD_HEADER', `${FORK_ENV}=${JSON.stringify(spec)}: expected <fd>:<codec>`);
  const target = process as unknown as IpcTarget;
  if (typeof target.disconnect !== 'function') {
    throw shmError('ERR_CLOSED', 'this process has no IPC channel to its parent (was it started by shmring.fork()?)');
  }
  parent = Channel.connect(`fd:${match[1]}`, { codec: forkCodec(match[2]) });
  installIpc(target, parent);
  return parent;
}

/** The Channel to the parent, in a child started by shmring's fork(). */
export function connectParent(): Channel {
  const channel = installChild();
  if (channel === undefined) throw shmError('ENOENT', `no parent channel: ${FORK_ENV} is not set (start this process with shmring.fork())`);
  return channel;
}
