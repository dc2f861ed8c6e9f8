// The piscina worker of the results scenario (plain JavaScript: piscina starts it without
// the TypeScript loader): makes a result of `bytes` bytes and hands it back one of three
// ways: returned (cloned over the pool's MessagePort), moved (Piscina.move: its buffer
// transferred), or through shared memory (sendResult).
import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { sendResult } from 'shmring';

export default function task({ bytes, how, fill }) {
  const result = Buffer.allocUnsafe(bytes).fill(fill & 0xff);
  if (how === 'shm') return sendResult(workerData, result);
  if (how === 'move') return Piscina.move(new Uint8Array(result.buffer, result.byteOffset, result.byteLength));
  return result;
}
