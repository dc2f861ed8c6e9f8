// The publication contract: a write that returned is published (readable by another
// process, and surviving a SIGKILL of the producer), unless batching was asked for
// (cork()/uncork(), tryWriteMany, batching: 'task'); batched work never strands a message:
// it is published by uncork() or the end of the task, before this thread blocks in the
// library, and when the process exits.
import test from 'ava';
import { futex, Segment, SpscRing } from '../src/index.js';
import { finished, lineFrom, runFixture, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

for (const batching of ['task', 'cork'] as const) {
  test(`a producer batching per ${batching} that calls process.exit() right after tryWrite has published everything`, async (t) => {
    const address = shmAddress(t);
    const ring = SpscRing.create(address, { capacity: 4096, role: 'consumer' });
    t.teardown(() => ring.close());
    const child = await runFixture(t, 'spsc-batching', ['exit', address, batching]);
    t.is(child.code, 0, child.stderr);
    t.deepEqual([ring.tryRead(), ring.tryRead(), ring.tryRead()].map((m) => m?.[0]), [0, 1, 2]);
  });
}

test('after write() returns, another process reads the message while the producer blocks in Atomics.wait, and it survives a SIGKILL of the producer', async (t) => {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: 1 << 16, role: 'consumer' });
  t.teardown(() => ring.close());
  const child = startFixture(t, 'spsc-batching', ['hold', address]);
  const exited = finished(child);
  await lineFrom(child, /^written/);
  // The producer now sits in Atomics.wait on its own memory: it can publish nothing more.
  const seen: number[] = [];
  for (let i = 0; i < 50; i++) seen.push(ring.tryRead()?.[0] ?? -1);
  t.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i), 'every written message is readable while the producer blocks');
  child.kill('SIGKILL');
  const result = await exited;
  t.is(result.signal, 'SIGKILL');
  for (let i = 50; i < 100; i++) seen.push(ring.tryRead()?.[0] ?? -1);
  t.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i), 'and survives the producer being killed');
  t.is(ring.tryRead(), null);
});

test('with cork(), nothing is readable until uncork(), even while the producer blocks outside the library', async (t) => {
  const address = shmAddress(t);
  const gate = Segment.create(shmAddress(t), { size: 4 });
  t.teardown(() => gate.close());
  const ring = SpscRing.create(address, { capacity: 1 << 16, role: 'consumer' });
  t.teardown(() => ring.close());
  const child = startFixture(t, 'spsc-batching', ['cork', address, gate.address]);
  const exited = finished(child);
  await lineFrom(child, /^corked/);
  // The producer corked, wrote 5 messages and blocks on a futex until the gate opens.
  t.is(ring.tryRead(), null, 'corked writes are not published');
  const word = new Int32Array(gate.buffer);
  Atomics.store(word, 0, 1);
  futex.wake(word, 0);
  await lineFrom(child, /^uncorked/);
  t.deepEqual(Array.from({ length: 5 }, () => ring.tryRead()?.[0]), [0, 1, 2, 3, 4], 'uncork() published them');
  child.kill('SIGKILL');
  await exited;
});

test('by default every write and claim is published, and every read released, before the call returns', (t) => {
  const sab = new SharedArrayBuffer(512 + 4096);
  const producer = SpscRing.create(sab, { role: 'producer' });
  const consumer = SpscRing.open(sab, { role: 'consumer' });
  const tail = () => producer.usedBytes;
  for (let i = 1; i <= 3; i++) {
    t.true(producer.tryWrite(new Uint8Array([i])));
    t.is(tail(), 16 * i, `tryWrite ${i} published`);
  }
  producer.write(new Uint8Array([4]));
  t.is(tail(), 64);
  const claim = producer.tryClaim(1)!;
  claim.bytes[0] = 5;
  claim.commit();
  t.is(tail(), 80, 'claim.commit() published');
  t.is(consumer.tryRead()![0], 1);
  t.is(producer.usedBytes, 64, 'tryRead released its record');
  t.is(consumer.read()[0], 2);
  t.is(producer.usedBytes, 48, 'read released its record');
  t.is(consumer.tryReadInto(new Uint8Array(8)), 1);
  t.is(producer.usedBytes, 32, 'tryReadInto released its record');
});

test('writeAsync publishes before its promise settles', async (t) => {
  const sab = new SharedArrayBuffer(512 + 4096);
  const producer = SpscRing.create(sab, { role: 'producer' });
  await producer.writeAsync(new Uint8Array([1]));
  await producer.writeAsync(new Uint8Array([2]), { timeout: 1000 });
  t.is(producer.usedBytes, 32);
});

test('cork() holds writes and releases until the last uncork(); a full ring, flush() and a batch publish anyway', (t) => {
  const sab = new SharedArrayBuffer(512 + 4096);
  const producer = SpscRing.create(sab, { role: 'producer' });
  const consumer = SpscRing.open(sab, { role: 'consumer' });
  const shared = new Int32Array(sab);
  const publishedTail = () => Atomics.load(shared, 128 / 4);
  const releasedHead = () => Atomics.load(shared, 256 / 4);
  producer.cork();
  producer.cork();
  t.is(producer.corked, 2);
  producer.tryWrite(new Uint8Array([1]));
  t.true(producer.tryWriteMany([new Uint8Array([2]), new Uint8Array([3])]) === 2);
  const claim = producer.tryClaim(1)!;
  claim.bytes[0] = 4;
  claim.commit();
  t.is(publishedTail(), 0, 'nothing published while corked');
  producer.uncork();
  t.is(publishedTail(), 0, 'still corked once');
  producer.uncork();
  t.is(publishedTail(), 64, 'the last uncork() published all four');
  producer.uncork(); // an extra uncork does nothing
  t.is(producer.corked, 0);
  producer.cork();
  producer.tryWrite(new Uint8Array([5]));
  producer.flush();
  t.is(publishedTail(), 80, 'flush() publishes while corked');
  // A batch's worth (512 bytes: an eighth of this ring) is published without uncork.
  for (let i = 0; i < 40; i++) producer.tryWrite(new Uint8Array(8));
  t.true(publishedTail() >= 80 + 512, 'a batch is published while corked');
  producer.uncork();
  consumer.cork();
  for (let i = 1; i <= 5; i++) t.is(consumer.tryRead()![0], i);
  t.is(releasedHead(), 0, 'reads are not released while corked');
  consumer.uncork();
  t.is(releasedHead(), 80, 'uncork() released them');
  // A corked producer that finds the ring full publishes, so the consumer can make room.
  producer.cork();
  let n = 0;
  while (producer.tryWrite(new Uint8Array(100))) n++;
  t.is(publishedTail(), Atomics.load(shared, 128 / 4));
  t.true(consumer.drain(() => {}) >= n, 'everything written was published when the ring looked full');
  producer.close();
  consumer.close();
});

test('batching is checked', (t) => {
  const sab = new SharedArrayBuffer(512 + 4096);
  t.throws(() => SpscRing.create(sab, { batching: 'always' as 'task' }), { instanceOf: TypeError, message: /batching="always"/ });
  SpscRing.create(sab, { batching: 'none' });
  t.throws(() => SpscRing.open(sab, { batching: 1 as unknown as 'task' }), { instanceOf: TypeError, message: /batching=1/ });
});

test('a thread that blocks in the library publishes its deferred writes first', async (t) => {
  const a = shmAddress(t);
  const b = shmAddress(t);
  const requests = SpscRing.create(a, { capacity: 4096, role: 'consumer' });
  const replies = SpscRing.create(b, { capacity: 4096, role: 'producer' });
  t.teardown(() => {
    requests.close();
    replies.close();
  });
  const child = startFixture(t, 'spsc-batching', ['block', a, b]);
  const done = finished(child);
  const ping = await requests.readAsync({ timeout: 20_000 });
  t.is(Buffer.from(ping).toString(), 'ping');
  replies.tryWrite(Buffer.from('pong'));
  const result = await done;
  t.is(result.stdout.trim(), 'pong', result.stderr);
});

test('in one thread, a consumer sees what the producer wrote in the same task', (t) => {
  const sab = new SharedArrayBuffer(512 + 1024);
  const producer = SpscRing.create(sab, { role: 'producer' });
  const consumer = SpscRing.open(sab, { role: 'consumer' });
  producer.tryWrite(new Uint8Array([42]));
  t.deepEqual([...consumer.tryRead()!], [42]);
  // and the producer sees space the consumer released in the same task
  let n = 0;
  while (producer.tryWrite(new Uint8Array(100))) n++;
  consumer.tryRead();
  t.true(producer.tryWrite(new Uint8Array(100)), 'room made by the read is visible at once');
  t.true(n > 0);
});

test("with batching: 'task', tryWrite publishes the first record of a burst at once and defers the rest to the end of the task; flush() moves it at once", async (t) => {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: 4096, role: 'producer', batching: 'task' });
  const reader = SpscRing.open(address);
  t.teardown(() => {
    ring.close();
    reader.close();
  });
  ring.tryWrite(new Uint8Array([1]));
  t.is(ring.usedBytes, 16, 'the first record of the burst is published at once');
  ring.tryWrite(new Uint8Array([2]));
  ring.tryWrite(new Uint8Array([3]));
  t.is(ring.usedBytes, 16, 'not yet published: the rest of the burst waits for the end of the task');
  ring.flush();
  t.is(ring.usedBytes, 48, 'the tail moved in shared memory');
  ring.tryWrite(new Uint8Array([4]));
  ring.tryWrite(new Uint8Array([5]));
  t.is(ring.usedBytes, 48, 'still the same burst: flush() published, the task goes on');
  await Promise.resolve();
  await new Promise((r) => setImmediate(r));
  t.is(ring.usedBytes, 80, 'published by the end of the task without a flush');
  ring.tryWrite(new Uint8Array([6]));
  t.is(ring.usedBytes, 96, 'a new task starts a new burst');
  t.deepEqual(
    Array.from({ length: 6 }, () => reader.tryRead()![0]),
    [1, 2, 3, 4, 5, 6],
  );
});
