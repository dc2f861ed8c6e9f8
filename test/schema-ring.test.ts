// Schemas over real rings: records claimed and encoded in place, read back decoded or
// through the flyweight, across the wrap and between processes; a refused value leaves the
// ring as it was; hostile records (fast-check) are refused as ERR_BAD_MESSAGE and never read
// outside themselves.
import test from 'ava';
import fc from 'fast-check';
import { Segment, ShmError, SpscRing, struct } from '../src/index.js';
import { finished, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const Point = struct({ x: 'f64', y: 'f64' });
const Rec = struct({ id: 'u32', ok: 'bool', name: 'utf8(12)', at: Point, v: 'i16[3]', big: 'u64', body: 'utf8*' }, { name: 'Rec' });

/** Reads every field of a flyweight, nested ones too. */
function touch(view: Record<string, unknown>): void {
  for (const key in view) {
    const value = view[key];
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array)) touch(value as Record<string, unknown>);
  }
}

function pair(capacity = 4096): { p: SpscRing; c: SpscRing } {
  const sab = new SharedArrayBuffer(SpscRing.requiredBytes(capacity));
  return { p: SpscRing.create(sab, { capacity, role: 'producer' }), c: SpscRing.open(sab, { role: 'consumer' }) };
}

/** A seeded record: every field a function of i. */
function rec(i: number) {
  return { id: i, ok: i % 3 === 0, name: 'né'.repeat(i % 5), at: { x: i / 2, y: -i }, v: [i % 100, (i % 7) * -1 || 0, 3], big: BigInt(i) * 0x1_0000_0001n, body: 'b'.repeat(i % 50) + '€'.repeat(i % 3) };
}

test('records written in place are read back, decoded and through the flyweight, across many wraps', (t) => {
  const { p, c } = pair(4096);
  let read = 0;
  let viewed = 0;
  for (let i = 0; i < 5000; i++) {
    if (i % 2 === 0) Rec.write(p, rec(i));
    else t.true(Rec.tryWrite(p, rec(i)));
    if (i % 2 === 0) {
      t.deepEqual(Rec.tryRead(c), rec(read++));
    } else {
      t.is(
        Rec.drain(c, (view) => {
          const want = rec(read++);
          if (view.id !== want.id || view.body !== want.body || (view.at as { y: number }).y !== want.at.y || view.big !== want.big) t.fail(`record ${want.id}`);
          viewed++;
        }),
        1,
      );
    }
  }
  t.is(read, 5000);
  t.is(viewed, 2500);
  t.is(Rec.tryRead(c), null);
});

test('tryWrite is false on a full ring; a refused value leaves the ring unchanged', (t) => {
  const { p, c } = pair(4096);
  let n = 0;
  while (Rec.tryWrite(p, rec(n))) n++;
  t.true(n > 10);
  const used = p.usedBytes;
  t.throws(() => Rec.tryWrite(p, { ...rec(1), id: -1 }), { instanceOf: RangeError, message: /^id=-1/ });
  t.throws(() => Rec.write(p, { ...rec(1), name: 'x'.repeat(13) }, { timeout: 0 }), { instanceOf: RangeError, message: /^name=/ });
  t.is(p.usedBytes, used);
  for (let i = 0; i < 3; i++) t.deepEqual(Rec.tryRead(c), rec(i));
  // With room, a refusal found while encoding into the claim drops the claim: nothing is published.
  const before = p.usedBytes;
  let reads = 0;
  const sneaky = {
    ...rec(5),
    get body() {
      return reads++ === 0 ? 'short' : 'now a longer body';
    },
  };
  t.throws(() => Rec.tryWrite(p, sneaky), { instanceOf: RangeError, message: /^body=/ });
  t.is(p.usedBytes, before);
  t.true(Rec.tryWrite(p, rec(99)), 'the ring takes the next write');
  for (let i = 3; i < n; i++) t.deepEqual(Rec.tryRead(c), rec(i));
  t.deepEqual(Rec.tryRead(c), rec(99));
});

test('the flyweight of a drained record is reused: read after the next record, it shows that one', (t) => {
  const { p, c } = pair(4096);
  Rec.write(p, rec(1));
  Rec.write(p, rec(2));
  let kept: Record<string, unknown> | undefined;
  Rec.drain(c, (view) => (kept = view), 1);
  t.is(kept!.id, 1);
  Rec.drain(c, () => {}, 1);
  t.is(kept!.id, 2, 'the same object now views the second record');
});

test('a corrupt record is consumed and refused; the next one reads', (t) => {
  const { p, c } = pair(4096);
  const bad = Rec.encode(rec(3));
  bad[4] = 7; // ok: a bool of 7
  p.tryWrite(bad);
  p.tryWrite(new Uint8Array(5)); // shorter than the layout
  Rec.write(p, rec(4));
  t.throws(() => Rec.tryRead(c), { instanceOf: ShmError, code: 'ERR_BAD_MESSAGE', message: /field ok: a bool of 7/ });
  t.throws(() => Rec.tryRead(c), { code: 'ERR_BAD_MESSAGE', message: /shorter than the fixed part/ });
  t.deepEqual(Rec.tryRead(c), rec(4));
});

test('fast-check: hostile records through a real ring are read or refused with ERR_BAD_MESSAGE, never past their bytes', (t) => {
  const { p, c } = pair(1 << 16);
  const Fixed = struct({ a: 'u8', s: 'utf8(5)', b: 'bytes(3)', f: 'utf8[4]', ok: 'bool', n: 'u64:number', arr: 'bool[2]' });
  const valid = Rec.encode(rec(7));
  const arbitrary = fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 256 }),
    // valid records with a few bytes changed, and cut or lengthened
    fc.tuple(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.integer({ min: -8, max: 8 })).map(([edits, delta]) => {
      const b = new Uint8Array(Math.max(0, valid.length + delta));
      b.set(valid.subarray(0, Math.min(valid.length, b.length)));
      for (const [at, v] of edits) if (at < b.length) b[at] = v;
      return b;
    }),
  );
  let refused = 0;
  let decoded = 0;
  fc.assert(
    fc.property(arbitrary, (bytes) => {
      for (const schema of [Rec, Fixed]) {
        // Through the ring: the record is consumed whatever it holds.
        t.true(p.tryWrite(bytes));
        try {
          schema.tryRead(c);
          decoded++;
        } catch (err) {
          if ((err as ShmError).code !== 'ERR_BAD_MESSAGE') throw err;
          refused++;
        }
        // At the very end of its buffer: a read past the record would throw a RangeError here.
        const edge = new Uint8Array(new ArrayBuffer(bytes.length + 3), 3);
        edge.set(bytes);
        for (const read of [() => schema.decode(edge), () => touch(schema.view(edge))]) {
          try {
            read();
          } catch (err) {
            if ((err as ShmError).code !== 'ERR_BAD_MESSAGE') throw err;
          }
        }
      }
      return c.usedBytes === 0;
    }),
    { numRuns: 2000, seed: 20261205 },
  );
  t.true(refused > 100, `${refused} refused`);
  t.true(decoded > 10, `${decoded} decoded`);
});

test('records between two processes over a segment: the child writes in place, the parent reads', async (t) => {
  t.timeout(60_000);
  const address = shmAddress(t);
  const count = 20_000;
  const ring = SpscRing.create(address, { capacity: 1 << 14, role: 'consumer' });
  t.teardown(() => {
    ring.close();
    try {
      Segment.unlink(address);
    } catch {
      // removed already
    }
  });
  const child = startFixture(t, 'schema-writer', ['ring', address, String(count)], { timeoutMs: 55_000 });
  const done = finished(child);
  for (let i = 0; i < count; i++) {
    const got = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const look = () => {
        try {
          const r = Rec.tryRead(ring);
          if (r !== null) return resolve(r);
          ring.waitReadableAsync({ timeout: 10_000 }).then(look, reject);
        } catch (err) {
          reject(err);
        }
      };
      look();
    });
    if (got.id !== i) t.fail(`record ${i} came as ${String(got.id)}`);
    if (i % 997 === 0) t.deepEqual(got, rec(i));
  }
  const { code, stderr } = await done;
  t.is(code, 0, stderr);
});

export { rec };
