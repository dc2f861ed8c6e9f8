// Segment semantics in one process: persistence, close, read-only views, unlink, sizes.
import test from 'ava';
import { readFileSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Segment, ShmError } from '../src/index.js';
import { fileAddress, shmAddress, sweep, sysvAddress, sysvExists } from './helpers/resources.js';

test.after.always(sweep);

test('file: data persists after close and reopen, and flush() reaches the file', (t) => {
  const address = fileAddress(t);
  const seg = Segment.create(address, { size: 10_000 });
  t.is(seg.size, 10_000);
  t.is(seg.address, address);
  new Uint8Array(seg.buffer).set([1, 2, 3, 4], 5000);
  seg.flush();
  const path = address.slice('file:'.length);
  t.deepEqual([...readFileSync(path).subarray(5000, 5004)], [1, 2, 3, 4]);
  seg.close();
  const again = Segment.open(address);
  t.deepEqual([...new Uint8Array(again.buffer, 5000, 4)], [1, 2, 3, 4]);
  again.close();
});

test('created segments default to mode 0600; mode widens it as given, despite the umask', (t) => {
  const a = fileAddress(t);
  Segment.create(a, { size: 64 }).close();
  t.is(statSync(a.slice(5)).mode & 0o777, 0o600);
  const shm = shmAddress(t);
  Segment.create(shm, { size: 64, mode: 0o666 }).close();
  t.is(statSync(`/dev/shm/${shm.slice(4)}`).mode & 0o777, 0o666);
});

test('close() is idempotent; later calls throw ERR_CLOSED; old views read zeros and never fault', (t) => {
  const address = shmAddress(t);
  const seg = Segment.create(address, { size: 8192 });
  const view = new Int32Array(seg.buffer);
  view[0] = 42;
  const other = Segment.open(address);
  seg.close();
  seg.close();
  t.true(seg.closed);
  t.is(view[0], 0, 'a view held after close reads zeros');
  view[1] = 7; // writes go to private pages, not to the shared memory
  t.is(new Int32Array(other.buffer)[1], 0);
  t.is(new Int32Array(other.buffer)[0], 42, 'the shared bytes are untouched');
  t.throws(() => seg.buffer, { instanceOf: ShmError, code: 'ERR_CLOSED' });
  t.throws(() => seg.flush(), { instanceOf: ShmError, code: 'ERR_CLOSED' });
  other.close();
});

test('readOnly shows shared writes and keeps its own writes private', (t) => {
  const address = shmAddress(t);
  const seg = Segment.create(address, { size: 4096 });
  const ro = Segment.open(address, { readOnly: true });
  t.true(ro.readOnly);
  const rw = new Int32Array(seg.buffer);
  const r = new Int32Array(ro.buffer);
  rw[0] = 11;
  t.is(Atomics.load(r, 0), 11);
  r[100] = 5;
  t.is(rw[100], 0, 'a write through a read-only segment is never shared');
  ro.close();
  seg.close();
});

test('unlink removes the name; existing mappings stay valid', (t) => {
  const address = shmAddress(t);
  const seg = Segment.create(address, { size: 4096 });
  new Int32Array(seg.buffer)[0] = 3;
  Segment.unlink(address);
  t.throws(() => Segment.open(address), { instanceOf: ShmError, code: 'ENOENT' });
  t.is(new Int32Array(seg.buffer)[0], 3);
  seg.close();
});

test('sysv: unlink marks the segment for removal and it disappears after the last detach', (t) => {
  const address = sysvAddress(t);
  const key = Number(address.slice(5));
  const seg = Segment.create(address, { size: 4096 });
  t.true(sysvExists(key));
  seg.close();
  t.true(sysvExists(key), 'close detaches but does not remove');
  Segment.unlink(address);
  t.false(sysvExists(key));
});

test('exclusive=false opens an existing segment and grows it to the size asked', (t) => {
  const address = shmAddress(t);
  const small = Segment.create(address, { size: 4096 });
  new Uint8Array(small.buffer)[0] = 9;
  const grown = Segment.create(address, { size: 16384, exclusive: false });
  t.is(grown.size, 16384);
  t.is(new Uint8Array(grown.buffer)[0], 9);
  const same = Segment.create(address, { size: 100, exclusive: false });
  t.is(same.size, 16384, 'never shrinks');
  for (const s of [small, grown, same]) s.close();
});

test('open({ size }) accepts a segment at least that large', (t) => {
  const address = shmAddress(t);
  const seg = Segment.create(address, { size: 8192 });
  const opened = Segment.open(address, { size: 8192 });
  t.is(opened.size, 8192);
  opened.close();
  seg.close();
});

test('a buffer posted to a worker after close() is refused with ERR_CLOSED; one taken before reads zeros there', async (t) => {
  const seg = Segment.anonymous(4096);
  const before = seg.buffer;
  new Int32Array(before)[0] = 42;
  seg.close();
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (m) => parentPort.postMessage(m instanceof SharedArrayBuffer ? new Int32Array(m)[0] : 'not a SharedArrayBuffer'));`,
    { eval: true },
  );
  t.teardown(() => worker.terminate());
  const answer = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  t.throws(() => worker.postMessage(seg.buffer), { code: 'ERR_CLOSED' });
  worker.postMessage(before);
  t.is(await answer, 0, 'the worker got the buffer taken before close(), reading zeros, never faulting');
});
