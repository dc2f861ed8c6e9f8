// fork(): child_process.fork whose send() and 'message' ride a shared-memory Channel. The
// child's code does not change: a preload (fork-preload.ts, added to the child's execArgv)
// rewires its `process` the same way (ipc-target.ts), then takes itself back out of
// process.execArgv (fork-spec.ts). Node's fork() itself validates the arguments and spawns, so
// its errors, events, `stdio` and IPC pipe are Node's own; the Channel lives in an anonymous
// memfd handed to the child as one more stdio descriptor, so nothing is ever left in /dev/shm,
// whichever side is killed.
//
// What fork() changes before calling Node's (the stdio array, execArgv) it changes only in
// arguments Node would accept: arguments Node's fork refuses go to Node's fork unchanged, first,
// so its error is the one thrown. Node's later checks (cwd, env, uid, ...) run when it spawns,
// after the checks of `options.shm`.
import * as childProcess from 'node:child_process';
import type { ChildProcess, ForkOptions } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOptions } from '../errors.js';
import { Channel } from './channel.js';
import { forkCodec, type ForkCodecName } from './fork-codec.js';
import { preloadHref } from './fork-spec.js';
import { installIpc } from './ipc-target.js';
import { checkCapacity, checkCount, DEFAULT_HIGH_WATER_MARK } from './options.js';

/** child_process.fork's options, and `shm` for the shared-memory channel. */
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
const PRELOAD = new URL(`./fork-preload${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Node's stdio shorthands for fork (stdioStringToArray in Node's lib/internal/child_process.js).
 */
function stdioStringToArray(stdio: string): unknown[] | undefined {
  switch (stdio) {
    case 'ignore':
    case 'overlapped':
    case 'pipe':
      return [stdio, stdio, stdio, 'ipc'];
    case 'inherit':
      return [0, 1, 2, 'ipc'];
    default:
      return undefined; // Node refuses it: ERR_INVALID_ARG_VALUE
  }
}

/** The stdio array Node's fork would spawn with; undefined when Node refuses `options.stdio`. */
function stdioOf(options: ForkOptions): unknown[] | undefined {
  const { stdio } = options;
  if (typeof stdio === 'string') return stdioStringToArray(stdio);
  if (!Array.isArray(stdio)) return stdioStringToArray(options.silent ? 'pipe' : 'inherit');
  if (!stdio.includes('ipc')) return undefined; // ERR_CHILD_PROCESS_IPC_REQUIRED
  // Node makes at least three descriptors (padding with undefined: a pipe), then numbers the
  // entries in order, skipping holes; a copy keeps the holes, and ours comes after them all.
  const copy = stdio.slice();
  while (copy.length < 3) copy.push(undefined);
  // Never the memfd on 0-2 (holes could put it there: a child printing would write into the
  // Channel). Node's own child dies at start with such an array anyway.
  while (nextDescriptor(copy) < 3) copy.push('ignore');
  return copy;
}

/** The child's descriptor number of an entry appended to `stdio` (Node skips holes). */
function nextDescriptor(stdio: unknown[]): number {
  let n = 0;
  for (let i = 0; i < stdio.length; i++) if (i in stdio) n++;
  return n;
}

/**
 * The execArgv Node's fork would give the child; undefined when it is not iterable (Node throws).
 */
function execArgvOf(options: ForkOptions): string[] | undefined {
  let execArgv: readonly string[] = options.execArgv || process.execArgv;
  // As Node does: a parent run with -e/-p does not hand its script to the child.
  const script = (process as { _eval?: string })._eval;
  if (execArgv === process.execArgv && script != null) {
    const index = execArgv.lastIndexOf(script);
    if (index > 0) execArgv = [...execArgv.slice(0, index - 1), ...execArgv.slice(index + 1)];
  }
  try {
    return [...execArgv];
  } catch {
    return undefined;
  }
}

const hasNullByte = (arg: unknown): boolean => typeof arg === 'string' && arg.includes('\u0000');

/** Calls Node's fork with arguments it refuses, so that the caller gets Node's own error. */
function nodeRefusal(modulePath: unknown, args: unknown, options: unknown): never {
  const child = childProcess.fork(modulePath as string, args as string[], options as ForkOptions);
  child.kill('SIGKILL'); // not reached: Node refuses what brings us here
  throw new TypeError('child_process.fork accepted arguments that it refuses on the Node versions shmring knows');
}

/**
 * As child_process.fork(modulePath[, args][, options]), with messages in shared memory.
 * Returns Node's ChildProcess; `send()` and 'message' go through the Channel.
 */
export function fork(modulePath: string | URL, args?: readonly string[] | ShmForkOptions, options?: ShmForkOptions): ChildProcess {
  // Node's argument shapes: an object in place of `args` is the options (whatever follows).
  let argv: unknown = args;
  let opts: unknown = options;
  if (argv != null && typeof argv === 'object' && !Array.isArray(argv)) {
    opts = argv;
    argv = undefined;
  }
  // (Node names a bad argument by its index among execArgv and args, which the preload would shift.)
  if ((argv != null && !(Array.isArray(argv) && !argv.some(hasNullByte))) || (opts != null && (typeof opts !== 'object' || Array.isArray(opts)))) {
    nodeRefusal(modulePath, args, options);
  }
  const { shm, ...nodeOptions } = (opts ?? {}) as ShmForkOptions;
  const { serialization } = nodeOptions;
  const stdio = stdioOf(nodeOptions);
  const execArgv = execArgvOf(nodeOptions);
  if (stdio === undefined || execArgv === undefined || (serialization !== undefined && serialization !== 'json' && serialization !== 'advanced')) {
    nodeRefusal(modulePath, args, options);
  }

  const s = checkOptions(shm, 'options.shm');
  const capacity = checkCapacity(s.capacity, 'options.shm.capacity');
  const highWaterMark = checkCount('options.shm.highWaterMark', s.highWaterMark, DEFAULT_HIGH_WATER_MARK, Infinity);
  const codec: unknown = s.codec === undefined ? (serialization === 'advanced' ? 'advanced' : 'json') : s.codec;
  const channelCodec = forkCodec(codec); // refuses a name the child could not rebuild

  const channel = Channel.create(undefined, { capacity, codec: channelCodec, highWaterMark });
  const fd = nextDescriptor(stdio);
  const preload = preloadHref(PRELOAD, { fd, codec: codec as string, parent: process.pid });
  let child: ChildProcess;
  try {
    stdio.push(Number(channel.address.slice('fd:'.length)));
    child = childProcess.fork(modulePath, argv as string[] | undefined, {
      ...nodeOptions,
      stdio: stdio as ForkOptions['stdio'],
      execArgv: [...execArgv, '--import', preload],
    });
  } catch (err) {
    channel.close();
    throw err;
  }
  hideOurs(child, execArgv.length, preload);
  if (child.pid === undefined || typeof child.disconnect !== 'function') {
    // spawn failed ('error' follows from Node): nothing to rewire
    channel.close();
    return child;
  }
  // (The Channel closes, and our memfd with it, when Node's pipe reports 'disconnect'.)
  installIpc(child as ChildProcess & { connected: boolean }, channel);
  return child;
}

/**
 * Takes the preload out of `child.spawnargs` and the memfd's entry (always null) off the end
 * of `child.stdio`, so that both read as under child_process.fork.
 */
function hideOurs(child: ChildProcess, execArgvLength: number, preload: string): void {
  const at = 1 + execArgvLength; // spawnargs: execPath, execArgv..., modulePath, args...
  if (child.spawnargs?.[at] === '--import' && child.spawnargs[at + 1] === preload) child.spawnargs.splice(at, 2);
  if (Array.isArray(child.stdio) && child.stdio[child.stdio.length - 1] === null) (child.stdio as unknown[]).pop();
}
