// Every address kind shared with a real separate process and with a worker thread.
import test, { type ExecutionContext } from 'ava';
import { Worker } from 'node:worker_threads';
import { Segment } from '../src/index.js';
import { fileAddress, ftokAddress, shmAddress, sweep, sysvAddress } from './helpers/resources.js';
import { finished, startFixture } from './helpers/processes.js';

test.after.always(sweep);

const COUNT = 200_000;

async function addTogether(t: ExecutionContext, seg: Segment, childAddress: string, stdio?: Array<'ignore' | 'pipe' | number>) {
  const i32 = new Int32Array(seg.buffer);
  const child = startFixture(t, 'segment-adder', [childAddress, String(COUNT)], stdio ? { stdio } : {});
  const done = finished(child);
  const deadline = Date.now() + 20_000;
  while (Atomics.load(i32, 1) === 0) {
    if (Date.now() > deadline || child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  t.is(Atomics.load(i32, 1), 1, 'child mapped the segment');
  Atomics.store(i32, 2, 1);
  for (let i = 0; i < COUNT; i++) Atomics.add(i32, 0, 1);
  const result = await done;
  t.is(result.code, 0, result.stderr);
  t.is(Atomics.load(i32, 0), 2 * COUNT);
  const bytes = new Uint8Array(seg.buffer);
  for (let i = 0; i < 256; i++) {
    if (bytes[4096 + i] !== ((i * 7) & 0xff)) return t.fail(`byte ${i} differs`);
  }
}

test('shm: parent and child add to the same word', async (t) => {
  const address = shmAddress(t);
  const seg = Segment.create(address, { size: 8192 });
  t.teardown(() => seg.close());
  await addTogether(t, seg, address);
});

test('file: parent and child add to the same word', async (t) => {
  const address = fileAddress(t);
  const seg = Segment.create(address, { size: 8192 });
  t.teardown(() => seg.close());
  await addTogether(t, seg, address);
});

test('sysv:KEY: parent and child add to the same word', async (t) => {
  const address = sysvAddress(t);
  const seg = Segment.create(address, { size: 8192 });
  t.teardown(() => seg.close());
  await addTogether(t, seg, address);
});

test('sysv:/path:PROJ: parent and child add to the same word', async (t) => {
  const address = ftokAddress(t);
  const seg = Segment.create(address, { size: 8192 });
  t.teardown(() => seg.close());
  await addTogether(t, seg, address);
});

test('anonymous memfd passed as fd:3 in the child stdio', async (t) => {
  const seg = Segment.anonymous(8192);
  t.teardown(() => seg.close());
  t.is(typeof seg.fd, 'number');
  await addTogether(t, seg, 'fd:3', ['ignore', 'pipe', 'pipe', seg.fd!]);
});

test('a worker thread given seg.buffer sees the same bytes', async (t) => {
  const address = shmAddress(t);
  const seg = Segment.create(address, { size: 4096 });
  t.teardown(() => seg.close());
  const i32 = new Int32Array(seg.buffer);
  i32[3] = 12345;
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const i32 = new Int32Array(workerData);
     Atomics.wait(i32, 0, 0, 10000);
     parentPort.postMessage([Atomics.load(i32, 1), i32[3]]);
     Atomics.store(i32, 2, 99);`,
    { eval: true, workerData: seg.buffer },
  );
  t.teardown(() => worker.terminate());
  const message = new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  Atomics.store(i32, 1, 777);
  Atomics.store(i32, 0, 1);
  Atomics.notify(i32, 0);
  t.deepEqual(await message, [777, 12345]);
  await new Promise((resolve) => worker.once('exit', resolve));
  t.is(Atomics.load(i32, 2), 99, 'the worker wrote into the same mapping');
});
