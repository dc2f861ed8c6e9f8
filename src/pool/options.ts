// A ProcessPool's options: piscina's names and defaults where processes allow them, what
// each means, and the checks that turn a wrong one into a TypeError or RangeError naming it.
// (minWorkers/maxWorkers are piscina's minThreads/maxThreads: the pool runs processes.)
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rangeError, typeError } from '../errors.js';

export interface ProcessPoolOptions {
  /** The worker module (a path or a file: URL): its default export, or the export named `name`, runs each task. */
  filename?: string | URL | null;
  /** The export of `filename` that runs tasks unless run() names another. Default 'default'. */
  name?: string;
  /** Processes kept even when idle. Default: half the CPUs this process may use, at least 1. */
  minWorkers?: number;
  /** Processes at most. Default: the CPUs this process may use (piscina: 1.5× as many threads). */
  maxWorkers?: number;
  /** Milliseconds an idle worker above minWorkers lives on. Default 0; Infinity keeps it. */
  idleTimeout?: number;
  /** Tasks that may wait for a worker: a count, Infinity (default) or 'auto' (maxWorkers²). */
  maxQueue?: number | 'auto';
  /** Tasks one worker runs at once (those returning promises overlap). Default 1. */
  concurrentTasksPerWorker?: number;
  /** The workers' environment. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Node options of the workers. Default process.execArgv, as child_process.fork. */
  execArgv?: readonly string[];
  /** Appended to the workers' process.argv. */
  argv?: readonly string[];
  /** Heap limit of each worker: maxOldGenerationSizeMb becomes --max-old-space-size. */
  resourceLimits?: { maxOldGenerationSizeMb?: number };
  /** Milliseconds close() waits for queued and running tasks before it destroys the pool. Default 30000. */
  closeTimeout?: number;
  /** Record run and wait times (histogram, utilization). Default true. */
  recordTiming?: boolean;
}

/** The options after checks and defaults. */
export interface ResolvedPoolOptions {
  filename: string | null;
  name: string;
  minWorkers: number;
  maxWorkers: number;
  idleTimeout: number;
  maxQueue: number;
  concurrentTasksPerWorker: number;
  env: NodeJS.ProcessEnv | undefined;
  execArgv: string[];
  argv: string[];
  closeTimeout: number;
  recordTiming: boolean;
}

/** A worker module's path from a path or a file: URL (string or URL); relative paths from the cwd. */
export function modulePath(value: unknown, name: string): string {
  let path: string;
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw rangeError(name, value.href, 'a path or a file: URL');
    path = fileURLToPath(value);
  } else if (typeof value === 'string') {
    if (value.length === 0) throw rangeError(name, value, 'a path or a file: URL');
    path = value.startsWith('file:') ? fileURLToPath(value) : value;
  } else throw typeError(name, value, 'a path or a file: URL');
  return isAbsolute(path) ? path : resolve(path);
}

function count(name: string, value: unknown, min: number, fallback: number, infinite = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(name, value, 'a number');
  if (infinite && value === Infinity) return value;
  if (!Number.isInteger(value) || value < min) {
    throw rangeError(name, value, `an integer >= ${min}${infinite ? ' or Infinity' : ''}`);
  }
  return value;
}

function strings(name: string, value: unknown, fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value)) throw typeError(name, value, 'an array of strings');
  value.forEach((item, i) => {
    if (typeof item !== 'string') throw typeError(`${name}[${i}]`, item, 'a string');
  });
  return [...(value as string[])];
}

/** The heap flag of resourceLimits (the other limits piscina passes to a Worker have no process flag here). */
function heapArgs(value: unknown): string[] {
  if (value === undefined) return [];
  if (value === null || typeof value !== 'object') throw typeError('options.resourceLimits', value, 'an object');
  const { maxOldGenerationSizeMb, ...rest } = value as Record<string, unknown>;
  for (const key of Object.keys(rest)) {
    throw rangeError(`options.resourceLimits.${key}`, rest[key], 'left out: a worker process takes maxOldGenerationSizeMb only');
  }
  if (maxOldGenerationSizeMb === undefined) return [];
  return [`--max-old-space-size=${count('options.resourceLimits.maxOldGenerationSizeMb', maxOldGenerationSizeMb, 1, 0)}`];
}

export function fillOptions(options: unknown): ResolvedPoolOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw typeError('options', options, 'an options object');
  const o = options as ProcessPoolOptions;
  const filename = o.filename == null ? null : modulePath(o.filename, 'options.filename');
  if (o.name !== undefined && typeof o.name !== 'string') throw typeError('options.name', o.name, 'a string');
  const cpus = availableParallelism();
  let minWorkers = count('options.minWorkers', o.minWorkers, 0, Math.max(Math.floor(cpus / 2), 1));
  let maxWorkers = count('options.maxWorkers', o.maxWorkers, 1, cpus);
  if (o.minWorkers !== undefined && o.maxWorkers !== undefined && minWorkers > maxWorkers) {
    throw rangeError('options.minWorkers', minWorkers, `at most options.maxWorkers=${maxWorkers}`);
  }
  // As piscina: the one given wins over the other's default.
  if (o.maxWorkers !== undefined) minWorkers = Math.min(minWorkers, maxWorkers);
  if (o.minWorkers !== undefined) maxWorkers = Math.max(minWorkers, maxWorkers);
  const idleTimeout = count('options.idleTimeout', o.idleTimeout, 0, 0, true);
  const maxQueue = o.maxQueue === 'auto' ? maxWorkers ** 2 : count('options.maxQueue', o.maxQueue, 0, Infinity, true);
  const concurrentTasksPerWorker = count('options.concurrentTasksPerWorker', o.concurrentTasksPerWorker, 1, 1);
  if (o.env !== undefined && (o.env === null || typeof o.env !== 'object')) throw typeError('options.env', o.env, 'an object');
  const execArgv = [...strings('options.execArgv', o.execArgv, process.execArgv), ...heapArgs(o.resourceLimits)];
  const argv = strings('options.argv', o.argv, []);
  const closeTimeout = count('options.closeTimeout', o.closeTimeout, 0, 30_000, true);
  if (o.recordTiming !== undefined && typeof o.recordTiming !== 'boolean') throw typeError('options.recordTiming', o.recordTiming, 'a boolean');
  return {
    filename,
    name: o.name ?? 'default',
    minWorkers,
    maxWorkers,
    idleTimeout,
    maxQueue,
    concurrentTasksPerWorker,
    env: o.env,
    execArgv,
    argv,
    closeTimeout,
    recordTiming: o.recordTiming ?? true,
  };
}
