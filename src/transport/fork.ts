// fork(): child_process.fork whose send() and 'message' ride a shared-memory Channel. The
// child's code does not change: a preload (fork-preload.ts, added to the child's execArgv)
// rewires its `process` the same way (ipc-target.ts). Node's fork() itself validates the
// arguments and spawns, so its errors, events, `stdio` and IPC pipe are Node's own; the
// Channel lives in an anonymous memfd handed to the child as one more stdio descriptor, so
// nothing is ever left in /dev/shm, whichever side is killed.
import * as childProcess from 'node:child_process';
import type { ChildProcess, ForkOptions } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOptions } from '../errors.js';
import { Channel } from './channel.js';
import { FORK_ENV, forkCodec, type ForkCodecName } from './fork-codec.js';
import { installIpc } from './ipc-target.js';

export interface ShmForkOptions extends ForkOptions {
  /** Shared-memory settings; Node's own options keep their meaning. */
  shm?: {
    /** Data bytes of each direction's ring, a power of two. Default 1 MiB. */
    capacity?: number;
    /** Overrides the codec that `serialization` implies ('json' → 'json', 'advanced' → 'advanced'). */
    codec?: ForkCodecName;
    /** Bytes queued in this process above which send() returns false. Default 1 MiB. */
    highWaterMark?: number;
  };
}

/** The preload the child runs before its main module: the sibling of this file. */
const PRELOAD = new URL(`./fork-preload${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

/** Node's default stdio for fork: the three of the parent (or pipes when silent) and 'ipc'. */
function stdioOf(options: ForkOptions): unknown[] {
  const { stdio } = options;
  if (Array.isArray(stdio)) return [...stdio];
  if (typeof stdio === 'string') return [stdio, stdio, stdio, 'ipc'];
  const each = options.silent === true ? 'pipe' : 'inherit';
  return [each, each, each, 'ipc'];
}

/**
 * As child_process.fork(modulePath[, args][, options]), with messages in shared memory.
 * Returns Node's ChildProcess; `send()` and 'message' go through the Channel.
 */
export function fork(modulePath: string | URL, args?: readonly string[] | ShmForkOptions, options?: ShmForkOptions): ChildProcess {
  // Node's argument shapes; anything Node refuses is left for Node's fork to refuse.
  let argv = args;
  let opts = options;
  if (argv != null && !Array.isArray(argv) && typeof argv === 'object' && opts === undefined) {
    opts = argv as ShmForkOptions;
    argv = undefined;
  }
  if (opts !== undefined && (opts === null || typeof opts !== 'object')) return childProcess.fork(modulePath, argv as string[], opts as ForkOptions);
  const { shm, ...nodeOptions } = opts ?? {};
  const s = checkOptions(shm, 'options.shm');
  const serialization = nodeOptions.serialization ?? 'json';
  const codec = s.codec ?? (serialization === 'advanced' ? 'advanced' : 'json');
  const channelCodec = forkCodec(codec); // refuses a name the child could not rebuild

  const channel = Channel.create(undefined, { capacity: s.capacity, codec: channelCodec, highWaterMark: s.highWaterMark });
  let child: ChildProcess;
  try {
    const stdio = stdioOf(nodeOptions);
    const fd = Number(channel.address.slice('fd:'.length));
    const index = stdio.length;
    stdio.push(fd);
    child = childProcess.fork(modulePath, argv as string[] | undefined, {
      ...nodeOptions,
      stdio: stdio as ForkOptions['stdio'],
      env: { ...(nodeOptions.env ?? process.env), [FORK_ENV]: `${index}:${codec}` },
      execArgv: [...(nodeOptions.execArgv ?? process.execArgv), '--import', PRELOAD],
    });
  } catch (err) {
    channel.close();
    throw err;
  }
  if (child.pid === undefined || typeof child.disconnect !== 'function') {
    // spawn failed ('error' follows from Node): nothing to rewire
    channel.close();
    return child;
  }
  // (The Channel closes, and our memfd with it, when Node's pipe reports 'disconnect'.)
  installIpc(child as ChildProcess & { connected: boolean }, channel);
  return child;
}
