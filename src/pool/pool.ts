// ProcessPool: piscina's API with worker processes instead of threads, tasks and results in
// shared memory (a Channel per worker, worker.ts). This file owns scheduling: the queue,
// which worker takes a task, workers started and ended (minWorkers kept, maxWorkers at
// most, idle ones above the minimum ended after idleTimeout), cancellation, crashes, close()
// and destroy(), and the counters. A worker that dies rejects only its own tasks and is
// replaced.
import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { ShmError, shmError, timeoutError, typeError } from '../errors.js';
import { TaskTimes, type PoolHistogram } from './histogram.js';
import { isMovable, unwrap } from './move.js';
import { fillOptions, modulePath, type ResolvedPoolOptions, type ProcessPoolOptions } from './options.js';
import { AbortError, Task } from './task.js';
import { WorkerProcess, type WorkerEvents } from './worker.js';

export interface RunOptions {
  /** ArrayBuffers (or views of them) the task gives up: detached here, moved without a copy of their own. */
  transferList?: ReadonlyArray<ArrayBuffer | ArrayBufferView>;
  /** The export that runs this task. Default: the pool's `name`. */
  name?: string | null;
  /** The worker module of this task. Default: the pool's `filename`. */
  filename?: string | URL | null;
  /** Cancels the task: a queued one leaves the queue, a running one's worker is killed and replaced. */
  signal?: AbortSignal | null;
}

const keepAliveTick = (): void => {};

/** The events of a ProcessPool (as piscina's): a misspelt event name does not compile. */
export interface ProcessPoolEvents {
  /** A worker that had no task died (only emitted to a listener), or close() ran past its timeout. */
  error: [error: Error];
  /** The queue emptied after it had filled to maxQueue. */
  drain: [];
  /** The queue is full: the next run() is refused with ERR_QUEUE_FULL until 'drain'. */
  needsDrain: [];
  /** close() or destroy() finished: every worker ended. */
  close: [];
}

/**
 * piscina's Piscina, with worker processes. Where it differs, and why:
 * - minWorkers/maxWorkers/workers/idleWorkers for minThreads/maxThreads/threads/idleThreads:
 *   they are processes (workers holds ChildProcess objects). maxWorkers defaults to the CPUs
 *   (piscina: 1.5× as many threads; a process costs more).
 * - min > max, fractions, NaN and negative counts are RangeErrors, where piscina clamps or
 *   accepts some of them.
 * - resourceLimits takes maxOldGenerationSizeMb only (--max-old-space-size); env, execArgv and
 *   argv are the child's own, as in child_process.fork; no workerData, atomics, niceIncrement,
 *   taskQueue or loadBalancer.
 * - A worker that dies rejects its tasks with ShmError ERR_WORKER_EXITED (the exit code or
 *   signal in the message); 'error' is emitted for a worker that died with no task only if the
 *   pool has an 'error' listener (an idle worker killed from outside does not throw in the
 *   parent); maxQueue refusals are ShmError ERR_QUEUE_FULL with piscina's message; run() after
 *   close()/destroy() and tasks ended by destroy() reject with ERR_CLOSED.
 * - close() takes no { force }; destroy() ends workers with SIGKILL.
 */
export class ProcessPool<T = any, R = any> extends EventEmitter<ProcessPoolEvents> {
  readonly #o: ResolvedPoolOptions;
  readonly #workers = new Set<WorkerProcess>();
  /** Tasks waiting for a worker, from #head on; aborted ones are left in place, settled. */
  #queue: Task[] = [];
  #head = 0;
  /** Tasks in #queue not yet settled. */
  #queued = 0;
  /** Tasks sent to workers and not answered. */
  #running = 0;
  #nextId = 1;
  #completed = 0;
  readonly #times: TaskTimes | undefined;
  readonly #start = performance.now();
  #needsDrain = false;
  /** A worker exited before it was ready: no replacement until the next run(), or workers would restart forever. */
  #failing = false;
  #closing = false;
  #destroyed = false;
  #closed: Promise<void> | undefined;
  /** Ref'd while tasks are pending, so the process waits for their results; the workers' own handles are unref'd. */
  readonly #keepAlive: NodeJS.Timeout;
  readonly #events: WorkerEvents = {
    ready: (worker) => this.#onReady(worker),
    reply: (worker, task, ok, value) => this.#onReply(worker, task, ok, value),
    exit: (worker, tasks, error) => this.#onExit(worker, tasks, error),
  };

  constructor(options?: ProcessPoolOptions) {
    super();
    this.#o = fillOptions(options);
    this.#times = this.#o.recordTiming ? new TaskTimes() : undefined;
    this.#keepAlive = setInterval(keepAliveTick, 2 ** 30).unref();
    this.#ensureMinimum();
  }

  /**
   * Runs `task` in a worker: resolves with what the worker's function returned (or its
   * promise resolved to), rejects with what it threw, an AbortError, ERR_WORKER_EXITED if its
   * worker died, ERR_QUEUE_FULL past maxQueue, ERR_CLOSED once close() or destroy() began.
   */
  run(task: T, options?: RunOptions): Promise<R> {
    let checked: Task;
    let promise: Promise<R>;
    try {
      let resolve!: (value: unknown) => void;
      let reject!: (reason: unknown) => void;
      promise = new Promise<R>((res, rej) => {
        resolve = res as (value: unknown) => void;
        reject = rej;
      });
      checked = this.#makeTask(task, options, resolve, reject);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#submit(checked, options?.signal ?? undefined);
    return promise;
  }

  #makeTask(task: unknown, options: RunOptions | undefined, resolve: (value: unknown) => void, reject: (reason: unknown) => void): Task {
    let name: string | null = null;
    let filename: string | null = null;
    let transfer: ArrayBuffer[] | undefined;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') throw typeError('options', options, 'an options object');
      if (options.name != null) {
        if (typeof options.name !== 'string') throw typeError('options.name', options.name, 'a string');
        if (options.name !== this.#o.name) name = options.name;
      }
      if (options.filename != null) {
        filename = modulePath(options.filename, 'options.filename');
        if (filename === this.#o.filename) filename = null;
      }
      const { signal, transferList } = options;
      if (signal != null && !(signal instanceof AbortSignal)) throw typeError('options.signal', signal, 'an AbortSignal');
      if (transferList !== undefined) transfer = buffersOf(transferList);
    }
    if (isMovable(task)) {
      const [value, buffer] = unwrap(task);
      task = value;
      (transfer ??= []).includes(buffer) || transfer.push(buffer);
    }
    if (filename === null && this.#o.filename === null) throw new TypeError('options.filename: filename must be provided to run() or in the ProcessPool options');
    return new Task(this.#nextId++, task, name, filename, transfer, resolve, reject, this.#times !== undefined);
  }

  #submit(task: Task, signal: AbortSignal | undefined): void {
    if (this.#closing) {
      task.reject(shmError('ERR_CLOSED', this.#destroyed ? 'the ProcessPool was destroyed' : 'the ProcessPool is closing: it takes no more tasks'));
      return;
    }
    if (signal !== undefined) {
      if (signal.aborted) {
        task.reject(new AbortError(signal.reason));
        return;
      }
      const onAbort = (): void => this.#abort(task, signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      task.unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    this.#failing = false;
    const worker = this.#queued === 0 ? this.#pickWorker() : undefined;
    if (worker !== undefined) {
      this.#pendingChanged(1);
      this.#dispatch(task, worker);
      return;
    }
    if (this.#queued >= this.#o.maxQueue + this.#startingCapacity()) {
      task.unlisten?.();
      task.reject(shmError('ERR_QUEUE_FULL', this.#o.maxQueue === 0 ? 'No task queue available and all workers are busy (maxQueue=0)' : `Task queue is at limit (maxQueue=${this.#o.maxQueue})`));
      return;
    }
    this.#pendingChanged(1);
    this.#queue.push(task);
    this.#queued++;
    this.#grow();
  }

  /** The ready worker with the fewest tasks, below concurrentTasksPerWorker. */
  #pickWorker(): WorkerProcess | undefined {
    let best: WorkerProcess | undefined;
    const max = this.#o.concurrentTasksPerWorker;
    for (const worker of this.#workers) {
      const n = worker.tasks.size;
      if (n >= max || !worker.usable) continue;
      if (n === 0) return worker;
      if (best === undefined || n < best.tasks.size) best = worker;
    }
    return best;
  }

  #dispatch(task: Task, worker: WorkerProcess): void {
    if (worker.idleTimer !== undefined) {
      clearTimeout(worker.idleTimer);
      worker.idleTimer = undefined;
    }
    if (this.#times !== undefined) {
      task.started = performance.now();
      this.#times.recordWait(task.started - task.created);
    }
    try {
      worker.post(task);
    } catch (error) {
      if (!worker.usable) {
        // Its process died since it was picked (nothing was sent): the task waits for another.
        this.#queue.splice(this.#head, 0, task);
        this.#queued++;
        this.#grow();
        return;
      }
      this.#settle(task, false, error); // a task the codec cannot carry: nothing was sent
      return;
    }
    task.worker = worker;
    worker.tasks.set(task.id, task);
    this.#running++;
    this.#maybeDrain();
  }

  /** Hands queued tasks to workers with room. */
  #drainQueue(): void {
    while (this.#queued > 0) {
      const worker = this.#pickWorker();
      if (worker === undefined) break;
      const task = this.#takeQueued();
      if (task === undefined) break;
      this.#dispatch(task, worker);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #takeQueued(): Task | undefined {
    while (this.#head < this.#queue.length) {
      const task = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as unknown as Task;
      if (!task.settled) {
        this.#queued--;
        return task;
      }
    }
    return undefined;
  }

  /** Tasks that workers still starting will take (not counted against maxQueue, as in piscina). */
  #startingCapacity(): number {
    let n = 0;
    for (const worker of this.#workers) if (!worker.ready && !worker.ending) n++;
    return n * this.#o.concurrentTasksPerWorker;
  }

  /** Starts workers while queued tasks outnumber what starting workers will take, up to maxWorkers. */
  #grow(): void {
    while (!this.#failing && !this.#destroyed && this.#workers.size < this.#o.maxWorkers && this.#queued > this.#startingCapacity()) {
      if (!this.#addWorker()) return;
    }
  }

  #ensureMinimum(): void {
    while (!this.#failing && !this.#closing && this.#workers.size < this.#o.minWorkers) {
      if (!this.#addWorker()) return;
    }
  }

  #addWorker(): boolean {
    let worker: WorkerProcess;
    try {
      worker = new WorkerProcess(this.#o, this.#events);
    } catch (error) {
      // fork() itself threw (EAGAIN, EMFILE...): queued tasks get that error rather than wait forever.
      this.#failing = true;
      this.#failQueued(error);
      return false;
    }
    this.#workers.add(worker);
    return true;
  }

  #onReady(worker: WorkerProcess): void {
    if (this.#destroyed) return;
    this.#drainQueue();
    this.#idle(worker);
    this.#closeIfDone();
  }

  #onReply(worker: WorkerProcess, task: Task, ok: boolean, value: unknown): void {
    this.#running--;
    if (this.#times !== undefined) this.#times.recordRun(performance.now() - task.started);
    this.#settle(task, ok, value);
    if (this.#queued > 0) this.#drainQueue();
    else this.#maybeDrain();
    if (worker.tasks.size === 0) this.#idle(worker);
    if (this.#closing) this.#closeIfDone();
  }

  #settle(task: Task, ok: boolean, value: unknown): void {
    if (task.settled) return;
    task.settled = true;
    this.#completed++;
    task.unlisten?.();
    this.#pendingChanged(-1);
    if (ok) task.resolve(value);
    else task.reject(value);
  }

  /** A worker with nothing to do: above minWorkers, it ends after idleTimeout (0: now). */
  #idle(worker: WorkerProcess): void {
    if (worker.tasks.size !== 0 || this.#closing || this.#o.idleTimeout === Infinity || worker.idleTimer !== undefined) return;
    if (this.#workers.size <= this.#o.minWorkers || this.#queued > 0) return;
    worker.idleTimer = setTimeout(() => {
      worker.idleTimer = undefined;
      if (worker.tasks.size === 0 && this.#workers.size > this.#o.minWorkers && !this.#closing) this.#endWorker(worker);
    }, this.#o.idleTimeout).unref();
  }

  #endWorker(worker: WorkerProcess): void {
    this.#workers.delete(worker);
    worker.end();
  }

  #abort(task: Task, reason: unknown): void {
    if (task.settled) return;
    const worker = task.worker;
    if (worker === undefined) {
      this.#queued--; // left in the queue, settled: #takeQueued skips it
    } else {
      worker.tasks.delete(task.id);
      this.#running--;
      worker.kill(); // the other tasks it ran reject with ERR_WORKER_EXITED when it exits
    }
    this.#settle(task, false, new AbortError(reason));
    this.#maybeDrain();
    if (this.#closing) this.#closeIfDone();
  }

  #onExit(worker: WorkerProcess, tasks: Task[], error: ShmError): void {
    this.#workers.delete(worker);
    this.#running -= tasks.length;
    for (const task of tasks) this.#settle(task, false, error);
    if (this.#destroyed) return;
    if (!worker.ready && !worker.ending) {
      // It never started (a bad execArgv, a module that kills its process while loading):
      // the queued tasks would wait for workers that die the same way.
      this.#failing = true;
      this.#failQueued(error);
    }
    if (tasks.length === 0 && !worker.ending && this.listenerCount('error') > 0) this.emit('error', error);
    this.#ensureMinimum();
    this.#grow();
    this.#maybeDrain();
    if (this.#closing) this.#closeIfDone();
  }

  #failQueued(error: unknown): void {
    for (let task = this.#takeQueued(); task !== undefined; task = this.#takeQueued()) this.#settle(task, false, error);
  }

  /** The one ref that keeps this process alive while tasks are pending (results must come back). */
  #pendingChanged(delta: number): void {
    const pending = this.#pending;
    this.#pending += delta;
    if (pending === 0 && this.#pending > 0) this.#keepAlive.ref();
    else if (pending > 0 && this.#pending === 0 && !this.#closing) this.#keepAlive.unref();
  }

  #pending = 0;

  /** 'needsDrain' once every worker slot is taken, 'drain' when one frees again (piscina's events). */
  #maybeDrain(): void {
    const full = this.#running >= this.#o.maxWorkers * this.#o.concurrentTasksPerWorker;
    if (full === this.#needsDrain) return;
    this.#needsDrain = full;
    process.nextTick(() => this.emit(full ? 'needsDrain' : 'drain'));
  }

  #closeIfDone(): void {
    if (this.#queued === 0 && this.#running === 0) this.#finishClose?.();
  }

  #finishClose: (() => void) | undefined;

  /**
   * Takes no more tasks, lets queued and running ones finish, then ends the workers. After
   * closeTimeout ms the pool is destroyed instead (the remaining tasks reject with ERR_CLOSED,
   * 'error' gets ERR_TIMEOUT if it has a listener). Emits 'close'.
   */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#closing = true;
    this.#keepAlive.ref(); // the workers' handles are unref'd: this holds the process until they exited
    this.#closed = (async () => {
      if (!this.#destroyed) {
        const done = new Promise<void>((resolve) => (this.#finishClose = resolve));
        this.#closeIfDone();
        // Queued tasks need workers (one may have died since): start them as run() would.
        this.#grow();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => {
          if (this.#o.closeTimeout !== Infinity) timer = setTimeout(resolve, this.#o.closeTimeout, true);
        });
        const late = await Promise.race([done.then(() => false), timedOut]);
        clearTimeout(timer);
        if (late && this.listenerCount('error') > 0) this.emit('error', timeoutError('ProcessPool.close()', this.#o.closeTimeout));
        if (late) await this.destroy();
        else {
          const workers = [...this.#workers];
          for (const worker of workers) this.#endWorker(worker);
          await Promise.all(workers.map((w) => w.exitedPromise));
        }
      }
      clearInterval(this.#keepAlive);
      this.emit('close');
    })();
    return this.#closed;
  }

  /** Ends every worker now (SIGKILL); queued and running tasks reject with ERR_CLOSED. */
  async destroy(): Promise<void> {
    this.#closing = true;
    this.#keepAlive.ref(); // until every worker has exited
    if (!this.#destroyed) {
      this.#destroyed = true;
      const error = (): ShmError => shmError('ERR_CLOSED', 'Terminating worker process: the ProcessPool was destroyed');
      this.#failQueued(error());
      for (const worker of this.#workers) {
        for (const task of worker.tasks.values()) this.#settle(task, false, error());
        this.#running -= worker.tasks.size;
        worker.tasks.clear();
        worker.kill();
      }
    }
    await Promise.all([...this.#workers].map((w) => w.exitedPromise));
    clearInterval(this.#keepAlive);
    this.#finishClose?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The options after defaults (minWorkers, maxWorkers, maxQueue resolved). */
  get options(): Readonly<ResolvedPoolOptions> {
    return this.#o;
  }

  get minWorkers(): number {
    return this.#o.minWorkers;
  }

  get maxWorkers(): number {
    return this.#o.maxWorkers;
  }

  /** The worker processes (piscina's `threads`), starting ones included; stale once a worker ends. */
  get workers(): ChildProcess[] {
    return [...this.#workers].map((w) => w.child);
  }

  /** Ready workers running no task. */
  get idleWorkers(): number {
    let n = 0;
    for (const worker of this.#workers) if (worker.usable && worker.tasks.size === 0) n++;
    return n;
  }

  /** Tasks waiting for a worker, beyond what workers still starting will take (as piscina counts). */
  get queueSize(): number {
    return Math.max(this.#queued - this.#startingCapacity(), 0);
  }

  /** Tasks that settled after run() accepted them (answered, thrown, aborted, or lost with their worker). */
  get completed(): number {
    return this.#completed;
  }

  /** Whether every worker slot is taken ('drain' follows when one frees). */
  get needsDrain(): boolean {
    return this.#needsDrain;
  }

  /** Run and wait times (null with recordTiming: false). */
  get histogram(): PoolHistogram | null {
    return this.#times ?? null;
  }

  /** Milliseconds since the pool was made. */
  get duration(): number {
    return performance.now() - this.#start;
  }

  /** Task run time so far over what maxWorkers could have run since the pool was made (piscina's measure). */
  get utilization(): number {
    const times = this.#times;
    if (times === undefined || times.runCount === 0) return 0;
    return (times.runTime.mean * times.runCount) / (this.duration * this.#o.maxWorkers);
  }
}

/** A run()'s transferList: ArrayBuffers, or views whose buffers move. */
function buffersOf(list: unknown): ArrayBuffer[] | undefined {
  if (!Array.isArray(list)) throw typeError('options.transferList', list, 'an array of ArrayBuffers');
  const buffers: ArrayBuffer[] = [];
  list.forEach((item: unknown, i) => {
    const buffer = ArrayBuffer.isView(item) ? item.buffer : item;
    if (!(buffer instanceof ArrayBuffer)) throw typeError(`options.transferList[${i}]`, item, 'an ArrayBuffer or a view of one');
    if (!buffers.includes(buffer)) buffers.push(buffer);
  });
  return buffers.length === 0 ? undefined : buffers;
}
