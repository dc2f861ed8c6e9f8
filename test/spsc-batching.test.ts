// Deferred publication never strands a message: it is published by the end of the task,
// before this thread blocks in the library, and when the process exits.
import test from 'ava';
import { SpscRing } from '../src/index.js';
import { runFixture, startFixture, finished } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

test('a producer that calls process.exit() right after tryWrite has published everything', async (t) => {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: 4096, role: 'consumer' });
  t.teardown(() => ring.close());
  const child = await runFixture(t, 'spsc-batching', ['exit', address]);
  t.is(child.code, 0, child.stderr);
  t.deepEqual([ring.tryRead(), ring.tryRead(), ring.tryRead()].map((m) => m?.[0]), [0, 1, 2]);
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

test('tryWrite publishes the first record of a burst at once and defers the rest to the end of the task; flush() moves it at once', async (t) => {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: 4096, role: 'producer' });
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
