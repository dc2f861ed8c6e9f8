// The SPSC consumer's check that a record fits what was published and the ring
// (consumer.ts #next: `size > available || index + size > capacity`), on the read paths
// that copy straight from the ring (records over 2 KiB skip the read-ahead copy, which has
// checks of its own). A length rewritten by a peer must give the corrupt-ring error, never
// unpublished bytes or bytes from past the end of the ring's region.
import test from 'ava';
import { ShmError, SpscRing } from '../src/index.js';
import { DATA_OFFSET, recordLengthIndex, recordOffset, recordSize, spscRingSize } from '../src/ring/layout/spsc.js';

const CAPACITY = 65536;
const RING_BYTES = spscRingSize(CAPACITY);
/** What lies after the ring's region in the same buffer (another user of the segment). */
const NEIGHBOUR = 0xee;

type ReadCall = (ring: SpscRing) => unknown;

const READS: Record<string, ReadCall> = {
  tryRead: (ring) => ring.tryRead(),
  tryReadInto: (ring) => ring.tryReadInto(new Uint8Array(CAPACITY)),
  drain: (ring) => ring.drain((view) => view.slice()),
};

/**
 * A ring of CAPACITY bytes at the start of a buffer twice its size whose second half is
 * NEIGHBOUR bytes. `fill` writes through the producer and reads through the consumer; then
 * the length word of the record at the consumer's head is rewritten to `length`.
 */
function ringWithForgedLength(fill: (producer: SpscRing, consumer: SpscRing) => number, length: number): { consumer: SpscRing; close: () => void } {
  const sab = new SharedArrayBuffer(2 * RING_BYTES);
  new Uint8Array(sab, RING_BYTES).fill(NEIGHBOUR);
  const producer = SpscRing.create(sab, { capacity: CAPACITY, byteLength: RING_BYTES, role: 'producer' });
  const consumer = SpscRing.open(sab, { byteLength: RING_BYTES, role: 'consumer' });
  const head = fill(producer, consumer);
  const i32 = new Int32Array(sab);
  i32[recordLengthIndex(recordOffset(head % CAPACITY))] = length;
  return {
    consumer,
    close: () => {
      producer.close();
      consumer.close();
    },
  };
}

for (const [call, read] of Object.entries(READS)) {
  test(`${call}: a 100-byte record whose length word is rewritten to 20,000 is the corrupt-ring error, not 20,000 unpublished bytes`, (t) => {
    const { consumer, close } = ringWithForgedLength((producer) => {
      t.true(producer.tryWrite(new Uint8Array(100).fill(1)));
      return 0;
    }, 20_000);
    t.teardown(close);
    t.true(20_000 <= consumer.maxMessageSize); // only the check of the published bytes stands in the way
    const err = t.throws(() => read(consumer), { instanceOf: ShmError });
    t.is(err?.code, 'ERR_SHM_BAD_HEADER');
    t.regex(err?.message ?? '', /corrupt ring: record of 20000 bytes at position 0 overruns the published data/);
    // The ring stays broken.
    t.is(t.throws(() => consumer.tryRead(), { instanceOf: ShmError })?.code, 'ERR_SHM_BAD_HEADER');
  });

  test(`${call}: a large record near the ring's end whose length runs past the end is the corrupt-ring error, not bytes from past the ring`, (t) => {
    const nearEnd = CAPACITY - 4096;
    const { consumer, close } = ringWithForgedLength((producer, consumer) => {
      // Move both sides to 4 KiB before the end of the data area.
      const step = new Uint8Array(4096 - 8);
      for (let at = 0; at < nearEnd; at += recordSize(step.length)) {
        t.true(producer.tryWrite(step));
        t.is(consumer.tryReadInto(new Uint8Array(step.length)), step.length);
      }
      // A 3,000-byte record there, then enough after the wrap that more than 20,008 bytes are published.
      t.true(producer.tryWrite(new Uint8Array(3000).fill(2)));
      for (let i = 0; i < 3; i++) t.true(producer.tryWrite(new Uint8Array(8000).fill(3)));
      t.true(producer.usedBytes >= recordSize(20_000), `${producer.usedBytes} bytes published`);
      return nearEnd;
    }, 20_000);
    t.teardown(close);
    t.true(nearEnd + recordSize(20_000) > CAPACITY); // it would run past the end of the data area
    t.is(DATA_OFFSET + nearEnd + recordSize(20_000) > RING_BYTES, true); // into the neighbour's bytes
    const err = t.throws(() => read(consumer), { instanceOf: ShmError });
    t.is(err?.code, 'ERR_SHM_BAD_HEADER');
    t.regex(err?.message ?? '', new RegExp(`corrupt ring: record of 20000 bytes at position ${nearEnd} overruns the published data`));
  });
}

test('control: the same rings with the length left alone read back what was written', (t) => {
  const { consumer, close } = ringWithForgedLength((producer) => {
    t.true(producer.tryWrite(new Uint8Array(100).fill(1)));
    return 0;
  }, 100);
  t.teardown(close);
  t.deepEqual(consumer.tryRead(), new Uint8Array(100).fill(1));
  t.is(consumer.tryRead(), null);
});
