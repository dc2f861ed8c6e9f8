// A work queue for several worker processes: jobs go into one MPMC ring that every worker
// takes from (whoever is free takes the next job), results come back through a second one.
// Run: node examples/work-queue.mjs
import { spawn } from 'node:child_process';
import { MpmcRing, Segment } from 'shmring';

const WORKERS = 3;
const JOBS = 3000;
const STOP = Buffer.from('stop');
const [role, jobsAddress, resultsAddress] = process.argv.slice(2);

if (role === 'worker') {
  const jobs = MpmcRing.open(jobsAddress);
  const results = MpmcRing.open(resultsAddress);
  for (;;) {
    const job = await jobs.readAsync();
    if (Buffer.from(job).equals(STOP)) break;
    const { n } = JSON.parse(Buffer.from(job).toString());
    await results.writeAsync(Buffer.from(JSON.stringify({ n, square: n * n, worker: process.pid })));
  }
  jobs.close();
  results.close();
} else {
  const jobsAddress = `shm:example-jobs-${process.pid}`;
  const resultsAddress = `shm:example-results-${process.pid}`;
  // Fixed-size slots; every producer and consumer handle takes one of `participants` entries.
  const options = { slots: 256, slotSize: 128, participants: 8 };
  const jobs = MpmcRing.create(jobsAddress, options);
  const results = MpmcRing.create(resultsAddress, options);
  try {
    const workers = Array.from({ length: WORKERS }, () =>
      spawn(process.execPath, [new URL(import.meta.url).pathname, 'worker', jobsAddress, resultsAddress], { stdio: 'inherit' }),
    );
    const exited = workers.map((w) => new Promise((resolve) => w.on('exit', resolve)));
    const producing = (async () => {
      for (let n = 0; n < JOBS; n++) await jobs.writeAsync(Buffer.from(JSON.stringify({ n })));
      for (let i = 0; i < WORKERS; i++) await jobs.writeAsync(STOP);
    })();
    const byWorker = new Map();
    let sum = 0;
    for (let i = 0; i < JOBS; i++) {
      const { square, worker } = JSON.parse(Buffer.from(await results.readAsync()).toString());
      sum += square;
      byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
    }
    await producing;
    await Promise.all(exited);
    const expected = ((JOBS - 1) * JOBS * (2 * JOBS - 1)) / 6;
    if (sum !== expected) throw new Error(`sum of squares ${sum}, expected ${expected}`);
    console.log(`jobs per worker: ${[...byWorker.values()].join(', ')}`);
    console.log(`ok: ${JOBS} jobs shared by ${WORKERS} worker processes`);
  } finally {
    jobs.close();
    results.close();
    Segment.unlink(jobsAddress);
    Segment.unlink(resultsAddress);
  }
}
