// The order of stores in the publication protocols, observed by wrapping Atomics.store:
// at the moment a ring publishes (SPSC tail, MPMC slot sequence), the record it publishes
// must already be complete; at the moment a consumer releases space, it must already
// have copied the message out.
import test from 'ava';
import { MpmcRing, SpscRing } from '../src/index.js';
import { i32Index } from '../src/ring/layout/header.js';
import { DEFAULT_PARTICIPANTS, SLOT_HEADER_SIZE, SLOT_LENGTH_OFFSET, SLOT_SEQUENCE_OFFSET, slotOffset as slotAt } from '../src/ring/layout/mpmc.js';

const slotOffset = (i: number, slotSize: number) => slotAt(i, slotSize, DEFAULT_PARTICIPANTS);
import { DATA_OFFSET, HEAD_OFFSET, RECORD_HEADER_SIZE, RECORD_LENGTH_OFFSET, RECORD_TYPE_OFFSET, TAIL_OFFSET, TYPE_MESSAGE } from '../src/ring/layout/spsc.js';

type Store = typeof Atomics.store;

/** Runs fn with Atomics.store wrapped by `spy`, which sees each store before it happens. */
function withStoreSpy(spy: (array: ArrayLike<number | bigint>, index: number, value: number | bigint) => void, fn: () => void): void {
  const original: Store = Atomics.store;
  (Atomics as { store: unknown }).store = (array: Int32Array, index: number, value: number) => {
    spy(array, index, value);
    return original(array, index, value);
  };
  try {
    fn();
  } finally {
    (Atomics as { store: Store }).store = original;
  }
}

/**
 * An SPSC ring of `capacity` over a SharedArrayBuffer, its producer and consumer handles,
 * and a store spy for it: at each tail store, every record between the old and the new
 * tail must be complete (its payload is `length & 0xff` repeated); at each head store, the
 * released bytes are scribbled over, so a consumer that still used them after releasing
 * them would see the scribble. What the spy finds goes to `events`.
 */
function spscUnderSpy(capacity: number) {
  const sab = new SharedArrayBuffer(DATA_OFFSET + capacity);
  const producer = SpscRing.create(sab, { capacity, role: 'producer' });
  const consumer = SpscRing.open(sab, { role: 'consumer' });
  const events: string[] = [];
  const view = new DataView(sab);
  const bytes = new Uint8Array(sab);
  const counts = { tailStores: 0, headStores: 0, messages: 0 };
  const spy = (array: ArrayLike<number | bigint>, index: number, value: number | bigint) => {
    if ((array as Int32Array).buffer !== sab) return;
    if (index === i32Index(TAIL_OFFSET)) {
      counts.tailStores++;
      const oldTail = view.getUint32(TAIL_OFFSET, true);
      for (let pos = oldTail; pos !== (Number(value) >>> 0); ) {
        const at = DATA_OFFSET + (pos & (capacity - 1));
        const length = view.getInt32(at + RECORD_LENGTH_OFFSET, true);
        const type = view.getInt32(at + RECORD_TYPE_OFFSET, true);
        if (type === TYPE_MESSAGE) {
          const payload = bytes.subarray(at + RECORD_HEADER_SIZE, at + RECORD_HEADER_SIZE + length);
          events.push(payload.every((b) => b === (length & 0xff)) ? 'complete' : 'INCOMPLETE');
          pos = (pos + RECORD_HEADER_SIZE + ((length + 7) & ~7)) >>> 0;
          counts.messages++;
        } else {
          pos = (pos + capacity - (pos & (capacity - 1))) >>> 0;
        }
      }
    } else if (index === i32Index(HEAD_OFFSET)) {
      counts.headStores++;
      const oldHead = view.getUint32(HEAD_OFFSET, true);
      for (let pos = oldHead; pos !== (Number(value) >>> 0); pos = (pos + 1) >>> 0) bytes[DATA_OFFSET + (pos & (capacity - 1))] = 0xee;
    }
  };
  return { producer, consumer, events, spy, counts };
}

test.serial('SPSC: payload, then record header, then tail; the consumer copies before it stores the head', (t) => {
  const { producer, consumer, events, spy, counts } = spscUnderSpy(256);
  withStoreSpy(spy, () => {
    for (let i = 1; i < 200; i++) {
      const length = i % 60;
      if (!producer.tryWrite(new Uint8Array(length).fill(length & 0xff))) {
        const got = consumer.tryRead()!;
        if (!got.every((b) => b === (got.length & 0xff))) events.push('COPIED AFTER RELEASE');
        i--;
      }
    }
  });
  t.true(counts.messages > 150);
  t.deepEqual([...new Set(events)], ['complete']);
});

test.serial('SPSC batches of large messages: tryWriteMany publishes and drain releases a batch\'s worth at a time, in protocol order', (t) => {
  // 4 KiB is the most a batch defers (capacity / 8 here is more): 3,000-byte messages are
  // published (and released) every second message, not once for the whole call.
  const { producer, consumer, events, spy, counts } = spscUnderSpy(65536);
  const messages = Array.from({ length: 16 }, () => new Uint8Array(3000).fill(3000 & 0xff));
  const seen: number[] = [];
  withStoreSpy(spy, () => {
    for (let round = 0; round < 5; round++) {
      const before = { ...counts };
      t.is(producer.tryWriteMany(messages), 16);
      t.true(counts.tailStores - before.tailStores >= 8, `tail stores in one tryWriteMany: ${counts.tailStores - before.tailStores}`);
      t.is(counts.messages - before.messages, 16);
      const n = consumer.drain((view) => {
        seen.push(counts.headStores - before.headStores);
        // A release that covered this message before fn ran would have scribbled over it.
        if (view.length !== 3000 || !view.every((b) => b === (3000 & 0xff))) events.push('RELEASED BEFORE USE');
      });
      t.is(n, 16);
      t.true(counts.headStores - before.headStores >= 8, `head stores in one drain: ${counts.headStores - before.headStores}`);
    }
  });
  // Within a drain, the releases came while it ran, not all at its end.
  t.true(seen.some((stores) => stores > 0));
  t.deepEqual([...new Set(events)], ['complete']);
});

test.serial('MPMC: length and payload, then the slot sequence; the consumer copies before it frees the slot', (t) => {
  const slots = 4;
  const slotSize = 64;
  const sab = new SharedArrayBuffer(slotOffset(slots, slotSize));
  const ring = MpmcRing.create(sab, { slots, slotSize });
  const view = new DataView(sab);
  const bytes = new Uint8Array(sab);
  const events: string[] = [];
  withStoreSpy((array, index, value) => {
    if ((array as Int32Array).buffer !== sab) return;
    const slot = Math.floor((index * 4 - slotOffset(0, slotSize)) / slotSize);
    if (slot < 0 || slot >= slots || index * 4 !== slotOffset(slot, slotSize) + SLOT_SEQUENCE_OFFSET) return;
    const at = slotOffset(slot, slotSize);
    const current = view.getInt32(at + SLOT_SEQUENCE_OFFSET, true);
    if (Number(value) === current + 1) {
      const length = view.getInt32(at + SLOT_LENGTH_OFFSET, true);
      const payload = bytes.subarray(at + SLOT_HEADER_SIZE, at + SLOT_HEADER_SIZE + length);
      events.push(payload.every((b) => b === (length & 0xff)) ? 'complete' : 'INCOMPLETE');
    } else {
      bytes.fill(0xee, at + SLOT_HEADER_SIZE, at + slotSize); // freeing: scribble
    }
  }, () => {
    for (let i = 1; i < 100; i++) {
      const length = i % 50;
      if (!ring.tryWrite(new Uint8Array(length).fill(length & 0xff))) {
        const got = ring.tryRead()!;
        if (!got.every((b) => b === (got.length & 0xff))) events.push('COPIED AFTER FREE');
        i--;
      }
    }
  });
  t.deepEqual([...new Set(events)], ['complete']);
});
