// The piscina baseline: COUNT tasks per repetition, each carrying a Uint8Array of SIZE
// bytes to a one-thread pool that receives it and returns nothing (structured clone, as
// with a MessagePort). At most 1024 tasks are in flight.
//   piscina-peer SIZE COUNT REPS      (control block at fd:3)
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Segment } from 'shmring';
import { Control } from '../lib/control.js';

const [sizeText, countText, repsText] = process.argv.slice(2);
const size = Number(sizeText);
const count = Number(countText);
const reps = Number(repsText);
const seg = Segment.open('fd:3');
const control = new Control(seg.buffer, seg.size);
const task = fileURLToPath(new URL('./piscina-task.mjs', import.meta.url));
const pool = new Piscina({ filename: task, minThreads: 1, maxThreads: 1 });
const message = new Uint8Array(size).fill(7);

for (let rep = 0; rep < reps; rep++) {
  Atomics.store(control.i64, 2, process.hrtime.bigint());
  let inFlight: Promise<number>[] = [];
  for (let i = 0; i < count; i++) {
    inFlight.push(pool.run(message));
    if (inFlight.length === 1024) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  control.received(rep, count, count);
}
await pool.destroy();
seg.close();
