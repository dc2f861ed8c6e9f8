// The worker_threads MessagePort baseline: a worker posts COUNT Uint8Arrays of SIZE bytes
// per repetition to the main thread (structured clone, copied), which counts them.
//   port-peer SIZE COUNT REPS      (control block at fd:3)
import { Worker } from 'node:worker_threads';
import { Segment } from 'shmring';
import { Control } from '../lib/control.js';

const [sizeText, countText, repsText] = process.argv.slice(2);
const size = Number(sizeText);
const count = Number(countText);
const reps = Number(repsText);
const seg = Segment.open('fd:3');
const control = new Control(seg.buffer, seg.size);

const worker = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
   const { buffer, size, count, reps, base } = workerData;
   const i32 = new Int32Array(buffer, base, 16);
   const i64 = new BigInt64Array(buffer, base, 8);
   const message = new Uint8Array(size).fill(7);
   (async () => {
     for (let rep = 0; rep < reps; rep++) {
       while (Atomics.load(i32, 0) < rep + 1) Atomics.wait(i32, 15, 0, 1);
       Atomics.store(i64, 2, process.hrtime.bigint());
       for (let i = 0; i < count; i++) {
         parentPort.postMessage(message);
         if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r));
       }
       while (Atomics.load(i32, 3) < rep + 1) Atomics.wait(i32, 15, 0, 1);
     }
   })();`,
  { eval: true, workerData: { buffer: seg.buffer, size, count, reps, base: control.i32.byteOffset } },
);
let rep = 0;
let got = 0;
Atomics.add(control.i32, 0, 1);
worker.on('message', () => {
  if (++got === count) {
    control.received(rep, count, count);
    got = 0;
    if (++rep < reps) Atomics.add(control.i32, 0, 1);
    else void worker.terminate().then(() => seg.close());
  }
});
