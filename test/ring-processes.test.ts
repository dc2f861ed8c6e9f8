// Rings across real processes: long seeded SPSC streams that wrap the ring many times,
// and MPMC with more processes than cores.
import test, { type ExecutionContext } from 'ava';
import { MpmcRing, Segment, SpscRing } from '../src/index.js';
import { runFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const CAPACITY = 1024;
const QUARTER = CAPACITY / 4;

async function stream(t: ExecutionContext, count: number, producerMode: string, consumerMode: string) {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: CAPACITY });
  t.teardown(() => ring.close());
  const args = [address, String(count), '20261122', String(QUARTER)];
  const [producer, consumer] = await Promise.all([
    runFixture(t, 'spsc-producer', [...args, producerMode], { timeoutMs: 120_000 }),
    runFixture(t, 'spsc-consumer', [...args, consumerMode], { timeoutMs: 120_000 }),
  ]);
  t.is(producer.code, 0, producer.stderr);
  t.is(consumer.code, 0, consumer.stderr);
  const summary = JSON.parse(consumer.stdout) as { received: number; bytes: number; error: string | null };
  t.is(summary.error, null);
  t.is(summary.received, count);
  t.true(summary.bytes / CAPACITY > 100, `the ring wrapped ${Math.floor(summary.bytes / CAPACITY)} times`);
}

test('SPSC: 1,000,000 seeded messages of 0..256 bytes, blocking write → drain, every byte checked', async (t) => {
  await stream(t, 1_000_000, 'write', 'drain');
});

test('SPSC: writeAsync → readAsync', async (t) => {
  await stream(t, 50_000, 'writeAsync', 'readAsync');
});

test('SPSC: zero-copy claims, blocking while full → blocking read', async (t) => {
  await stream(t, 100_000, 'claim', 'read');
});

test('SPSC: zero-copy claimAsync → drain; tryClaim polling → readAsync', async (t) => {
  await stream(t, 30_000, 'claimAsync', 'drain');
  await stream(t, 30_000, 'tryClaim', 'readAsync');
});

test('SPSC: batches of 16 published at once → async iteration until the producer closes', async (t) => {
  await stream(t, 100_000, 'batch', 'iterate');
});

test('MPMC: 3 producers × 3 consumers, every message exactly once, per-producer order kept', async (t) => {
  const address = shmAddress(t);
  const slots = 64;
  const slotSize = 32;
  const seg = Segment.create(address, { size: MpmcRing.requiredBytes(slots, slotSize) + 8 });
  t.teardown(() => seg.close());
  MpmcRing.create(seg, { slots, slotSize }).close();
  const perProducer = 20_000;
  const total = 3 * perProducer;
  const consumers = [0, 1, 2].map(() => runFixture(t, 'mpmc-worker', ['consume', address, String(total)], { timeoutMs: 120_000 }));
  const producers = [0, 1, 2].map((id) => runFixture(t, 'mpmc-worker', ['produce', address, String(id), String(perProducer)], { timeoutMs: 120_000 }));
  const results = await Promise.all([...producers, ...consumers]);
  for (const r of results) t.is(r.code, 0, r.stderr);
  const seen = [0, 1, 2].map(() => new Uint8Array(perProducer));
  let duplicates = 0;
  let outOfOrder = 0;
  for (const r of results.slice(3)) {
    const got = JSON.parse(r.stdout) as Record<string, number[]>;
    for (const [id, seqs] of Object.entries(got)) {
      for (let i = 0; i < seqs.length; i++) {
        if (seen[Number(id)]![seqs[i]!]!++ > 0) duplicates++;
        if (i > 0 && seqs[i]! <= seqs[i - 1]!) outOfOrder++;
      }
    }
  }
  t.is(duplicates, 0);
  t.is(outOfOrder, 0, 'each consumer sees each producer’s messages in order');
  t.is(seen.reduce((n, s) => n + s.filter((x) => x === 1).length, 0), total, 'every message delivered');
});
