// Scenario: process pools, two workers each, in the same run: shmring's ProcessPool (tasks
// and results through shared memory) against piscina (worker threads: the bar in-process
// pools set), tinypool with runtime 'child_process', workerpool with workerType 'process'
// (both with advanced serialization, so that Buffers travel as bytes), and a hand-written
// child_process.fork pool (least busy child, a map of pending ids). Workloads: tiny tasks
// ({ a, b } → a + b) with many in flight, tasks/s; a 64 KiB and a 1 MiB Buffer argument
// answered with a Buffer of the same length (moved back where the pool has move()); and a
// worker SIGKILLed mid-task: the time from the kill until its task rejects, and until a task
// answered by a replacement worker. piscina, tinypool and workerpool are measured where they
// are installed; each missing one's rows are skipped with the reason. Every run is bounded
// by a count and by time.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessPool } from 'shmring';
import { load, missing } from '../lib/available.js';
import { byMode, type Row, type RunSettings, type Scenario } from '../lib/scenario.js';
import { track } from '../lib/spawn.js';
import { median } from '../lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TASK = join(HERE, 'task.mjs');
const WORKERS = 2;

type TaskName = 'add' | 'echo' | 'hang';

/** A pool under test: run one task by name; end it. */
interface Pool {
  run(name: TaskName, arg: unknown): Promise<unknown>;
  destroy(): Promise<void>;
}

interface Competitor {
  competitor: string;
  setup: string;
  /** The package it needs, if it is not shmring's or Node's. */
  needs?: string;
  /**
   * Whether the crash workload runs: a worker is a process it can kill (piscina's are
   * threads), and each worker takes one task at a time (else the task after the kill goes to
   * the hung survivor, and no replacement is timed).
   */
  processes: boolean;
  make(): Promise<Pool>;
}

function processPool(concurrentTasksPerWorker: number): () => Promise<Pool> {
  return async () => {
    const pool = new ProcessPool({ filename: TASK, minWorkers: WORKERS, maxWorkers: WORKERS, concurrentTasksPerWorker });
    return {
      run: (name, arg) => pool.run(arg, name === 'add' ? undefined : { name: name === 'echo' ? 'echoMoved' : name }),
      destroy: () => pool.destroy(),
    };
  };
}

async function piscina(): Promise<Pool> {
  const { Piscina } = await load<typeof import('piscina')>('piscina');
  const pool = new Piscina({ filename: join(HERE, 'piscina-task.mjs'), minThreads: WORKERS, maxThreads: WORKERS });
  return {
    run: (name, arg) => pool.run(arg, name === 'add' ? undefined : { name: name === 'echo' ? 'echoMoved' : name }),
    destroy: () => pool.destroy(),
  };
}

async function tinypool(): Promise<Pool> {
  const { Tinypool } = await load<typeof import('tinypool')>('tinypool');
  const pool = new Tinypool({ filename: TASK, runtime: 'child_process', minThreads: WORKERS, maxThreads: WORKERS, serialization: 'advanced' });
  return {
    run: (name, arg) => pool.run(arg, name === 'add' ? undefined : { name }),
    destroy: () => pool.destroy(),
  };
}

async function workerpool(): Promise<Pool> {
  const wp = (await load<{ default: typeof import('workerpool') }>('workerpool')).default;
  const pool = wp.pool(join(HERE, 'workerpool-task.mjs'), { workerType: 'process', minWorkers: WORKERS, maxWorkers: WORKERS, forkOpts: { serialization: 'advanced' } });
  return {
    run: (name, arg) => pool.exec(name, [arg]),
    destroy: async () => {
      await pool.terminate(true);
    },
  };
}

/** The pool a user writes by hand: N forked children, each task to the least busy one, a map of pending ids; a dead child is replaced. */
async function forkPool(): Promise<Pool> {
  interface Child {
    process: ChildProcess;
    pending: Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>;
  }
  const children: Child[] = [];
  let nextId = 0;
  let ended = false;
  const start = (slot: number): void => {
    const child: Child = { process: track(fork(join(HERE, 'fork-task.mjs'), [], { serialization: 'advanced' })), pending: new Map() };
    child.process.on('message', (m) => {
      const [id, result] = m as [number, unknown];
      const p = child.pending.get(id)!;
      child.pending.delete(id);
      p.resolve(result);
    });
    child.process.on('exit', (code, signal) => {
      for (const p of child.pending.values()) p.reject(new Error(`child exited (${signal ?? code})`));
      if (!ended) start(slot);
    });
    children[slot] = child;
  };
  for (let i = 0; i < WORKERS; i++) start(i);
  return {
    run: (name, arg) =>
      new Promise((resolve, reject) => {
        let child = children[0]!;
        for (const c of children) if (c.pending.size < child.pending.size) child = c;
        const id = nextId++;
        child.pending.set(id, { resolve, reject });
        child.process.send([id, name, arg]);
      }),
    destroy: async () => {
      ended = true;
      await Promise.all(
        children.map((c) => new Promise<void>((resolve) => (c.process.exitCode !== null || c.process.signalCode !== null ? resolve() : (c.process.once('exit', () => resolve()), c.process.kill('SIGKILL'))))),
      );
    },
  };
}

const COMPETITORS: Competitor[] = [
  { competitor: 'shmring ProcessPool', setup: 'pool.run(), 2 worker processes', processes: true, make: processPool(1) },
  { competitor: 'shmring ProcessPool', setup: 'pool.run(), 2 worker processes, concurrentTasksPerWorker 16', processes: false, make: processPool(16) },
  { competitor: 'piscina', setup: 'pool.run(), 2 worker threads', needs: 'piscina', processes: false, make: piscina },
  { competitor: 'tinypool', setup: "runtime 'child_process', 2 processes, advanced serialization", needs: 'tinypool', processes: true, make: tinypool },
  { competitor: 'workerpool', setup: "workerType 'process', 2 processes, advanced serialization", needs: 'workerpool', processes: true, make: workerpool },
  { competitor: 'child_process.fork pool', setup: 'hand-written: 2 children, least busy, advanced serialization', processes: true, make: forkPool },
];

const MAIN = COMPETITORS[0]!;
/** The rows ProcessPool's default row is divided by, in each workload. */
const VERSUS = ['piscina', 'tinypool', 'workerpool', 'child_process.fork pool'];

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Tasks/s of `count` tasks (or as many as `ms` allows) with up to `window` in flight; `check` sees each result. */
function throughput(pool: Pool, name: TaskName, arg: (i: number) => unknown, check: (i: number, result: unknown) => void, count: number, window: number, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const deadline = start + ms;
    let sent = 0;
    let done = 0;
    let stopped = false;
    const fill = (): void => {
      if (stopped) return;
      const late = performance.now() > deadline;
      if (done === sent && (sent >= count || late)) {
        stopped = true;
        resolve(done / ((performance.now() - start) / 1000));
        return;
      }
      while (!late && sent < count && sent - done < window) {
        const i = sent++;
        pool.run(name, arg(i)).then(
          (result) => {
            try {
              check(i, result);
            } catch (error) {
              stopped = true;
              reject(error);
              return;
            }
            done++;
            fill();
          },
          (error: unknown) => {
            stopped = true;
            reject(error);
          },
        );
      }
    };
    fill();
  });
}

/** Starts a pool and waits until each worker answered (a burst of tiny tasks). */
async function ready(c: Competitor): Promise<Pool> {
  const pool = await c.make();
  try {
    await within(throughput(pool, 'add', (i) => ({ a: i, b: 1 }), () => {}, 200, 16, 60_000), 60_000, `${c.competitor} start-up`);
  } catch (error) {
    await pool.destroy();
    throw error;
  }
  return pool;
}

async function waitForFile(file: string, ms: number): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      if (text.length > 0) return Number(text);
    }
    if (Date.now() > end) throw new Error('the hanging task never started');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** One crash: both workers hang; one is SIGKILLed; ms until its task rejects and until a replacement answers. */
async function crashRound(c: Competitor, dir: string, round: string): Promise<{ reject: number; replaced: number }> {
  const pool = await ready(c);
  try {
    const files = [0, 1].map((i) => join(dir, `${round}-${i}`));
    const hung = files.map((f) => pool.run('hang', f).then(() => 'resolved', () => 'rejected'));
    const pid = await waitForFile(files[0]!, 30_000);
    await waitForFile(files[1]!, 30_000);
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    const outcome = await within(hung[0]!, 30_000, `${c.competitor}: the killed worker's task`);
    const t1 = performance.now();
    if (outcome !== 'rejected') throw new Error(`${c.competitor}: the killed worker's task ${outcome}`);
    const sum = await within(pool.run('add', { a: 2, b: 3 }), 30_000, `${c.competitor}: a task after the kill`);
    const t2 = performance.now();
    if (sum !== 5) throw new Error(`${c.competitor}: 2 + 3 = ${String(sum)}`);
    return { reject: t1 - t0, replaced: t2 - t0 };
  } finally {
    await pool.destroy();
  }
}

const PAYLOADS = [
  { label: '64 KiB Buffer argument and result', size: 64 << 10 },
  { label: '1 MiB Buffer argument and result', size: 1 << 20 },
] as const;

async function run(settings: RunSettings): Promise<Row[]> {
  const rows: Row[] = [];
  const tinyCount = byMode(settings.mode, { tiny: 2_000, quick: 30_000, standard: 200_000, full: 500_000 });
  const bufferCount = { [64 << 10]: byMode(settings.mode, { tiny: 100, quick: 3_000, standard: 20_000, full: 50_000 }), [1 << 20]: byMode(settings.mode, { tiny: 20, quick: 300, standard: 2_000, full: 5_000 }) };
  const ms = byMode(settings.mode, { tiny: 1_000, quick: 3_000, standard: 10_000, full: 20_000 });
  const rounds = byMode(settings.mode, { tiny: 1, quick: 3, standard: 8, full: 15 });
  const tinySetup = 'tiny tasks { a, b } → a + b, 1,000 in flight';
  const killSetup = 'a worker SIGKILLed mid-task: until its task rejects, and until a replacement answers';
  const dir = mkdtempSync(join(tmpdir(), 'shmring-bench-pool-'));
  try {
    for (const c of COMPETITORS) {
      const absent = c.needs === undefined ? undefined : missing(c.needs);
      const skip = (setup: string, reason: string): void => void rows.push({ scenario: 'pool', competitor: c.competitor, setup: `${c.setup}, ${setup}`, figures: {}, skipped: reason });
      if (absent !== undefined) {
        skip(tinySetup, absent);
        for (const p of PAYLOADS) skip(p.label, absent);
        if (c.processes) skip(killSetup, absent);
        continue;
      }
      settings.progress(`pool: ${c.competitor} (${c.setup})`);
      const pool = await ready(c);
      try {
        const tasks = await throughput(pool, 'add', (i) => ({ a: i, b: 1 }), (i, r) => {
          if (r !== i + 1) throw new Error(`${c.competitor}: ${i} + 1 = ${String(r)}`);
        }, tinyCount, 1000, ms);
        rows.push({ scenario: 'pool', competitor: c.competitor, setup: `${c.setup}, ${tinySetup}`, figures: { tasks_per_s: tasks } });
        for (const p of PAYLOADS) {
          const payload = Buffer.alloc(p.size, 7);
          const perSecond = await throughput(pool, 'echo', () => payload, (_, r) => {
            if ((r as Uint8Array).byteLength !== p.size || (r as Uint8Array)[0] !== 7) throw new Error(`${c.competitor}: a wrong ${p.label} result`);
          }, bufferCount[p.size]!, 8, ms);
          rows.push({ scenario: 'pool', competitor: c.competitor, setup: `${c.setup}, ${p.label}`, figures: { mb_per_s: (perSecond * p.size * 2) / 1e6, tasks_per_s: perSecond } });
        }
      } catch (error) {
        skip('failed', (error as Error).message);
      } finally {
        await pool.destroy();
      }
      if (!c.processes) continue;
      try {
        const rejects: number[] = [];
        const replaced: number[] = [];
        for (let r = 0; r < rounds; r++) {
          const one = await crashRound(c, dir, `${COMPETITORS.indexOf(c)}-${r}`);
          rejects.push(one.reject);
          replaced.push(one.replaced);
        }
        rows.push({ scenario: 'pool', competitor: c.competitor, setup: `${c.setup}, ${killSetup}`, figures: { replacement_us: median(replaced) * 1000, reject_us: median(rejects) * 1000, rounds } });
      } catch (error) {
        skip(killSetup, (error as Error).message);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  addRatios(rows);
  return rows;
}

/** ProcessPool's default row ÷ each other pool's, per workload (higher: ProcessPool faster; for the crash, theirs ÷ ours). */
function addRatios(rows: Row[]): void {
  const suffixes = ['tiny tasks', ...PAYLOADS.map((p) => p.label), 'a worker SIGKILLed'];
  for (const suffix of suffixes) {
    const mine = rows.find((r) => r.competitor === MAIN.competitor && r.setup.startsWith(MAIN.setup + ', ' + suffix) && r.skipped === undefined);
    if (mine === undefined) continue;
    const ratios: Record<string, number> = {};
    for (const name of VERSUS) {
      const theirs = rows.find((r) => r.competitor === name && r.setup.includes(`, ${suffix}`) && r.skipped === undefined);
      if (theirs === undefined) continue;
      if (suffix === 'a worker SIGKILLed') ratios[`÷ ${name} (their time ÷ ours)`] = theirs.figures.replacement_us! / mine.figures.replacement_us!;
      else ratios[`÷ ${name}`] = mine.figures.tasks_per_s! / theirs.figures.tasks_per_s!;
    }
    mine.ratios = ratios;
  }
}

export const scenario: Scenario = {
  name: 'pool',
  description: 'process pools: ProcessPool against piscina, tinypool, workerpool and a fork() pool: tiny tasks, Buffers, a killed worker',
  run,
};
