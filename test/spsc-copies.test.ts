// How SpscRing moves payload bytes: the plain alias of a Segment's pages, pooled read-ahead
// copies for small messages, readInto into the caller's buffer, and waitReadable.
import test from 'ava';
import { Segment, ShmError, SpscRing } from '../src/index.js';
import { fileAddress, shmAddress, sweep, sysvAddress } from './helpers/resources.js';

test.after.always(sweep);

function pair(capacity = 4096) {
  const sab = new SharedArrayBuffer(SpscRing.requiredBytes(capacity));
  const producer = SpscRing.create(sab, { capacity, role: 'producer' });
  const consumer = SpscRing.open(sab, { role: 'consumer' });
  return { producer, consumer };
}

function message(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seed * 31 + i * 7) & 0xff;
  return bytes;
}

for (const [kind, address] of [
  ['shm', shmAddress],
  ['file', fileAddress],
  ['sysv', sysvAddress],
] as const) {
  test(`${kind}: a ring over a Segment copies through a plain alias of the same pages`, (t) => {
    const addr = address(t);
    const seg = Segment.create(addr, { size: SpscRing.requiredBytes(8192) });
    t.teardown(() => {
      seg.close();
      Segment.unlink(addr);
    });
    const producer = SpscRing.create(seg, { capacity: 8192, role: 'producer' });
    const other = Segment.open(addr);
    t.teardown(() => other.close());
    const consumer = SpscRing.open(other, { role: 'consumer' });
    const claim = producer.tryClaim(16)!;
    t.false(claim.bytes.buffer instanceof SharedArrayBuffer, 'the claim is a view of the plain alias');
    claim.bytes.set(message(16, 1));
    claim.commit();
    producer.tryWrite(message(3000, 2));
    producer.flush();
    t.deepEqual(consumer.tryRead(), message(16, 1));
    t.deepEqual(consumer.tryRead(), message(3000, 2));
    consumer.drain((view) => t.fail(`unexpected ${view.length}`));
  });
}

test('closing the segment under a live ring: writes give ERR_CLOSED, old claim views are empty', (t) => {
  const addr = shmAddress(t);
  const seg = Segment.create(addr, { size: SpscRing.requiredBytes(1024) });
  t.teardown(() => Segment.unlink(addr));
  const producer = SpscRing.create(seg, { capacity: 1024, role: 'producer' });
  const claim = producer.tryClaim(8)!;
  const view = claim.bytes;
  claim.commit();
  seg.close();
  t.is(view.length, 0, 'the alias is detached: a stale view cannot reach the pages');
  t.throws(() => producer.tryWrite(new Uint8Array(8)), { instanceOf: ShmError, code: 'ERR_CLOSED' });
});

test('a read-only segment has no alias; a ring over it still reads', (t) => {
  const addr = shmAddress(t);
  const seg = Segment.create(addr, { size: SpscRing.requiredBytes(1024) });
  t.teardown(() => {
    seg.close();
    Segment.unlink(addr);
  });
  const producer = SpscRing.create(seg, { capacity: 1024, role: 'producer' });
  producer.tryWrite(message(100, 3));
  producer.flush();
  const readOnly = Segment.open(addr, { readOnly: true });
  t.teardown(() => readOnly.close());
  const ring = SpscRing.open(readOnly);
  let seen: Uint8Array | undefined;
  ring.drain((view) => {
    t.true(view.buffer instanceof SharedArrayBuffer);
    seen = view.slice();
  });
  t.deepEqual(seen, message(100, 3));
});

test('small messages read by tryRead are pooled copies: the caller owns their bytes after the ring reuses the space', (t) => {
  const { producer, consumer } = pair(1024);
  const kept: Uint8Array[] = [];
  for (let i = 0; i < 200; i++) {
    t.true(producer.tryWrite(message(24 + (i % 50), i)));
    producer.flush();
    const m = consumer.tryRead()!;
    kept.push(m);
  }
  // The 1 KiB ring was overwritten many times over; every kept message is intact.
  kept.forEach((m, i) => t.deepEqual(m, message(24 + (i % 50), i)));
  t.true(kept.some((m) => m.byteOffset > 0), 'small messages share a pooled buffer');
});

test('large messages read by tryRead own their buffer', (t) => {
  const { producer, consumer } = pair(16384);
  producer.tryWrite(message(5000, 4));
  producer.flush();
  const m = consumer.tryRead()!;
  t.is(m.byteOffset, 0);
  t.is(m.buffer.byteLength, 5000);
  t.deepEqual(m, message(5000, 4));
});

test('tryRead, tryReadInto and drain interleave in order over wraps and padding', (t) => {
  const { producer, consumer } = pair(512);
  const target = new Uint8Array(256);
  let written = 0;
  let read = 0;
  let rnd = 12345;
  const next = () => (rnd = (rnd * 1103515245 + 12345) & 0x7fffffff) >>> 16;
  for (let step = 0; step < 20000; step++) {
    if (next() % 2 === 0) {
      if (producer.tryWrite(message(next() % 200, written))) written++;
      if (next() % 3 === 0) producer.flush();
      continue;
    }
    const how = next() % 3;
    if (how === 0) {
      const m = consumer.tryRead();
      if (m === null) continue;
      if (!equal(m, message(m.length, read))) t.fail(`message ${read} differs`);
      read++;
    } else if (how === 1) {
      const length = consumer.tryReadInto(target);
      if (length < 0) continue;
      if (!equal(target.subarray(0, length), message(length, read))) t.fail(`message ${read} differs`);
      read++;
    } else {
      consumer.drain((view) => {
        if (!equal(view, message(view.length, read))) t.fail(`message ${read} differs`);
        read++;
      }, 1 + (next() % 4));
    }
  }
  producer.flush();
  while (consumer.tryRead() !== null) read++;
  t.is(read, written);
  t.true(written > 1000, `only ${written} messages went through`);
});

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

test('tryReadInto: -1 when empty, a too-small target leaves the message in the ring, bad targets are TypeErrors', (t) => {
  const { producer, consumer } = pair();
  t.is(consumer.tryReadInto(new Uint8Array(8)), -1);
  producer.tryWrite(message(100, 5));
  producer.tryWrite(new Uint8Array(0));
  producer.flush();
  t.throws(() => consumer.tryReadInto(new Uint8Array(99)), { instanceOf: RangeError, message: /100 bytes/ });
  const target = new Uint8Array(128);
  t.is(consumer.tryReadInto(target), 100);
  t.deepEqual(target.subarray(0, 100), message(100, 5));
  t.is(consumer.tryReadInto(target), 0, 'an empty message');
  for (const bad of [null, [1, 2], new ArrayBuffer(8), 'x']) {
    t.throws(() => consumer.tryReadInto(bad as unknown as Uint8Array), { instanceOf: TypeError, message: /target/ });
  }
});

test('tryReadInto copies small messages word by word into any target: offsets, odd lengths, resizable buffers, a target swapped between calls', (t) => {
  const { producer, consumer } = pair(4096);
  const backing = new ArrayBuffer(1024);
  // A resizable ArrayBuffer (ES2024; Node 20 has it, this project's lib typings do not).
  const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(length: number): void };
  const resizable = new Resizable(512, { maxByteLength: 1024 });
  const targets: Array<[string, Uint8Array]> = [
    ['aligned', new Uint8Array(300)],
    ['Buffer', Buffer.alloc(300)],
    ['offset 4', new Uint8Array(backing, 4, 300)],
    ['offset 1', new Uint8Array(backing, 601, 300)],
    ['resizable', new Uint8Array(resizable, 8, 300)],
  ];
  let seed = 0;
  for (let round = 0; round < 3; round++) {
    for (const [name, target] of targets) {
      for (const length of [0, 1, 3, 4, 7, 63, 64, 65, 255, 256, 257, 300]) {
        // Round 0: a lone message, read from the ring itself; later rounds: three pending,
        // read through the read-ahead copy.
        const sent = Array.from({ length: round === 0 ? 1 : 3 }, () => message(length, ++seed));
        for (const m of sent) t.true(producer.tryWrite(m));
        for (const m of sent) {
          target.fill(0xee);
          const got = consumer.tryReadInto(target);
          t.is(got, length, `${name}, ${length} B`);
          t.deepEqual(Array.from(target.subarray(0, length)), Array.from(m), `${name}, ${length} B: the payload`);
          t.true(target.subarray(length).every((b) => b === 0xee), `${name}, ${length} B: nothing written past it`);
        }
      }
    }
  }
  // The bytes around the two views over `backing` were never written.
  const whole = new Uint8Array(backing);
  t.true(whole.subarray(0, 4).every((b) => b === 0));
  t.true(whole.subarray(304, 601).every((b) => b === 0));
  t.true(whole.subarray(901).every((b) => b === 0));
  // A target shrunk under a cached view: bytes are not dropped silently.
  resizable.resize(16);
  const shrunk = targets[4]![1];
  t.is(shrunk.length, 0);
  t.true(producer.tryWrite(message(8, 99)));
  t.throws(() => consumer.tryReadInto(shrunk), { instanceOf: RangeError });
  t.deepEqual(consumer.tryRead(), message(8, 99), 'the message stayed in the ring');
});

test('tryReadInto through a closed segment gives ERR_CLOSED and leaves the target alone', (t) => {
  const addr = shmAddress(t);
  const seg = Segment.create(addr, { size: SpscRing.requiredBytes(4096) });
  t.teardown(() => Segment.unlink(addr));
  const producer = SpscRing.create(seg, { capacity: 4096, role: 'producer' });
  const other = Segment.open(addr);
  t.teardown(() => other.close());
  const consumer = SpscRing.open(other, { role: 'consumer' });
  const target = new Uint8Array(64);
  t.true(producer.tryWrite(message(40, 1)));
  t.is(consumer.tryReadInto(target), 40);
  t.true(producer.tryWrite(message(40, 2)));
  producer.flush();
  other.close();
  target.fill(7);
  t.throws(() => consumer.tryReadInto(target), { code: 'ERR_CLOSED' });
  t.true(target.every((b) => b === 7));
  seg.close();
});

test('readInto blocks until a message comes, honours its timeout and ends with the stream', async (t) => {
  const { producer, consumer } = pair();
  const target = new Uint8Array(64);
  t.throws(() => consumer.readInto(target, { timeout: 20 }), { code: 'ERR_TIMEOUT' });
  setTimeout(() => {
    producer.tryWrite(message(10, 6));
    producer.close();
  }, 20);
  // A sync wait would block the timer above: wait for it on the event loop first.
  await consumer.waitReadableAsync({ timeout: 5000 });
  t.is(consumer.readInto(target, { timeout: 1000 }), 10);
  t.deepEqual(target.subarray(0, 10), message(10, 6));
  t.throws(() => consumer.readInto(target, { timeout: 1000 }), { code: 'ERR_CLOSED' });
});

test('waitReadable returns without taking the message; times out; ends with ERR_CLOSED', async (t) => {
  const { producer, consumer } = pair();
  t.throws(() => consumer.waitReadable({ timeout: 10 }), { code: 'ERR_TIMEOUT' });
  await t.throwsAsync(consumer.waitReadableAsync({ timeout: 10 }), { code: 'ERR_TIMEOUT' });
  producer.tryWrite(message(7, 7));
  producer.flush();
  consumer.waitReadable();
  consumer.waitReadable({ timeout: 0 });
  t.deepEqual(consumer.tryRead(), message(7, 7), 'the message was still there');
  producer.close();
  t.throws(() => consumer.waitReadable(), { code: 'ERR_CLOSED' });
  await t.throwsAsync(consumer.waitReadableAsync(), { code: 'ERR_CLOSED' });
  const controller = new AbortController();
  const { consumer: idle } = pair();
  const pending = idle.waitReadableAsync({ signal: controller.signal });
  controller.abort();
  await t.throwsAsync(pending, { code: 'ERR_ABORTED' });
});
