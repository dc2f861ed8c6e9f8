// Two processes share a job queue: this process produces into an SPSC ring at a shm address,
// a child consumes it. Run: node examples/two-process-queue.mjs
import { spawn } from 'node:child_process';
import { Segment, SpscRing } from 'shmring';

const [role, address] = process.argv.slice(2);

if (role === 'consumer') {
  const ring = SpscRing.open(address, { role: 'consumer' });
  let jobs = 0;
  for await (const message of ring) {
    JSON.parse(Buffer.from(message).toString());
    jobs++;
  }
  console.log(`consumer: ${jobs} jobs`);
} else {
  const queue = `shm:example-queue-${process.pid}`;
  const ring = SpscRing.create(queue, { capacity: 1 << 16, role: 'producer' });
  const consumer = spawn(process.execPath, [new URL(import.meta.url).pathname, 'consumer', queue], { stdio: 'inherit' });
  for (let i = 0; i < 10_000; i++) await ring.writeAsync(Buffer.from(JSON.stringify({ job: i })));
  ring.close(); // the consumer's loop ends after the last job
  await new Promise((resolve) => consumer.on('exit', resolve));
  Segment.unlink(queue);
  console.log('ok: 10000 jobs through shared memory');
}
