// Linearizability of recorded histories: real processes share a ring, every call is logged
// with the monotonic clock before and after it (test/fixtures/history-peer.ts), and the
// checker (test/helpers/linearizability.ts) looks for a violation of a FIFO queue. First the
// checker's own control group: doctored copies of a real history (two dequeues swapped, one
// duplicated, one dropped, an empty answer moved into a busy stretch) must each be caught.
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MpmcRing, Segment, SpscRing } from '../src/index.js';
import { check, type History, historyOf } from './helpers/linearizability.js';
import { runFixture } from './helpers/processes.js';
import { shmAddress, tempDir } from './helpers/resources.js';

interface Run {
  producers: number;
  consumers: number;
  perProducer: number;
}

/** Runs the peers on a fresh ring of `kind` and returns the history they logged. */
async function record(t: ExecutionContext, kind: 'spsc' | 'mpmc', run: Run): Promise<History> {
  const address = shmAddress(t);
  const bytes = kind === 'spsc' ? SpscRing.requiredBytes(1024) : MpmcRing.requiredBytes(16, 16);
  const seg = Segment.create(address, { size: bytes + 8 });
  t.teardown(() => seg.close());
  if (kind === 'spsc') SpscRing.create(seg, { capacity: 1024 }).close();
  else MpmcRing.create(seg, { slots: 16, slotSize: 16 }).close();
  const dir = tempDir(t);
  const total = run.producers * run.perProducer;
  const out = (role: string, i: number) => join(dir, `${role}-${i}.json`);
  const options = { timeoutMs: 120_000 };
  const base = String(process.hrtime.bigint());
  const runs = [
    ...Array.from({ length: run.consumers }, (_, i) => runFixture(t, 'history-peer', [kind, 'consume', base, address, String(total), out('consume', i)], options)),
    ...Array.from({ length: run.producers }, (_, i) => runFixture(t, 'history-peer', [kind, 'produce', base, address, String(i), String(run.perProducer), out('produce', i)], options)),
  ];
  for (const r of await Promise.all(runs)) t.is(r.code, 0, r.stderr);
  const read = (role: string, n: number) => Array.from({ length: n }, (_, i) => JSON.parse(readFileSync(out(role, i), 'utf8')) as number[][]);
  return historyOf(read('produce', run.producers), read('consume', run.consumers));
}

test.serial('control group: the checker catches a reordering, a duplicate, a loss and a false empty in doctored real histories', async (t) => {
  t.timeout(180_000);
  const real = await record(t, 'spsc', { producers: 1, consumers: 1, perProducer: 2_000 });
  const clean = check(real);
  t.deepEqual(clean, { fresh: [], repeated: [], reordered: [], lost: [], falseEmpty: 0 });
  const copy = (): History => structuredClone(real);
  // Two dequeues far apart exchange their values: the later enqueue leaves first.
  const swapped = copy();
  const [i, j] = [10, 1_500];
  [swapped.dequeues[i]!.value, swapped.dequeues[j]!.value] = [swapped.dequeues[j]!.value, swapped.dequeues[i]!.value];
  t.true(check(swapped).reordered.length > 0, 'a reordering');
  const duplicated = copy();
  duplicated.dequeues.push({ ...duplicated.dequeues[7]!, start: duplicated.dequeues.at(-1)!.end + 1, end: duplicated.dequeues.at(-1)!.end + 2 });
  t.deepEqual(check(duplicated).repeated, [duplicated.dequeues[7]!.value], 'a duplicate');
  const dropped = copy();
  const gone = dropped.dequeues.splice(100, 1)[0]!;
  t.deepEqual(check(dropped).lost, [gone.value], 'a loss');
  // An empty answer placed where a value was enqueued before it and dequeued after it: the
  // value that stayed longest in the queue (its dequeue began longest after its enqueue ended).
  const busy = copy();
  const dequeued = new Map(busy.dequeues.map((x) => [x.value, x]));
  const stay = busy.enqueues.map((e) => ({ e, gap: dequeued.get(e.value)!.start - e.end })).sort((x, y) => y.gap - x.gap)[0]!;
  t.true(stay.gap > 2, 'some value stayed in the queue for a while');
  busy.empties.push({ start: stay.e.end + 1, end: stay.e.end + 2 });
  t.is(check(busy).falseEmpty, 1, 'a false empty');
});

test.serial('SPSC: a producer and a consumer process, 20,000 messages: the history is linearizable, empty answers included', async (t) => {
  t.timeout(180_000);
  const history = await record(t, 'spsc', { producers: 1, consumers: 1, perProducer: 20_000 });
  t.is(history.dequeues.length, 20_000);
  const v = check(history);
  t.log(`${history.enqueues.length} enqueues, ${history.dequeues.length} dequeues, ${history.empties.length} empty answers`);
  t.deepEqual(v, { fresh: [], repeated: [], reordered: [], lost: [], falseEmpty: 0 });
});

test.serial('MPMC: 2 producer and 2 consumer processes, 2 × 10,000 messages: enqueues and dequeues are linearizable; empty answers are counted', async (t) => {
  t.timeout(180_000);
  const history = await record(t, 'mpmc', { producers: 2, consumers: 2, perProducer: 10_000 });
  const v = check(history);
  // An MPMC ring (Vyukov's bounded queue) may answer empty while a producer that claimed an
  // earlier slot has not published it yet, though a later slot's write already returned:
  // its emptiness is weaker than a linearizable queue's, so those answers are only counted.
  t.log(`${history.enqueues.length} enqueues, ${history.dequeues.length} dequeues, ${history.empties.length} empty answers, ${v.falseEmpty} of them while a value was in the ring`);
  t.deepEqual({ ...v, falseEmpty: 0 }, { fresh: [], repeated: [], reordered: [], lost: [], falseEmpty: 0 });
});
