// SpscRing beyond the shared contract: zero-copy claims, roles and takeover, end of stream.
import test from 'ava';
import { Segment, ShmError, SpscRing } from '../src/index.js';
import { HEAD_OFFSET, TAIL_OFFSET } from '../src/ring/layout/spsc.js';
import { finished, lineFrom, runFixture, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

function pair(capacity = 1024) {
  const sab = new SharedArrayBuffer(512 + capacity);
  const producer = SpscRing.create(sab, { capacity, role: 'producer' });
  const consumer = SpscRing.open(sab, { role: 'consumer' });
  return { sab, producer, consumer };
}

test('a claim is filled in place and published by commit; abort drops it', (t) => {
  const { producer, consumer } = pair();
  const claim = producer.tryClaim(5)!;
  t.is(claim.bytes.length, 5);
  claim.bytes.set([1, 2, 3, 4, 5]);
  t.is(consumer.tryRead(), null, 'nothing is visible before commit');
  claim.commit();
  t.deepEqual([...consumer.tryRead()!], [1, 2, 3, 4, 5]);
  const dropped = producer.tryClaim(3)!;
  dropped.abort();
  t.is(consumer.tryRead(), null);
  t.throws(() => dropped.commit(), { instanceOf: ShmError, code: 'ERR_CLAIM_DONE' });
  t.throws(() => claim.abort(), { code: 'ERR_CLAIM_DONE' });
});

test('one claim at a time; writes wait for it; too large or bad lengths are refused', (t) => {
  const { producer } = pair();
  const claim = producer.tryClaim(10)!;
  t.throws(() => producer.tryClaim(1), { code: 'ERR_CLAIM_PENDING' });
  t.throws(() => producer.tryWrite(new Uint8Array(1)), { code: 'ERR_CLAIM_PENDING' });
  claim.commit();
  t.throws(() => producer.tryClaim(producer.maxMessageSize + 1), { code: 'ERR_MESSAGE_TOO_LARGE' });
  for (const bad of [-1, 1.5, NaN, '3']) t.throws(() => producer.tryClaim(bad as number), { instanceOf: RangeError });
});

test('a claim on a full ring is null; claims wrap with padding like writes', (t) => {
  const { producer, consumer } = pair(256);
  let n = 0;
  for (let i = 0; i < 1000; i++) {
    const claim = producer.tryClaim(40 + (i % 30));
    if (claim === null) {
      t.true(consumer.tryRead() !== null);
      continue;
    }
    claim.bytes.fill(i & 0xff);
    claim.commit();
    n++;
  }
  let read = 0;
  while (consumer.tryRead() !== null) read++;
  t.true(n > 100);
  t.is(producer.stats.messages, n);
});

test('a write at the wrap looks at the head again: a freed ring wraps, a head that is no position of the ring is ERR_SHM_BAD_HEADER and nothing is written', (t) => {
  // Capacity 256: three 56-byte messages (64-byte records) bring the tail to 192; a
  // 72-byte message (80 bytes) then needs a padding record and the space the consumer freed.
  const setUp = () => {
    const { sab, producer, consumer } = pair(256);
    for (let i = 0; i < 3; i++) t.true(producer.tryWrite(new Uint8Array(56).fill(i)));
    producer.flush();
    for (let i = 0; i < 3; i++) t.is(consumer.tryRead()![0], i);
    consumer.flush();
    const i32 = new Int32Array(sab);
    return { sab, producer, consumer, tail: () => i32[TAIL_OFFSET >> 2]!, head: i32, before: new Uint8Array(sab).slice() };
  };
  const good = setUp();
  t.true(good.producer.tryWrite(new Uint8Array(72).fill(7)));
  good.producer.flush();
  t.deepEqual(good.consumer.tryRead(), new Uint8Array(72).fill(7));
  t.is(good.tail(), 256 + 80);

  for (const [what, head] of [['ahead of the tail', 200], ['misaligned', 189]] as const) {
    const bad = setUp();
    bad.head[HEAD_OFFSET >> 2] = head;
    t.throws(() => bad.producer.tryWrite(new Uint8Array(72)), { code: 'ERR_SHM_BAD_HEADER' }, what);
    t.is(bad.tail(), 192, `${what}: nothing published`);
    bad.head[HEAD_OFFSET >> 2] = 192;
    t.deepEqual(new Uint8Array(bad.sab), bad.before, `${what}: nothing written`);
    t.throws(() => bad.producer.tryWrite(new Uint8Array(8)), { code: 'ERR_SHM_BAD_HEADER' }, `${what}: the handle stays broken`);
  }
});

test('drain hands out views that are valid inside the callback; a throwing callback consumes its message', (t) => {
  const { producer, consumer } = pair();
  producer.tryWriteMany([new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])]);
  t.throws(() => consumer.drain((v) => {
    if (v[0] === 2) throw new Error('boom');
  }), { message: 'boom' });
  t.deepEqual([...consumer.tryRead()!], [3]);
  t.throws(() => consumer.drain('x' as unknown as () => void), { instanceOf: TypeError });
  t.throws(() => consumer.drain(() => {}, -1), { instanceOf: RangeError });
});

test('one handle cannot be both producer and consumer; a second live producer is ERR_ROLE_TAKEN', (t) => {
  const { sab, producer } = pair();
  t.is(producer.role, 'producer');
  t.throws(() => producer.tryRead(), { instanceOf: ShmError, code: 'ERR_ROLE_TAKEN' });
  t.throws(() => SpscRing.open(sab, { role: 'producer' }), { code: 'ERR_ROLE_TAKEN' });
  producer.close();
  const next = SpscRing.open(sab, { role: 'producer' });
  t.is(next.role, 'producer', 'a closed holder frees the role');
  next.close();
});

test('the role is taken on first use when not given', (t) => {
  const sab = new SharedArrayBuffer(512 + 1024);
  const a = SpscRing.create(sab);
  const b = SpscRing.open(sab);
  t.is(a.role, undefined);
  t.true(a.tryWrite(new Uint8Array([7])));
  t.is(a.role, 'producer');
  t.deepEqual([...b.read({ timeout: 1000 })], [7]);
  t.is(b.role, 'consumer');
});

test('the consumer sees the end of the stream: read gives ERR_CLOSED and iteration stops after the last message', async (t) => {
  const { producer, consumer } = pair();
  producer.tryWrite(new Uint8Array([1]));
  producer.tryWrite(new Uint8Array([2]));
  producer.close();
  const got: number[] = [];
  for await (const m of consumer) got.push(m[0]!);
  t.deepEqual(got, [1, 2]);
  t.throws(() => consumer.read({ timeout: 1000 }), { instanceOf: ShmError, code: 'ERR_CLOSED' });
});

test('a live producer in another process holds its role; after SIGKILL a new producer takes over and the ring stays consistent', async (t) => {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: 1024, role: 'consumer' });
  t.teardown(() => ring.close());
  const holder = startFixture(t, 'spsc-role', [address, 'producer', 'hold']);
  const exited = finished(holder);
  await lineFrom(holder, /held/);
  const second = await runFixture(t, 'spsc-role', [address, 'producer', 'try']);
  t.like(JSON.parse(second.stdout), { ok: false, code: 'ERR_ROLE_TAKEN' });
  holder.kill('SIGKILL');
  await exited;
  t.deepEqual([...ring.tryRead()!], [1, 2, 3], 'what the dead producer published is delivered');
  const next = runFixture(t, 'spsc-role', [address, 'producer', 'write', '500']);
  let wrong = -1;
  for (let i = 0; i < 500; i++) {
    // Until the new producer has taken the role, a blocking read would report the dead
    // one (ERR_PEER_DEAD): poll for the first message.
    let m = ring.tryRead();
    while (i === 0 && m === null) {
      await new Promise((r) => setTimeout(r, 5));
      m = ring.tryRead();
    }
    m ??= await ring.readAsync({ timeout: 10_000 });
    if (wrong < 0 && (m.length !== 1 || m[0] !== (i & 0xff))) wrong = i;
  }
  t.is(wrong, -1, 'the new producer resumed at the published tail');
  t.like(JSON.parse((await next).stdout), { ok: true });
});

test('a blocked reader whose producer dies gets ERR_PEER_DEAD', async (t) => {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: 1024, role: 'consumer' });
  t.teardown(() => ring.close());
  const holder = startFixture(t, 'spsc-role', [address, 'producer', 'hold']);
  const exited = finished(holder);
  await lineFrom(holder, /held/);
  t.truthy(ring.tryRead());
  const reading = ring.readAsync({ timeout: 20_000 });
  holder.kill('SIGKILL');
  await exited;
  await t.throwsAsync(reading, { instanceOf: ShmError, code: 'ERR_PEER_DEAD' });
});

test('creating at an address makes the segment; open at an address maps it; close releases both', (t) => {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: 4096 });
  t.throws(() => SpscRing.create(shmAddress(t)), { instanceOf: TypeError, message: /capacity/ });
  const other = SpscRing.open(address);
  t.is(other.capacity, 4096);
  ring.tryWrite(new Uint8Array([9]));
  t.deepEqual([...other.tryRead()!], [9]);
  other.close();
  ring.close();
  t.throws(() => ring.tryWrite(new Uint8Array(1)), { code: 'ERR_CLOSED' });
  const seg = Segment.open(address);
  t.is(seg.size, 512 + 4096);
  seg.close();
});

test('claim and claimAsync wait for room, time out with ERR_TIMEOUT and leave nothing claimed', async (t) => {
  const { producer, consumer } = pair(256);
  while (producer.tryWrite(new Uint8Array(40).fill(1)));
  t.throws(() => producer.claim(40, { timeout: 30 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' });
  await t.throwsAsync(producer.claimAsync(40, { timeout: 30 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' });
  t.false(producer.tryWrite(new Uint8Array(40)), 'still full, and no claim left pending');
  t.throws(() => producer.claim(producer.maxMessageSize + 1), { code: 'ERR_MESSAGE_TOO_LARGE' });
  await t.throwsAsync(producer.claimAsync(-1), { instanceOf: RangeError });
  const waiting = producer.claimAsync(40, { timeout: 10_000 });
  let freed = 0;
  while (consumer.tryRead() !== null) freed++;
  consumer.flush(); // gives the space back and wakes the waiting claim
  const claim = await waiting;
  t.true(freed > 0);
  t.throws(() => producer.tryWrite(new Uint8Array(1)), { code: 'ERR_CLAIM_PENDING' });
  claim.bytes.fill(9);
  claim.commit();
  producer.flush();
  t.deepEqual(consumer.tryRead(), new Uint8Array(40).fill(9));
  // A claim that fits at once does not wait.
  const now = producer.claim(8);
  now.abort();
  t.is(consumer.tryRead(), null);
});

test('a writer or claimer blocked on a full ring whose consumer dies gets ERR_PEER_DEAD, sync and async', async (t) => {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: 1024, role: 'producer' });
  t.teardown(() => ring.close());
  const holder = startFixture(t, 'spsc-role', [address, 'consumer', 'hold']);
  const exited = finished(holder);
  await lineFrom(holder, /held/);
  while (ring.tryWrite(new Uint8Array(100)));
  t.throws(() => ring.write(new Uint8Array(100), { timeout: 150 }), { code: 'ERR_TIMEOUT' }, 'a live consumer: keep waiting');
  const writing = ring.writeAsync(new Uint8Array(100), { timeout: 20_000 });
  holder.kill('SIGKILL');
  await exited;
  await t.throwsAsync(writing, { instanceOf: ShmError, code: 'ERR_PEER_DEAD' });
  t.throws(() => ring.write(new Uint8Array(100), { timeout: 20_000 }), { instanceOf: ShmError, code: 'ERR_PEER_DEAD' });
  t.throws(() => ring.claim(100, { timeout: 20_000 }), { instanceOf: ShmError, code: 'ERR_PEER_DEAD' });
  await t.throwsAsync(ring.claimAsync(100, { timeout: 20_000 }), { instanceOf: ShmError, code: 'ERR_PEER_DEAD' });
});
