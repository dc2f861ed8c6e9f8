// Fuzzing over segment-backed rings with guard bytes: the ring lives in a region of a POSIX
// shm Segment (so payloads go through the plain alias mapping), between 128 guard bytes
// before and 256 after, filled with a canary pattern that is checked after every step.
// Seeded random steps use every call, the blocking ones included (with a 1 ms timeout, so a
// full or empty ring ends in ERR_TIMEOUT, never a hang).
//
// - Without corruption, a model queue says what each read must return: exactly the bytes
//   written, in order (so only lengths that were written are ever returned).
// - With live corruption of the ring's own bytes between steps, every call ends in a value
//   or a clean ShmError; a message read has a length that was written or that a
//   corruption wrote (a forged length word is indistinguishable from a real one), never
//   another; and nothing is ever written outside the region.
//
// The control groups break the copies (internal Payload methods replaced in this process,
// serial tests only): a copy ending at the region's end writes one byte past it, and a read
// returns one byte too many; the same harness must see a canary overwritten, and a length
// that was never written.
import test, { type ExecutionContext } from 'ava';
import { MpmcRing, Segment, ShmError, SpscRing } from '../src/index.js';
import { Payload } from '../src/ring/payload.js';
import { xorshift } from './helpers/messages.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const BEFORE = 128;
const AFTER = 256;
const CAPACITY = 512;
const SLOTS = 8;
const SLOT_SIZE = 72;
/** Written lengths: 3 mod 8, 0 and the MPMC maximum, 64 (none of them a corruption value below), up to the end of a slot. */
const LENGTHS = [0, 3, 11, 19, 27, 35, 43, 51, 59, 64];
const EXPECTED = new Set(['ERR_SHM_BAD_HEADER', 'ERR_TIMEOUT', 'ERR_PEER_DEAD', 'ERR_ROLE_TAKEN', 'ERR_CLAIM_PENDING', 'ERR_TOO_MANY_PARTICIPANTS']);
const CANARY = (i: number) => (0xa5 ^ (i * 29)) & 0xff;

interface Guarded {
  seg: Segment;
  region: number;
  /** Throws if a guard byte changed. */
  check(step: string): void;
}

function guarded(t: ExecutionContext, region: number): Guarded {
  const seg = Segment.create(shmAddress(t), { size: BEFORE + region + AFTER });
  t.teardown(() => seg.close());
  const bytes = new Uint8Array(seg.buffer);
  const guards = [...Array.from({ length: BEFORE }, (_, i) => i), ...Array.from({ length: AFTER }, (_, i) => BEFORE + region + i)];
  for (const i of guards) bytes[i] = CANARY(i);
  return {
    seg,
    region,
    check(step) {
      for (const i of guards) if (bytes[i] !== CANARY(i)) throw new Error(`canary at byte ${i - BEFORE} of the region overwritten after ${step}`);
    },
  };
}

function message(n: number, length: number): Uint8Array {
  const m = new Uint8Array(length);
  for (let j = 0; j < length; j++) m[j] = (n * 13 + j) & 0xff;
  return m;
}

/** Ends a call: its value, or 'error CODE' for an expected ShmError; anything else throws. */
async function outcome<T>(call: () => T | Promise<T>): Promise<T | string> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ShmError && EXPECTED.has(err.code)) return `error ${err.code}`;
    throw err;
  }
}

/** Up to 3 messages taken with drain(), copied out of their views. */
function drained(ring: { drain(fn: (view: Uint8Array) => void, max?: number): number }): Uint8Array[] {
  const got: Uint8Array[] = [];
  ring.drain((v) => got.push(v.slice()), 3);
  return got;
}

interface Ops {
  /** Each returns the messages it read (copies), or for writes how many copies of `m` it wrote, or 'error CODE'. */
  steps: Array<(m: Uint8Array) => Promise<Uint8Array[] | number | string>>;
  close(): void;
}

function spscOps(g: Guarded): Ops {
  const at = { byteOffset: BEFORE, byteLength: SpscRing.requiredBytes(CAPACITY) };
  const producer = SpscRing.create(g.seg, { capacity: CAPACITY, role: 'producer', ...at });
  const consumer = SpscRing.open(g.seg, { role: 'consumer', ...at });
  const target = new Uint8Array(CAPACITY);
  const one = (m: Uint8Array | null) => (m === null ? [] : [m.slice()]);
  const into = (n: number) => (n < 0 ? [] : [target.slice(0, n)]);
  return {
    steps: [
      async (m) => outcome(() => Number(producer.tryWrite(m))),
      async (m) => outcome(() => (producer.write(m, { timeout: 1 }), 1)),
      async (m) => outcome(async () => (await producer.writeAsync(m, { timeout: 1 }), 1)),
      async (m) =>
        outcome(() => {
          const claim = producer.tryClaim(m.length);
          if (claim === null) return 0;
          claim.bytes.set(m);
          claim.commit();
          return 1;
        }),
      async (m) =>
        outcome(() => {
          const claim = producer.claim(m.length, { timeout: 1 });
          claim.bytes.set(m);
          claim.commit();
          return 1;
        }),
      async (m) => outcome(() => producer.tryWriteMany([m, m])),
      async () => outcome(() => one(consumer.tryRead())),
      async () => outcome(() => [consumer.read({ timeout: 1 })]),
      async () => outcome(async () => [await consumer.readAsync({ timeout: 1 })]),
      async () => outcome(() => into(consumer.tryReadInto(target))),
      async () => outcome(() => into(consumer.readInto(target, { timeout: 1 }))),
      async () => outcome(() => drained(consumer)),
    ],
    close() {
      producer.close();
      consumer.close();
    },
  };
}

function mpmcOps(g: Guarded): Ops {
  const at = { byteOffset: BEFORE, byteLength: MpmcRing.requiredBytes(SLOTS, SLOT_SIZE, 4) };
  const a = MpmcRing.create(g.seg, { slots: SLOTS, slotSize: SLOT_SIZE, participants: 4, repairDelayMs: 0, ...at });
  const b = MpmcRing.open(g.seg, { repairDelayMs: 0, ...at });
  return {
    steps: [
      async (m) => outcome(() => Number(a.tryWrite(m))),
      async (m) => outcome(() => (a.write(m, { timeout: 1 }), 1)),
      async (m) => outcome(async () => (await a.writeAsync(m, { timeout: 1 }), 1)),
      async (m) => outcome(() => a.tryWriteMany([m, m])),
      async () =>
        outcome(() => {
          const m = b.tryRead();
          return m === null ? [] : [m.slice()];
        }),
      async () => outcome(() => [b.read({ timeout: 1 })]),
      async () => outcome(async () => [await b.readAsync({ timeout: 1 })]),
      async () => outcome(() => drained(b)),
    ],
    close() {
      a.close();
      b.close();
    },
  };
}

interface Run {
  steps: number;
  reads: number;
  detected: number;
}

/**
 * `runs` fresh rings of `kind`, `steps` seeded random calls each; with `corrupt`, a random
 * word of the ring region is overwritten before every call. Canaries are checked after
 * every call; reads are checked against the model (or the length rule under corruption).
 */
async function fuzz(t: ExecutionContext, kind: 'spsc' | 'mpmc', corrupt: boolean, seed: number, runs: number, steps: number): Promise<Run> {
  const random = xorshift(seed);
  const total: Run = { steps: 0, reads: 0, detected: 0 };
  const region = kind === 'spsc' ? SpscRing.requiredBytes(CAPACITY) : MpmcRing.requiredBytes(SLOTS, SLOT_SIZE, 4);
  const g = guarded(t, region);
  const i32 = new Int32Array(g.seg.buffer, BEFORE, region / 4);
  const forged = new Set<number>();
  const values = [-1, 1, 8, 16, 24, 0x7fffffff, -0x80000000, 4096, CAPACITY, CAPACITY - 8];
  for (let run = 0; run < runs; run++) {
    const ops = kind === 'spsc' ? spscOps(g) : mpmcOps(g);
    const model: Uint8Array[] = [];
    let n = 0;
    try {
      for (let s = 0; s < steps; s++) {
        if (corrupt) {
          const v = random() & 1 ? values[random() % values.length]! : random() | 0;
          forged.add(v);
          i32[random() % i32.length] = v;
        }
        const index = random() % ops.steps.length;
        const m = message(n, LENGTHS[random() % LENGTHS.length]!);
        const result = await ops.steps[index]!(m);
        total.steps++;
        g.check(`step ${s} of run ${run} (call ${index})`);
        if (typeof result === 'string') {
          if (result !== 'error ERR_TIMEOUT') {
            total.detected++;
            if (!corrupt) throw new Error(`${result} without corruption`);
            break; // this handle stops; the next run formats a fresh ring
          }
          continue;
        }
        if (typeof result === 'number') {
          for (let c = 0; c < result; c++) model.push(m);
          if (result > 0) n++;
          continue;
        }
        for (const got of result) {
          total.reads++;
          if (corrupt) {
            if (!LENGTHS.includes(got.length) && !forged.has(got.length)) throw new Error(`a message of ${got.length} bytes, a length never written`);
          } else {
            const want = model.shift();
            if (want === undefined || got.length !== want.length || got.some((b, j) => b !== want[j])) {
              throw new Error(`read ${got.length} bytes where the model says ${want?.length}`);
            }
          }
        }
      }
    } finally {
      ops.close();
    }
    g.check(`run ${run}`);
  }
  return total;
}

for (const kind of ['spsc', 'mpmc'] as const) {
  test.serial(`control group (${kind}): a copy that overruns the ring's region by one byte is caught by the guard bytes`, async (t) => {
    // Payload.write copies through a view bounded by the region (an overrun throws); the
    // broken copy writes its extra byte through view(), which is not, and only past the
    // region's end: inside it, the byte would land on a header the ring checks itself.
    const region = kind === 'spsc' ? SpscRing.requiredBytes(CAPACITY) : MpmcRing.requiredBytes(SLOTS, SLOT_SIZE, 4);
    const write = Payload.prototype.write;
    Payload.prototype.write = function (this: Payload, bytes: Uint8Array, offset: number) {
      write.call(this, bytes, offset);
      if (offset + bytes.length === region) this.view(region, 1)[0] = 0x5a;
    };
    try {
      await t.throwsAsync(fuzz(t, kind, false, 4242, 20, 400), { message: /canary at byte \d+ of the region overwritten/ });
    } finally {
      Payload.prototype.write = write;
    }
  });

  test.serial(`control group (${kind}): a read that returns one byte too many is caught as a length never written, under corruption too`, async (t) => {
    // Payload.copy makes the copy a read returns (both kinds' tryRead of larger messages,
    // every MPMC read); broken, it copies one byte past the message.
    const copy = Payload.prototype.copy;
    Payload.prototype.copy = function (this: Payload, offset: number, length: number) {
      return copy.call(this, offset, length + 1);
    };
    try {
      await t.throwsAsync(fuzz(t, kind, false, 4242, 20, 400), { message: /^read \d+ bytes where the model says/ });
      await t.throwsAsync(fuzz(t, kind, true, 99, 200, 60), { message: /a length never written/ });
    } finally {
      Payload.prototype.copy = copy;
    }
  });

  test(`${kind}: 20 rings x 400 random calls, blocking ones included, over a guarded segment region: the bytes written, in order`, async (t) => {
    const r = await fuzz(t, kind, false, 4242, 20, 400);
    t.log(r);
    t.true(r.reads > 1000);
  });

  test(`${kind}: 200 rings x 60 random calls under live corruption: nothing outside the region, only lengths written or forged`, async (t) => {
    const r = await fuzz(t, kind, true, 99, 200, 60);
    t.log(r);
    t.true(r.detected > 0, 'some corruption was detected');
    t.true(r.reads > 0);
  });
}
