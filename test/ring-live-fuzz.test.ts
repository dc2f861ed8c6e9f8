// Corruption while a ring is in use: a worker thread writes random values into the live
// header, registry, records and slots of a ring while this thread keeps using it. Every
// operation must end in a value or a clean ShmError (the ring is then formatted again),
// never a crash, a hang, an exception of another kind, or an impossible message. Blocking
// calls run too, with a 1 ms timeout: ERR_TIMEOUT ends them, or ERR_PEER_DEAD and ERR_CLOSED
// when a scribbled owner word names no live process or the closed flag is set; never a hang.
import test, { type ExecutionContext } from 'ava';
import { Worker } from 'node:worker_threads';
import { MpmcRing, ShmError, SpscRing } from '../src/index.js';

const SCRIBBLER = `
  const { workerData } = require('node:worker_threads');
  const { sab, count } = workerData;
  const ring = new Int32Array(sab, 0, (sab.byteLength - 64) / 4);
  const control = new Int32Array(sab, sab.byteLength - 64, 16);
  let x = 12345;
  const next = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
  const values = [0, -1, 1, 8, 16, 0x7fffffff, -0x80000000, 64, 4096];
  while (Atomics.load(control, 1) === 0) {
    const at = next() % ring.length;
    const v = next() & 1 ? values[next() % values.length] : next() | 0;
    Atomics.store(ring, at, v);
    Atomics.add(control, 0, 1);
    if (Atomics.load(control, 0) >= count) break;
    Atomics.wait(control, 2, 0, 0.01); // let the ring be used between corruptions
  }
`;

const EXPECTED = new Set(['ERR_SHM_BAD_HEADER', 'ERR_ROLE_TAKEN', 'ERR_TOO_MANY_PARTICIPANTS', 'ERR_CLAIM_PENDING']);

/** A blocking call with a short timeout: its value, or null when it timed out, found its peer dead or the ring closed. */
function blocking<T>(call: () => T): T | null {
  try {
    return call();
  } catch (err) {
    if (err instanceof ShmError && ['ERR_TIMEOUT', 'ERR_PEER_DEAD', 'ERR_CLOSED'].includes(err.code)) return null;
    throw err;
  }
}

async function scribbleWhileUsing(t: ExecutionContext, ringBytes: number, format: (sab: SharedArrayBuffer) => { use: () => void; close: () => void }) {
  const sab = new SharedArrayBuffer(ringBytes + 64);
  const control = new Int32Array(sab, ringBytes, 16);
  const corruptions = 10_000;
  const worker = new Worker(SCRIBBLER, { eval: true, workerData: { sab, count: corruptions } });
  t.teardown(() => worker.terminate());
  const done = new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  let detected = 0;
  let operations = 0;
  const fresh = () => {
    // Formatting and attaching race with the scribbler too: they may be refused as well.
    for (;;) {
      try {
        return format(sab);
      } catch (err) {
        if (!(err instanceof ShmError) || !EXPECTED.has(err.code)) throw err;
        detected++;
      }
    }
  };
  let current = fresh();
  const deadline = Date.now() + 60_000;
  while (Atomics.load(control, 0) < corruptions && Date.now() < deadline) {
    try {
      current.use();
      operations++;
    } catch (err) {
      if (!(err instanceof ShmError) || !EXPECTED.has(err.code)) {
        Atomics.store(control, 1, 1);
        throw err;
      }
      detected++;
      current.close();
      current = fresh();
    }
    if (operations % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  Atomics.store(control, 1, 1);
  await done;
  current.close();
  t.log(`${Atomics.load(control, 0)} corruptions, ${operations} clean operations, ${detected} detected`);
  t.true(Atomics.load(control, 0) >= corruptions);
  t.true(detected > 0);
}

test('SPSC used by both roles while its memory is scribbled on', async (t) => {
  await scribbleWhileUsing(t, SpscRing.requiredBytes(1024), (sab) => {
    const producer = SpscRing.create(sab, { capacity: 1024, role: 'producer' });
    const consumer = SpscRing.open(sab, { role: 'consumer' });
    const target = new Uint8Array(1024);
    let i = 0;
    return {
      use() {
        producer.tryWrite(new Uint8Array(i++ % 100));
        producer.flush();
        const m = consumer.tryRead();
        if (m !== null && m.length > consumer.maxMessageSize) throw new Error(`impossible message of ${m.length} bytes`);
        consumer.drain((v) => {
          if (v.length > consumer.maxMessageSize) throw new Error('impossible view');
        }, 4);
        // The ring is empty here: a blocking write, then a blocking read of it (which waits
        // only when the scribbler got in the way), by readInto or read in turn.
        blocking(() => producer.write(new Uint8Array(i % 100), { timeout: 1 }));
        const n = i & 1 ? (blocking(() => consumer.readInto(target, { timeout: 1 })) ?? -1) : (blocking(() => consumer.read({ timeout: 1 }))?.length ?? -1);
        if (n > consumer.maxMessageSize) throw new Error(`impossible message of ${n} bytes`);
      },
      close() {
        producer.close();
        consumer.close();
      },
    };
  });
});

test('MPMC used by two handles while its memory is scribbled on', async (t) => {
  await scribbleWhileUsing(t, MpmcRing.requiredBytes(16, 64, 4), (sab) => {
    const a = MpmcRing.create(sab, { slots: 16, slotSize: 64, participants: 4, repairDelayMs: 0 });
    const b = MpmcRing.open(sab, { repairDelayMs: 0 });
    let i = 0;
    return {
      use() {
        a.tryWrite(new Uint8Array(i++ % 56));
        const m = b.tryRead();
        if (m !== null && m.length > b.maxMessageSize) throw new Error(`impossible message of ${m.length} bytes`);
        // Empty again: a blocking write, then a blocking read of it (which waits only when the
        // scribbler got in the way).
        blocking(() => a.write(new Uint8Array(i % 56), { timeout: 1 }));
        const r = blocking(() => b.read({ timeout: 1 }));
        if (r !== null && r.length > b.maxMessageSize) throw new Error(`impossible message of ${r.length} bytes`);
      },
      close() {
        a.close();
        b.close();
      },
    };
  });
});
