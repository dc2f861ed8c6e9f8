// piscina's API, with worker processes instead of threads: a task that crashes its worker
// rejects only itself, and tasks and results travel through shared memory.
//   - import { Piscina } from 'piscina';  new Piscina({ filename, minThreads, maxThreads })
//   + import { ProcessPool } from 'shmring';  new ProcessPool({ filename, minWorkers, maxWorkers })
// Run: node examples/process-pool/main.mjs
import { ProcessPool } from 'shmring';

const pool = new ProcessPool({ filename: new URL('./worker.mjs', import.meta.url), minWorkers: 2, maxWorkers: 2 });

const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
const results = await Promise.all(words.map((text) => pool.run({ text, rounds: 10_000 })));
const pids = new Set(results.map((r) => r.pid));

// An error thrown in a worker rejects its task, with its message and stack.
const error = await pool.run('no such thing', { name: 'fail' }).catch((e) => e);

await pool.close(); // finishes what is queued, then ends the workers
console.log(`ok: ${results.length} tasks on ${pids.size} worker processes, the error "${error.message}" came back, utilization ${pool.utilization.toFixed(3)}`);
