// A worker thread joins a Channel by its address (passed in workerData) and answers messages.
// Run: node examples/worker-channel.mjs
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { Channel } from 'shmring';

if (isMainThread) {
  const channel = Channel.create(); // an anonymous segment: its fd: address works in this process's threads
  const worker = new Worker(new URL(import.meta.url), { workerData: { address: channel.address } });
  const replies = [];
  channel.on('message', (reply) => {
    replies.push(reply);
    if (replies.length === 3) {
      console.log(`ok: ${JSON.stringify(replies)}`);
      channel.close(); // the worker sees 'close' and ends
    }
  });
  for (const word of ['one', 'two', 'three']) channel.postMessage({ word, at: new Date(0) });
  await new Promise((resolve) => worker.on('exit', resolve));
} else {
  const channel = Channel.connect(workerData.address);
  channel.on('message', ({ word, at }) => channel.postMessage(`${word.toUpperCase()} (${at instanceof Date ? 'a Date' : typeof at})`));
}
