// Scenario: large results from a piscina pool. Each task makes a 1 MiB result in a worker
// thread; the main thread gets it back through piscina's own return path (a structured clone
// over the pool's MessagePort), through Piscina.move (the buffer transferred, no copy), or
// through shmring's SharedResults (two copies through shared memory, a small handle returned).
// Tasks per second, bounded by count and time, with the same pool settings for each.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Piscina as PiscinaClass } from 'piscina';
import { SharedResults } from 'shmring';
import { load, missing } from '../lib/available.js';
import { byMode, type Row, type RunSettings, type Scenario } from '../lib/scenario.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'results-worker.mjs');
const BYTES = 1 << 20;
const THREADS = 2;

type How = 'clone' | 'move' | 'shm';

async function tasksPerSecond(how: How, count: number, ms: number): Promise<number> {
  const { Piscina } = await load<{ Piscina: typeof PiscinaClass }>('piscina');
  const results = SharedResults.create({ slots: THREADS });
  const pool = results.watch(new Piscina({ filename: WORKER, workerData: results.workerData, minThreads: THREADS, maxThreads: THREADS, execArgv: [] }));
  try {
    const one = async (fill: number): Promise<void> => {
      const answer = await pool.run({ bytes: BYTES, how, fill });
      const bytes: Uint8Array = how === 'shm' ? await results.take(answer) : answer;
      if (bytes.length !== BYTES || bytes[BYTES - 1] !== (fill & 0xff)) throw new Error(`a ${how} result came back wrong`);
    };
    const run = async (n: number, budget: number): Promise<number> => {
      const start = performance.now();
      let done = 0;
      // THREADS * 2 tasks in flight, until the count or the time is used up
      const lanes = Array.from({ length: THREADS * 2 }, async () => {
        while (done < n && performance.now() - start < budget) await one(done++);
      });
      await Promise.all(lanes);
      return done / ((performance.now() - start) / 1000);
    };
    await run(Math.ceil(count / 5), ms / 5); // warm-up: threads started, code optimized
    return await run(count, ms);
  } finally {
    await pool.destroy();
    results.close();
  }
}

export const scenario: Scenario = {
  name: 'results',
  description: "1 MiB results from a piscina pool: its return path, Piscina.move, and shmring's SharedResults",
  async run(settings: RunSettings): Promise<Row[]> {
    const count = byMode(settings.mode, { tiny: 20, quick: 200, standard: 2_000, full: 10_000 });
    const ms = byMode(settings.mode, { tiny: 300, quick: 500, standard: 3_000, full: 10_000 });
    const setup = `1 MiB result per task, ${THREADS} worker threads`;
    const absent = missing('piscina');
    if (absent !== undefined) {
      return [
        { scenario: 'results', competitor: 'piscina', setup: `returned (structured clone), ${setup}`, figures: {}, skipped: absent },
        { scenario: 'results', competitor: 'piscina', setup: `Piscina.move (transferred), ${setup}`, figures: {}, skipped: absent },
        { scenario: 'results', competitor: 'shmring SharedResults', setup: `sendResult / take, ${setup}`, figures: {}, skipped: `runs in a piscina pool: ${absent}` },
      ];
    }
    const rate: Record<How, number> = { clone: 0, move: 0, shm: 0 };
    for (const how of ['clone', 'move', 'shm'] as const) {
      settings.progress(`results: ${how}`);
      rate[how] = await tasksPerSecond(how, count, ms);
    }
    return [
      { scenario: 'results', competitor: 'piscina', setup: `returned (structured clone), ${setup}`, figures: { tasks_per_s: rate.clone } },
      { scenario: 'results', competitor: 'piscina', setup: `Piscina.move (transferred), ${setup}`, figures: { tasks_per_s: rate.move } },
      {
        scenario: 'results',
        competitor: 'shmring SharedResults',
        setup: `sendResult / take, ${setup}`,
        figures: { tasks_per_s: rate.shm },
        ratios: { '÷ piscina returned': rate.shm / rate.clone, '÷ Piscina.move': rate.shm / rate.move },
      },
    ];
  },
};
