// piscina workers hand 1 MiB results back through shared memory: each task returns a small
// handle, the main thread takes the bytes. Run: node examples/piscina/main.mjs
import { Piscina } from 'piscina';
import { SharedResults } from 'shmring';

const results = SharedResults.create({ slots: 4 });
const pool = results.watch(new Piscina({ filename: new URL('./worker.mjs', import.meta.url).href, workerData: results.workerData, maxThreads: 4 }));

const handles = await Promise.all(Array.from({ length: 16 }, (_, i) => pool.run({ fill: i })));
let total = 0;
for (const [i, handle] of handles.entries()) {
  const bytes = await results.take(handle);
  if (bytes.length !== 1 << 20 || bytes[12345] !== i) throw new Error(`result ${i} is wrong: ${bytes.length} bytes, ${bytes[12345]} ${JSON.stringify(handle)}`);
  total += bytes.length;
}
await pool.destroy();
results.close();
console.log(`ok: ${handles.length} results, ${total >> 20} MiB through shared memory`);
