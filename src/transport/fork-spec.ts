// How shmring's fork() tells its child where the Channel is without leaving a trace the child's
// code could see: the preload's own URL carries it (`fork-preload.js?fd=4&codec=json&parent=PID`),
// so nothing is added to the child's environment, and the preload takes its `--import <url>`
// pair back out of process.execArgv. The child's execArgv, argv and env are then what
// child_process.fork would have given it, and code that re-forks with process.execArgv does
// not carry the preload on. `parent` makes a preload that was carried on anyway (a worker's
// execArgv still holds it: Node builds that from the command line, not from process.execArgv)
// a no-op in any process but the child it was written for.
import { shmError } from '../errors.js';

export interface ForkSpec {
  /** The child's stdio index of the Channel's memfd. */
  readonly fd: number;
  /** A fork codec name (fork-codec.ts), which the child rebuilds. */
  readonly codec: string;
  /** The pid of the process that forked the child. */
  readonly parent: number;
}

/** The preload's URL for one child. */
export function preloadHref(preload: URL, spec: ForkSpec): string {
  const url = new URL(preload.href);
  url.search = `?fd=${spec.fd}&codec=${spec.codec}&parent=${spec.parent}`;
  return url.href;
}

/** The spec written into a preload URL by preloadHref(); ERR_SHM_BAD_HEADER if it holds none. */
export function readPreloadHref(href: string): ForkSpec {
  const params = new URL(href).searchParams;
  const fd = params.get('fd') ?? '';
  const codec = params.get('codec') ?? '';
  const parent = params.get('parent') ?? '';
  if (!/^\d+$/.test(fd) || !/^\w+$/.test(codec) || !/^\d+$/.test(parent)) {
    throw shmError('ERR_SHM_BAD_HEADER', `fork preload ${JSON.stringify(href)}: expected ?fd=<n>&codec=<name>&parent=<pid>`);
  }
  return { fd: Number(fd), codec, parent: Number(parent) };
}

/** Whether `arg` names the preload at `href` (the same file and query, even if reached by another path). */
function samePreload(arg: string | undefined, href: string): boolean {
  if (arg === href) return true;
  if (arg === undefined || !arg.startsWith('file:')) return false;
  const a = new URL(arg);
  const b = new URL(href);
  return a.search === b.search && a.pathname.slice(a.pathname.lastIndexOf('/')) === b.pathname.slice(b.pathname.lastIndexOf('/'));
}

/** Removes the last `--import <href>` pair from `execArgv` (fork() appends it last). */
export function removePreloadArgs(execArgv: string[], href: string): boolean {
  for (let i = execArgv.length - 2; i >= 0; i--) {
    if (execArgv[i] === '--import' && samePreload(execArgv[i + 1], href)) {
      execArgv.splice(i, 2);
      return true;
    }
  }
  return false;
}
