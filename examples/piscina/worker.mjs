// A piscina task that makes a 1 MiB result and sends it through shared memory.
import { workerData } from 'node:worker_threads';
import { sendResult } from 'shmring';

export default ({ fill }) => sendResult(workerData, Buffer.alloc(1 << 20, fill));
