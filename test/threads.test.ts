// Threads as participants: a worker thread that dies holding a robust mutex is found dead
// (identities name OS threads, not only processes), 1,100 worker threads one after another
// get 1,100 distinct identities (the thread part used to be 10 bits of worker_threads'
// threadId, so ids repeated after 1,024 workers), and seg.fd is gone after close().
import test, { type ExecutionContext } from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { Mutex, Segment } from '../src/index.js';
import { isAlive, SELF_THREAD } from '../src/sync/identity.js';
import { sweep, tempDir } from './helpers/resources.js';

test.after.always(sweep);

/** A worker running test/fixtures/identity-thread.ts (through tsx), terminated at teardown. */
function startWorker(t: ExecutionContext, workerData: object): Worker {
  const fixture = new URL('./fixtures/identity-thread.ts', import.meta.url).href;
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(fixture)}); });`;
  const worker = new Worker(code, { eval: true, workerData });
  t.teardown(() => worker.terminate());
  return worker;
}

function message<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

test('a worker thread that locks a mutex and ends without unlocking: the next locker gets it with ownerDied', async (t) => {
  t.timeout(60_000);
  const buffer = new SharedArrayBuffer(64);
  const mutex = Mutex.create(buffer, 0);
  const worker = startWorker(t, { buffer });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  const { identity } = await message<{ identity: bigint }>(worker);
  t.not(identity, SELF_THREAD, 'the worker is a participant of its own');
  t.true(isAlive(identity), 'while the worker runs, its identity is alive');
  t.is(mutex.tryLock(), null, 'a live worker keeps its lock');
  worker.postMessage('exit');
  await exited;
  t.false(isAlive(identity), 'the ended worker is dead though its process lives');
  t.deepEqual(mutex.lock({ timeout: 10_000 }), { ownerDied: true });
  mutex.unlock();
  t.deepEqual(mutex.tryLock(), { ownerDied: false });
  mutex.unlock();
});

test('1,100 worker threads one after another get 1,100 distinct identities', async (t) => {
  t.timeout(300_000);
  // Workers start in ~30 ms with plain JavaScript, in ~300 ms through tsx: they load
  // src/sync/identity.ts as transpiled here (it imports only node:fs).
  const source = readFileSync(new URL('../src/sync/identity.ts', import.meta.url), 'utf8');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  const file = join(tempDir(t), 'identity.mjs');
  writeFileSync(file, js);
  const code = `import(${JSON.stringify(file)}).then((m) => require('node:worker_threads').parentPort.postMessage(m.SELF_THREAD))`;
  const seen = new Set<bigint>();
  for (let i = 0; i < 1100; i++) {
    const worker = new Worker(code, { eval: true });
    let identity: bigint | undefined;
    worker.on('message', (m: bigint) => (identity = m));
    await new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', resolve);
    });
    t.is(typeof identity, 'bigint');
    seen.add(identity!);
  }
  t.is(seen.size, 1100);
  t.false(seen.has(SELF_THREAD));
  t.false([...seen].some(isAlive), 'every ended worker is dead');
});

test('seg.fd is the descriptor until close(), undefined afterwards', (t) => {
  const seg = Segment.anonymous(4096);
  t.is(typeof seg.fd, 'number');
  seg.close();
  t.is(seg.fd, undefined);
});
