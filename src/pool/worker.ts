// One worker process of a ProcessPool, seen from the pool: the child (Node's fork of our
// runner), the Channel to it (an anonymous memfd handed down as one more stdio descriptor,
// so nothing is ever left in /dev/shm, whoever dies), the tasks it runs, and how it ends.
// Its handles never keep the parent alive (the pool holds one ref while tasks are pending).
import * as childProcess from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shmError, type ShmError } from '../errors.js';
import { Channel } from '../transport/channel.js';
import type { ResolvedPoolOptions } from './options.js';
import { poolCodec, travelsAsBytes } from './codec.js';
import { BYTES_FOLLOW, READY, replyAnnounces, RESULT, SPEC_VARIABLE, type ReplyMessage, type WorkerSpec } from './protocol.js';
import type { Task } from './task.js';

/** The runner beside this file: runner.js from dist/, runner.ts under tsx. */
const RUNNER = fileURLToPath(new URL(`./runner${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
/** Running from source, the runner needs the TypeScript loader whatever execArgv the pool was given. */
const LOADER = RUNNER.endsWith('.ts') ? ['--import', 'tsx'] : [];
/** Whether `execArgv` loads tsx already (as under the test runner). */
const hasLoader = (execArgv: readonly string[]): boolean => execArgv.some((arg, i) => arg === '--import=tsx' || (arg === '--import' && execArgv[i + 1] === 'tsx'));
/** The child's descriptor of the Channel's memfd: after stdin, stdout, stderr and Node's IPC pipe. */
const CHANNEL_FD = 4;
/** How long a worker asked to end (idle, close()) may take before it is killed. */
const END_GRACE_MS = 2000;

export interface WorkerEvents {
  /** The worker loaded its module and takes tasks. */
  ready(worker: WorkerProcess): void;
  /** A task of this worker settled; it is already out of worker.tasks. */
  reply(worker: WorkerProcess, task: Task, ok: boolean, value: unknown): void;
  /** The process ended; `tasks` were still running on it (out of worker.tasks) and `error` says how it ended. */
  exit(worker: WorkerProcess, tasks: Task[], error: ShmError): void;
}

export class WorkerProcess {
  readonly child: ChildProcess;
  /** Tasks sent to this worker and not answered, by id. */
  readonly tasks = new Map<number, Task>();
  /** Whether it loaded its module (READY): before that, tasks wait in the pool's queue. */
  ready = false;
  /** The pool asked it to end (end() or kill()): its exit is expected. */
  ending = false;
  exited = false;
  idleTimer: NodeJS.Timeout | undefined = undefined;
  readonly #channel: Channel;
  readonly #events: WorkerEvents;
  #exited!: () => void;
  /** Settles once the process has exited. */
  readonly exitedPromise = new Promise<void>((resolve) => (this.#exited = resolve));

  constructor(options: ResolvedPoolOptions, events: WorkerEvents) {
    this.#events = events;
    const channel = Channel.create(undefined, { codec: poolCodec(replyAnnounces) });
    const spec: WorkerSpec = { fd: CHANNEL_FD, filename: options.filename, name: options.name };
    let child: ChildProcess;
    try {
      child = childProcess.fork(RUNNER, options.argv, {
        execArgv: LOADER.length === 0 || hasLoader(options.execArgv) ? options.execArgv : [...LOADER, ...options.execArgv],
        env: { ...(options.env ?? process.env), [SPEC_VARIABLE]: JSON.stringify(spec) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc', Number(channel.address.slice('fd:'.length))],
      });
    } catch (error) {
      channel.close();
      throw error;
    }
    this.child = child;
    this.#channel = channel;
    channel.on('message', (message) => this.#onMessage(message));
    // A reply that cannot be decoded comes from a broken or hostile worker: it is ended.
    channel.on('messageerror', () => this.kill());
    channel.unref();
    child.unref();
    (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
    child.on('error', (error) => {
      if (child.pid === undefined) this.#onExit(shmError('ERR_WORKER_EXITED', `a worker process could not be started: ${error.message}`, { cause: error }));
      // else: a failed kill() or disconnect() of a process that is ending anyway
    });
    child.on('exit', (code, signal) => {
      const how = signal !== null ? `was killed by signal ${signal}` : `exited with code ${code}`;
      this.#onExit(shmError('ERR_WORKER_EXITED', `worker process ${child.pid} ${how}${this.ready ? '' : ' before it was ready'}`));
    });
  }

  /**
   * Whether it takes tasks: ready, not ending, and its Channel open (the Channel ends when
   * the process dies, which can be seen before its 'exit').
   */
  get usable(): boolean {
    return this.ready && !this.ending && !this.#channel.closed;
  }

  /** Sends a task. Throws (nothing sent) for a task the codec cannot carry, ERR_CLOSED once the Channel ended. */
  post(task: Task): void {
    if (travelsAsBytes(task.task)) {
      this.#channel.postMessage([task.id, null, task.name, task.filename, BYTES_FOLLOW]);
      this.#channel.postMessage(task.task, task.transfer);
    } else this.#channel.postMessage([task.id, task.task, task.name, task.filename], task.transfer);
  }

  /** A reply whose result is the next message (bytes). */
  #announced: ReplyMessage | undefined;

  #onMessage(message: unknown): void {
    let reply = message as ReplyMessage;
    if (this.#announced !== undefined) {
      reply = this.#announced;
      reply[2] = message;
      this.#announced = undefined;
    } else if (replyAnnounces(reply)) {
      this.#announced = reply;
      return;
    }
    const [id, kind, value] = reply;
    if (kind === READY) {
      this.ready = true;
      this.#events.ready(this);
      return;
    }
    const task = this.tasks.get(id);
    if (task === undefined) return; // aborted meanwhile: already settled
    this.tasks.delete(id);
    this.#events.reply(this, task, kind === RESULT, value);
  }

  #onExit(error: ShmError): void {
    if (this.exited) return;
    this.exited = true;
    clearTimeout(this.idleTimer);
    // Replies it published before it died may still be in the ring: they count.
    for (let next = this.#channel.receiveMessage(); next !== undefined && !this.#channel.closed; next = this.#channel.receiveMessage()) {
      this.#onMessage(next.message);
    }
    this.#channel.close();
    const tasks = [...this.tasks.values()];
    this.tasks.clear();
    this.#exited();
    this.#events.exit(this, tasks, error);
  }

  /** Asks the worker to end once it is idle (the runner exits when its Channel closes); killed if it lingers. */
  end(): void {
    if (this.ending || this.exited) return;
    this.ending = true;
    this.#channel.close();
    if (this.child.connected) this.child.disconnect();
    setTimeout(() => this.kill(), END_GRACE_MS).unref();
  }

  /** Ends the worker now (SIGKILL): its running tasks are the caller's to settle, or come back through exit(). */
  kill(): void {
    this.ending = true;
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
