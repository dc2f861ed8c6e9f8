// Rings in a byte range of their target (byteOffset, byteLength): several rings in one
// Segment work independently, never touch a byte outside their region, and close with it.
import test, { type ExecutionContext } from 'ava';
import { MpmcRing, Segment, ShmError, SpscRing } from '../src/index.js';
import { check, fill } from './helpers/messages.js';
import { finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const GUARD = 128;
const SPSC_A = SpscRing.requiredBytes(1024);
const SPSC_B = SpscRing.requiredBytes(2048);
const MPMC = MpmcRing.requiredBytes(8, 256, 4);

/**
 * Guard, ring A, guard, ring B, guard, MPMC ring, guard: each guard a 128-byte canary
 * (bytes that are no ring's) whose pattern `intact()` checks.
 */
function layout(size: number) {
  const a = GUARD;
  const b = a + SPSC_A + GUARD;
  const m = b + SPSC_B + GUARD;
  const end = m + MPMC;
  const guards = [
    [0, a],
    [a + SPSC_A, b],
    [b + SPSC_B, m],
    [end, size],
  ] as const;
  return { a, b, m, end, guards };
}

function canaries(t: ExecutionContext, buffer: SharedArrayBuffer, guards: readonly (readonly [number, number])[]) {
  const bytes = new Uint8Array(buffer);
  for (const [from, to] of guards) for (let i = from; i < to; i++) bytes[i] = (0xa5 ^ i) & 0xff;
  return (step: string) => {
    for (const [from, to] of guards) {
      for (let i = from; i < to; i++) {
        if (bytes[i] !== ((0xa5 ^ i) & 0xff)) {
          t.fail(`${step}: guard byte ${i} was written`);
          return;
        }
      }
    }
    t.pass();
  };
}

function message(i: number): Uint8Array {
  const m = new Uint8Array(1 + ((i * 37) % 200));
  fill(m, i);
  return m;
}

test('two SPSC rings and an MPMC ring in one segment work independently and never write outside their regions', (t) => {
  const size = layout(0).end + GUARD;
  const { a, b, m, guards } = layout(size);
  const segment = Segment.anonymous(size);
  t.teardown(() => segment.close());
  const intact = canaries(t, segment.buffer, guards);
  const producerA = SpscRing.create(segment, { capacity: 1024, byteOffset: a, byteLength: SPSC_A, role: 'producer' });
  const producerB = SpscRing.create(segment, { capacity: 2048, byteOffset: b, role: 'producer', byteLength: SPSC_B });
  const mpmc = MpmcRing.create(segment, { slots: 8, slotSize: 256, participants: 4, byteOffset: m, byteLength: MPMC });
  intact('create');
  const consumerA = SpscRing.open(segment, { byteOffset: a, role: 'consumer' });
  const consumerB = SpscRing.open(segment.buffer, { byteOffset: b, byteLength: SPSC_B, role: 'consumer' });
  const other = MpmcRing.open(segment, { byteOffset: m });
  intact('open');
  t.is(consumerA.capacity, 1024);
  t.is(consumerB.capacity, 2048);
  t.is(other.slots, 8);
  // Enough messages to wrap every ring many times; A and B carry different streams.
  for (let i = 0; i < 2000; i++) {
    t.true(producerA.tryWrite(message(i)));
    t.true(producerB.tryWrite(message(i + 7)));
    t.true(mpmc.tryWrite(message(i + 13)));
    producerA.flush();
    producerB.flush();
    const fromA = consumerA.tryRead()!;
    const fromB = consumerB.tryRead()!;
    const fromM = other.tryRead()!;
    t.is(check(fromA, i), -1);
    t.is(fromA.length, message(i).length);
    t.is(check(fromB, i + 7), -1);
    t.is(check(fromM, i + 13), -1);
    if (i % 97 === 0) intact(`message ${i}`);
  }
  // A claim and a drain inside a region.
  const claim = producerA.tryClaim(100)!;
  fill(claim.bytes, 5);
  claim.commit();
  producerA.flush();
  t.is(consumerA.drain((view) => t.is(check(view, 5), -1)), 1);
  intact('claim and drain');
  t.is(consumerB.tryRead(), null);
  t.is(other.tryRead(), null);
  // Closing the segment closes every ring in it (the rings-per-segment registry).
  segment.close();
  for (const ring of [producerA, producerB, mpmc, consumerA, consumerB, other]) t.true(ring.closed);
});

test('rings at different offsets of one shm segment carry messages between two processes', async (t) => {
  const address = shmAddress(t);
  const size = layout(0).end + GUARD;
  const { a, b, m, guards } = layout(size);
  const segment = Segment.create(address, { size });
  t.teardown(() => segment.close());
  const intact = canaries(t, segment.buffer, guards);
  const toChild = SpscRing.create(segment, { capacity: 1024, byteOffset: a, byteLength: SPSC_A, role: 'producer' });
  const fromChild = SpscRing.create(segment, { capacity: 2048, byteOffset: b, byteLength: SPSC_B, role: 'consumer' });
  const mpmc = MpmcRing.create(segment, { slots: 8, slotSize: 256, participants: 4, byteOffset: m, byteLength: MPMC });
  intact('create');
  const count = 3000;
  const child = startFixture(t, 'ring-region-echo', [address, String(a), String(b), String(count), String(m)], { timeoutMs: 60_000 });
  const exited = finished(child);
  await lineFrom(child, /ready/);
  for (let i = 0; i < count; i++) {
    await toChild.writeAsync(message(i), { timeout: 30_000 });
    const echoed = await fromChild.readAsync({ timeout: 30_000 });
    t.is(echoed.length, message(i).length);
    t.is(check(echoed, i), -1);
    const copy = await mpmc.readAsync({ timeout: 30_000 });
    t.is(check(copy, i), -1);
    if (i % 500 === 0) intact(`message ${i}`);
  }
  const result = await exited;
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /"closed":true/);
  intact('child closed its segment');
  t.is(fromChild.tryRead(), null);
});

test('bad byteOffset and byteLength are refused with name=value', (t) => {
  const sab = new SharedArrayBuffer(8192);
  for (const [options, type, pattern] of [
    [{ byteOffset: 64 }, RangeError, /byteOffset=64/],
    [{ byteOffset: -128 }, RangeError, /byteOffset=-128/],
    [{ byteOffset: 128.5 }, RangeError, /byteOffset=128.5/],
    [{ byteOffset: '128' }, TypeError, /byteOffset="128"/],
    [{ byteOffset: 8320 }, RangeError, /byteOffset=8320/],
    [{ byteLength: -1 }, RangeError, /byteLength=-1/],
    [{ byteLength: 1.5 }, RangeError, /byteLength=1.5/],
    [{ byteLength: null }, TypeError, /byteLength=null/],
    [{ byteOffset: 4096, byteLength: 4097 }, RangeError, /byteLength=4097/],
  ] as const) {
    t.throws(() => SpscRing.create(sab, { capacity: 1024, ...(options as object) }), { instanceOf: type, message: pattern }, JSON.stringify(options));
    t.throws(() => SpscRing.open(sab, options as object), { instanceOf: type, message: pattern });
    t.throws(() => MpmcRing.create(sab, { slots: 4, slotSize: 64, ...(options as object) }), { instanceOf: type, message: pattern });
    t.throws(() => MpmcRing.open(sab, options as object), { instanceOf: type, message: pattern });
  }
  // A region too small for the ring asked for.
  t.throws(() => SpscRing.create(sab, { capacity: 1024, byteOffset: 128, byteLength: 1024 }), { instanceOf: RangeError, message: /capacity=1024.*1536 bytes.*region holds 1024/ });
  t.throws(() => SpscRing.create(sab, { byteOffset: 8192 - 256 }), { instanceOf: RangeError, message: /too small/ });
  t.throws(() => MpmcRing.create(sab, { slots: 4, slotSize: 64, byteOffset: 128, byteLength: 600 }), { instanceOf: RangeError, message: /region holds 600/ });
  // Without a capacity, the largest that fits the region.
  t.is(SpscRing.create(sab, { byteOffset: 128, byteLength: 4096 }).capacity, 2048);
});

test('opening at the wrong offset or over a truncated region is ERR_SHM_BAD_HEADER', (t) => {
  const sab = new SharedArrayBuffer(8192);
  SpscRing.create(sab, { capacity: 1024, byteOffset: 1024 });
  MpmcRing.create(sab, { slots: 4, slotSize: 64, byteOffset: 4096 });
  for (const byteOffset of [0, 128, 1152]) {
    t.throws(() => SpscRing.open(sab, { byteOffset }), { instanceOf: ShmError, code: 'ERR_SHM_BAD_HEADER' });
    t.throws(() => MpmcRing.open(sab, { byteOffset }), { instanceOf: ShmError, code: 'ERR_SHM_BAD_HEADER' });
  }
  t.throws(() => SpscRing.open(sab, { byteOffset: 4096 }), { code: 'ERR_SHM_BAD_HEADER', message: /MPMC/ });
  t.throws(() => SpscRing.open(sab, { byteOffset: 1024, byteLength: 1535 }), { code: 'ERR_SHM_BAD_HEADER', message: /truncated/ });
  t.throws(() => SpscRing.open(sab, { byteOffset: 1024, byteLength: 256 }), { code: 'ERR_SHM_BAD_HEADER' });
  t.throws(() => MpmcRing.open(sab, { byteOffset: 4096, byteLength: MpmcRing.requiredBytes(4, 64) - 8 }), { code: 'ERR_SHM_BAD_HEADER', message: /truncated/ });
  t.is(SpscRing.open(sab, { byteOffset: 1024, byteLength: 1536 }).capacity, 1024);
});

test('created at an address with a byteOffset, the segment ends where the ring does', (t) => {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: 1024, byteOffset: 256, role: 'producer' });
  t.teardown(() => ring.close());
  const segment = Segment.open(address);
  t.teardown(() => segment.close());
  t.is(segment.size, 256 + SpscRing.requiredBytes(1024));
  const consumer = SpscRing.open(address, { byteOffset: 256, role: 'consumer' });
  t.teardown(() => consumer.close());
  ring.write(new Uint8Array([1, 2, 3]));
  ring.flush();
  t.deepEqual([...consumer.read({ timeout: 5000 })], [1, 2, 3]);
  t.throws(() => SpscRing.open(address), { code: 'ERR_SHM_BAD_HEADER' });
  const mpmcAddress = shmAddress(t);
  const mpmc = MpmcRing.create(mpmcAddress, { slots: 4, slotSize: 64, byteOffset: 384 });
  t.teardown(() => mpmc.close());
  const mpmcSegment = Segment.open(mpmcAddress);
  t.teardown(() => mpmcSegment.close());
  t.is(mpmcSegment.size, 384 + MpmcRing.requiredBytes(4, 64));
  // A region too small for the ring is refused before the segment is made.
  const never = shmAddress(t);
  t.throws(() => SpscRing.create(never, { capacity: 1024, byteLength: 1024 }), { instanceOf: RangeError });
  t.throws(() => Segment.open(never), { code: 'ENOENT' });
});

test('closing a segment while a reader in another mapping waits on its ring: the ring closes, the reader is woken, nothing throws', async (t) => {
  const address = shmAddress(t);
  const size = SPSC_A;
  const writerSegment = Segment.create(address, { size });
  const readerSegment = Segment.open(address);
  t.teardown(() => readerSegment.close());
  const producer = SpscRing.create(writerSegment, { capacity: 1024, role: 'producer' });
  const consumer = SpscRing.open(readerSegment, { role: 'consumer' });
  const read = consumer.readAsync({ timeout: 30_000 });
  await new Promise((resolve) => setTimeout(resolve, 100)); // the reader is parked: its waiter is counted in the ring
  t.notThrows(() => writerSegment.close());
  t.true(producer.closed);
  const error = await t.throwsAsync(read);
  t.is((error as ShmError).code, 'ERR_CLOSED', 'the reader learns that the producer closed');
});
