// The ring contract, written once and run for each ring kind over every backend.
import test, { type ExecutionContext } from 'ava';
import { MpmcRing, type Segment, ShmError, SpscRing } from '../src/index.js';
import { BACKENDS } from './helpers/backends.js';
import { sweep } from './helpers/resources.js';

test.after.always(sweep);

interface AnyRing {
  maxMessageSize: number;
  tryWrite(b: Uint8Array): boolean;
  tryWriteMany(b: Uint8Array[]): number;
  write(b: Uint8Array, o?: { timeout?: number }): void;
  writeAsync(b: Uint8Array, o?: { timeout?: number; signal?: AbortSignal }): Promise<void>;
  tryRead(): Uint8Array | null;
  read(o?: { timeout?: number }): Uint8Array;
  readAsync(o?: { timeout?: number; signal?: AbortSignal }): Promise<Uint8Array>;
  drain(fn: (v: Uint8Array) => void, max?: number): number;
  close(): void;
  stats: { messages: number; bytes: number; fullWaits: number; emptyWaits: number };
}

interface Kind {
  name: string;
  /** Bytes of segment for a ring that holds about `messages` messages of up to `max` bytes. */
  size: number;
  maxMessage: number;
  /** A producer on `target` and a consumer on `second` (a second mapping of it, for segments). */
  create(target: Segment | SharedArrayBuffer, second: Segment | SharedArrayBuffer): { producer: AnyRing; consumer: AnyRing };
  open(target: Segment | SharedArrayBuffer): AnyRing;
  other(target: Segment | SharedArrayBuffer): unknown;
}

const KINDS: Kind[] = [
  {
    name: 'SpscRing',
    size: SpscRing.requiredBytes(4096),
    maxMessage: 4096 / 2 - 8,
    create(target, second) {
      return { producer: SpscRing.create(target, { capacity: 4096, role: 'producer' }), consumer: SpscRing.open(second, { role: 'consumer' }) };
    },
    open: (target) => SpscRing.open(target),
    other: (target) => MpmcRing.open(target),
  },
  {
    name: 'MpmcRing',
    size: MpmcRing.requiredBytes(16, 512),
    maxMessage: 512 - 8,
    create(target, second) {
      const producer = MpmcRing.create(target, { slots: 16, slotSize: 512 });
      return { producer, consumer: MpmcRing.open(second) };
    },
    open: (target) => MpmcRing.open(target),
    other: (target) => SpscRing.open(target),
  },
];

function pattern(i: number, length: number): Uint8Array {
  const m = new Uint8Array(length);
  for (let j = 0; j < length; j++) m[j] = (i * 13 + j * 7) & 0xff;
  return m;
}

function same(a: Uint8Array | null, b: Uint8Array): boolean {
  return a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
}

function setup(t: ExecutionContext, kind: Kind, backend: (typeof BACKENDS)[number]) {
  const place = backend.make(t, kind.size);
  const rings = kind.create(place.target, place.reopen());
  t.teardown(() => {
    rings.producer.close();
    rings.consumer.close();
  });
  return { ...rings, place };
}

for (const kind of KINDS) {
  for (const backend of BACKENDS) {
    const title = (what: string) => `${kind.name} over ${backend.name}: ${what}`;

    test(title('messages of every size from 0 to the maximum arrive intact and in order'), (t) => {
      const { producer, consumer } = setup(t, kind, backend);
      const sizes = [0, 1, 7, 8, 9, 100, kind.maxMessage - 1, kind.maxMessage];
      for (const [i, size] of sizes.entries()) {
        t.true(producer.tryWrite(pattern(i, size)), `size ${size} fits an empty ring`);
        t.true(same(consumer.tryRead(), pattern(i, size)), `size ${size} arrives`);
      }
      t.is(consumer.tryRead(), null);
    });

    test(title('seeded random sizes wrap the ring many times without loss or reordering'), (t) => {
      const { producer, consumer } = setup(t, kind, backend);
      let seed = 12345;
      const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
      let written = 0;
      let read = 0;
      let bytes = 0;
      const queue: Uint8Array[] = [];
      while (written < 5000) {
        const m = pattern(written, Math.floor(random() * (kind.maxMessage / 4)));
        if (producer.tryWrite(m)) {
          queue.push(m);
          written++;
          bytes += m.length;
        }
        if (random() < 0.5 || queue.length > 8) {
          const got = consumer.tryRead();
          if (got !== null) {
            if (!same(got, queue.shift()!)) return t.fail(`message ${read} differs`);
            read++;
          }
        }
      }
      for (let got = consumer.tryRead(); got !== null; got = consumer.tryRead()) {
        if (!same(got, queue.shift()!)) return t.fail(`message ${read} differs`);
        read++;
      }
      t.is(read, 5000);
      t.is(queue.length, 0);
      t.is(producer.stats.messages, 5000);
      t.is(consumer.stats.bytes, bytes);
    });

    test(title('full gives false, empty gives null, and nothing is lost at the edge'), (t) => {
      const { producer, consumer } = setup(t, kind, backend);
      let n = 0;
      while (producer.tryWrite(pattern(n, 64))) n++;
      t.true(n > 0);
      t.true(producer.stats.fullWaits > 0);
      for (let i = 0; i < n; i++) t.true(same(consumer.tryRead(), pattern(i, 64)));
      t.is(consumer.tryRead(), null);
      t.true(producer.tryWrite(pattern(99, 64)), 'room again after reading');
      t.true(same(consumer.tryRead(), pattern(99, 64)));
    });

    test(title('tryWriteMany and drain move batches in order'), (t) => {
      const { producer, consumer } = setup(t, kind, backend);
      const batch = Array.from({ length: 10 }, (_, i) => pattern(i, 20 + i));
      t.is(producer.tryWriteMany(batch), 10);
      const seen: Uint8Array[] = [];
      t.is(consumer.drain((v) => seen.push(Uint8Array.from(v)), 4), 4);
      t.is(consumer.drain((v) => seen.push(Uint8Array.from(v))), 6);
      t.true(seen.every((m, i) => same(m, batch[i]!)));
      t.is(consumer.drain(() => t.fail('nothing to drain')), 0);
    });

    test(title('a message larger than the ring can ever hold is ERR_MESSAGE_TOO_LARGE and nothing is written'), (t) => {
      const { producer, consumer } = setup(t, kind, backend);
      t.throws(() => producer.tryWrite(new Uint8Array(kind.maxMessage + 1)), { instanceOf: ShmError, code: 'ERR_MESSAGE_TOO_LARGE' });
      t.throws(() => producer.write(new Uint8Array(kind.maxMessage + 1)), { code: 'ERR_MESSAGE_TOO_LARGE' });
      t.is(consumer.tryRead(), null);
      t.true(producer.tryWrite(pattern(1, 3)));
      t.true(same(consumer.tryRead(), pattern(1, 3)));
    });

    test(title('non-Uint8Array input is a TypeError; a Buffer is accepted'), (t) => {
      const { producer, consumer } = setup(t, kind, backend);
      for (const bad of ['text', [1, 2], new Uint16Array(2), new ArrayBuffer(4), null, undefined]) {
        t.throws(() => producer.tryWrite(bad as unknown as Uint8Array), { instanceOf: TypeError });
      }
      t.true(producer.tryWrite(Buffer.from('hello')));
      t.is(Buffer.from(consumer.tryRead()!).toString(), 'hello');
    });

    test(title('blocking read and write time out with ERR_TIMEOUT'), async (t) => {
      const { producer, consumer } = setup(t, kind, backend);
      t.throws(() => consumer.read({ timeout: 20 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' });
      await t.throwsAsync(consumer.readAsync({ timeout: 20 }), { code: 'ERR_TIMEOUT' });
      while (producer.tryWrite(pattern(0, 100)));
      t.throws(() => producer.write(pattern(0, 100), { timeout: 20 }), { code: 'ERR_TIMEOUT' });
      await t.throwsAsync(producer.writeAsync(pattern(0, 100), { timeout: 20 }), { code: 'ERR_TIMEOUT' });
      t.true(consumer.stats.emptyWaits > 0);
    });

    test(title('readAsync resolves when a message arrives; writeAsync when room appears'), async (t) => {
      const { producer, consumer } = setup(t, kind, backend);
      const reading = consumer.readAsync({ timeout: 10_000 });
      setTimeout(() => producer.tryWrite(pattern(5, 50)), 10);
      t.true(same(await reading, pattern(5, 50)));
      let n = 0;
      while (producer.tryWrite(pattern(n, 100))) n++;
      const writing = producer.writeAsync(pattern(n, 100), { timeout: 10_000 });
      setTimeout(() => consumer.tryRead(), 10);
      await writing;
      for (let i = 1; i <= n; i++) t.true(same(consumer.tryRead(), pattern(i, 100)));
    });

    test(title('an aborted readAsync rejects with ERR_ABORTED; close settles pending calls with ERR_CLOSED'), async (t) => {
      const { consumer } = setup(t, kind, backend);
      const controller = new AbortController();
      const aborted = consumer.readAsync({ signal: controller.signal });
      setTimeout(() => controller.abort(), 5);
      await t.throwsAsync(aborted, { code: 'ERR_ABORTED' });
      const pending = consumer.readAsync();
      setTimeout(() => consumer.close(), 5);
      await t.throwsAsync(pending, { instanceOf: ShmError, code: 'ERR_CLOSED' });
      t.throws(() => consumer.tryRead(), { code: 'ERR_CLOSED' });
      consumer.close();
    });

    test(title('open validates: the other kind and foreign bytes are ERR_SHM_BAD_HEADER; open never reinitialises'), (t) => {
      const { producer, consumer, place } = setup(t, kind, backend);
      t.true(producer.tryWrite(pattern(1, 10)));
      consumer.close(); // an SPSC consumer role is free again only once its holder closes
      t.throws(() => kind.other(place.reopen()), { instanceOf: ShmError, code: 'ERR_SHM_BAD_HEADER' });
      const again = kind.open(place.reopen());
      t.true(same(again.tryRead(), pattern(1, 10)), 'the message written before open is still there');
      again.close();
    });

    if (backend.name !== 'SharedArrayBuffer') {
      test(title('a segment closed under a live ring: reads give ERR_CLOSED, not corruption, and the message stays'), async (t) => {
        const place = backend.make(t, kind.size);
        const { producer, consumer: first } = kind.create(place.target, place.reopen());
        first.close(); // the consumer below lives in a segment of its own
        const seg = place.reopen() as Segment;
        const consumer = kind.open(seg);
        t.teardown(() => {
          producer.close();
          consumer.close();
        });
        t.true(producer.tryWrite(pattern(1, 10)));
        t.true(same(consumer.tryRead(), pattern(1, 10)));
        t.true(producer.tryWrite(pattern(2, 10)));
        producer.tryWrite(pattern(3, 10));
        (producer as SpscRing).flush?.();
        seg.close();
        t.throws(() => consumer.tryRead(), { instanceOf: ShmError, code: 'ERR_CLOSED' });
        t.throws(() => consumer.drain(() => t.fail('no message can be read')), { instanceOf: ShmError, code: 'ERR_CLOSED' });
        t.throws(() => consumer.read({ timeout: 200 }), { instanceOf: ShmError, code: 'ERR_CLOSED' });
        await t.throwsAsync(consumer.readAsync({ timeout: 200 }), { instanceOf: ShmError, code: 'ERR_CLOSED' });
        if (seg !== place.target) {
          consumer.close();
          const again = kind.open(place.target);
          t.teardown(() => again.close());
          t.true(same(again.tryRead(), pattern(2, 10)), 'nothing was lost');
        }
      });
    }
  }
}

test('foreign bytes, a truncated segment and bad parameters are refused when opening', (t) => {
  const sab = new SharedArrayBuffer(512 + 4096);
  new Uint8Array(sab).fill(0xab);
  t.throws(() => SpscRing.open(sab), { instanceOf: ShmError, code: 'ERR_SHM_BAD_HEADER', message: /magic/ });
  t.throws(() => MpmcRing.open(sab), { code: 'ERR_SHM_BAD_HEADER' });
  t.throws(() => SpscRing.open(new SharedArrayBuffer(100)), { code: 'ERR_SHM_BAD_HEADER', message: /cannot hold/ });
  const ring = SpscRing.create(new SharedArrayBuffer(512 + 4096), { capacity: 4096 });
  ring.close();
  const big = new SharedArrayBuffer(512 + 8192);
  SpscRing.create(big, { capacity: 8192 }).close();
  const header = new Int32Array(big);
  const truncated = new SharedArrayBuffer(512 + 4096);
  new Int32Array(truncated).set(header.subarray(0, truncated.byteLength / 4));
  t.throws(() => SpscRing.open(truncated), { code: 'ERR_SHM_BAD_HEADER', message: /truncated/ });
  header[1] = 99; // version
  t.throws(() => SpscRing.open(big), { code: 'ERR_SHM_BAD_HEADER', message: /version 99/ });
  header[1] = 1;
  header[4] = 3000; // capacity, not a power of two
  t.throws(() => SpscRing.open(big), { code: 'ERR_SHM_BAD_HEADER', message: /capacity/ });
  header[4] = 4096; // disagrees with the total size
  t.throws(() => SpscRing.open(big), { code: 'ERR_SHM_BAD_HEADER', message: /total size/ });
});

test('capacity and slot parameters are checked', (t) => {
  const sab = new SharedArrayBuffer(512 + 65536);
  for (const capacity of [0, 63, 100, 3000, -64, 1.5, 2 ** 31]) {
    t.throws(() => SpscRing.create(sab, { capacity }), { instanceOf: RangeError, message: /^capacity=/ });
  }
  t.throws(() => SpscRing.create(sab, { capacity: '64' as unknown as number }), { instanceOf: TypeError });
  t.throws(() => SpscRing.create(sab, { capacity: 131072 }), { instanceOf: RangeError, message: /needs/ });
  t.throws(() => SpscRing.create(new SharedArrayBuffer(100)), { instanceOf: RangeError });
  t.is(SpscRing.create(sab).capacity, 65536, 'the largest capacity that fits by default');
  for (const [slots, slotSize] of [[3, 64], [1, 64], [16, 12], [16, 8], [16, 100]] as const) {
    t.throws(() => MpmcRing.create(sab, { slots, slotSize }), { instanceOf: RangeError });
  }
  t.throws(() => MpmcRing.create(sab, { slots: 1024, slotSize: 1024 }), { instanceOf: RangeError, message: /needs/ });
  t.throws(() => SpscRing.create(sab, { role: 'both' as 'producer' }), { instanceOf: TypeError });
  t.throws(() => SpscRing.create(42 as unknown as SharedArrayBuffer), { instanceOf: TypeError });
});
