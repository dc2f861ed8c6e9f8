// Property-based fuzzing of corrupt rings: random bytes written over the header and over
// record/slot headers of a ring holding messages. Opening and using such a ring must end
// in a value or a clean error (ERR_SHM_BAD_HEADER), never a crash, a hang, an exception
// of another kind, or a message that could not have been written.
import test from 'ava';
import fc from 'fast-check';
import { MpmcRing, ShmError, SpscRing } from '../src/index.js';
import { DATA_OFFSET } from '../src/ring/layout/spsc.js';
import { CAPACITY, corrupt, corruption, MPMC_BYTES, mpmcWithMessages, spscWithMessages } from './helpers/corrupt-rings.js';


/**
 * What a corrupt ring may end in: ERR_SHM_BAD_HEADER, or ERR_ROLE_TAKEN when a scribbled
 * owner word names an owner that counts as alive (one of another PID namespace always does).
 */
function expectedFailure(err: unknown): boolean {
  return err instanceof ShmError && (err.code === 'ERR_SHM_BAD_HEADER' || err.code === 'ERR_ROLE_TAKEN');
}

interface Usable {
  tryRead(): Uint8Array | null;
  tryWrite(b: Uint8Array): boolean;
  maxMessageSize: number;
  close(): void;
}

/** Reads a possibly corrupt ring as a consumer, then writes to it as a producer; says what happened. */
function exercise(openConsumer: () => Usable, openProducer: () => Usable): string {
  const opened: Usable[] = [];
  try {
    const consumer = openConsumer();
    opened.push(consumer);
    for (let i = 0; i < 2 * CAPACITY; i++) {
      const m = consumer.tryRead();
      if (m === null) break;
      if (!(m instanceof Uint8Array) || m.length > consumer.maxMessageSize) throw new Error(`impossible message of ${m?.length} bytes`);
    }
    const producer = openProducer();
    opened.push(producer);
    for (let i = 0; i < 64; i++) if (!producer.tryWrite(new Uint8Array(i % 40))) break;
    return 'used';
  } catch (err) {
    if (expectedFailure(err)) return opened.length === 0 ? 'refused' : 'detected';
    throw err;
  } finally {
    for (const r of opened) r.close();
  }
}

test('SPSC: 5,000 corrupted headers and records end in a value or ERR_SHM_BAD_HEADER', (t) => {
  const outcomes = new Map<string, number>();
  fc.assert(
    fc.property(fc.boolean(), corruption(0, DATA_OFFSET + CAPACITY), (headerOnly, writes) => {
      const sab = spscWithMessages();
      corrupt(sab, writes, headerOnly);
      const outcome = exercise(() => SpscRing.open(sab, { role: 'consumer' }), () => SpscRing.open(sab, { role: 'producer' }));
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }),
    { numRuns: 5000, seed: 20261122 },
  );
  t.log(Object.fromEntries(outcomes));
  t.true((outcomes.get('refused') ?? 0) > 0 && (outcomes.get('detected') ?? 0) > 0, 'both kinds of detection happen');
});

test('MPMC: 5,000 corrupted headers and slots end in a value or ERR_SHM_BAD_HEADER', (t) => {
  const outcomes = new Map<string, number>();
  fc.assert(
    fc.property(fc.boolean(), corruption(0, MPMC_BYTES), (headerOnly, writes) => {
      const sab = mpmcWithMessages();
      corrupt(sab, writes, headerOnly);
      const outcome = exercise(() => MpmcRing.open(sab), () => MpmcRing.open(sab));
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }),
    { numRuns: 5000, seed: 20261122 },
  );
  t.log(Object.fromEntries(outcomes));
  t.true((outcomes.get('refused') ?? 0) > 0 && (outcomes.get('detected') ?? 0) > 0, 'both kinds of detection happen');
});

test('random garbage of any size is never taken for a ring', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 4096 }), (bytes) => {
      const sab = new SharedArrayBuffer(Math.max(bytes.length, 1));
      new Uint8Array(sab).set(bytes);
      t.is(exercise(() => SpscRing.open(sab), () => SpscRing.open(sab)), 'refused');
      t.is(exercise(() => MpmcRing.open(sab), () => MpmcRing.open(sab)), 'refused');
    }),
    { numRuns: 500, seed: 7 },
  );
});
