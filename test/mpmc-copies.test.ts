// What MpmcRing.tryRead hands out: a copy the caller owns, pooled for small messages.
import test from 'ava';
import { MpmcRing, Segment } from '../src/index.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

function message(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seed * 31 + i * 7) & 0xff;
  return bytes;
}

const LENGTHS = [0, 1, 63, 64, 65, 100, 1024, 2047, 2048, 2049, 3000];

for (const over of ['a SharedArrayBuffer', 'a shm segment'] as const) {
  test(`over ${over}: every copy stays intact after its slot is reused; up to 2 KiB they share pooled chunks, larger ones own their buffer`, (t) => {
    const slots = 4;
    const slotSize = 3008;
    let target: SharedArrayBuffer | Segment;
    if (over === 'a shm segment') {
      const seg = Segment.create(shmAddress(t), { size: MpmcRing.requiredBytes(slots, slotSize) });
      t.teardown(() => seg.close());
      target = seg;
    } else {
      target = new SharedArrayBuffer(MpmcRing.requiredBytes(slots, slotSize));
    }
    const ring = MpmcRing.create(target, { slots, slotSize });
    t.teardown(() => ring.close());
    const kept: Uint8Array[] = [];
    // 4 slots, 110 messages: every slot is rewritten many times while the copies are kept.
    for (let i = 0; i < 110; i++) {
      t.true(ring.tryWrite(message(LENGTHS[i % LENGTHS.length]!, i)));
      kept.push(ring.tryRead()!);
    }
    kept.forEach((m, i) => t.deepEqual(m, message(LENGTHS[i % LENGTHS.length]!, i), `message ${i}`));
    const pooled = kept.filter((m) => m.length > 64 && m.length <= 2048);
    t.true(pooled.every((m) => m.buffer.byteLength === 16384 && m.byteOffset % 8 === 0));
    t.true(new Set(pooled.map((m) => m.buffer)).size < pooled.length, 'small copies share chunks');
    // Copies carved from one chunk never overlap, and what m.buffer shows besides them is
    // zeros, never stale memory of the process.
    for (const chunk of new Set(pooled.map((m) => m.buffer))) {
      const ranges = pooled.filter((m) => m.buffer === chunk).map((m) => [m.byteOffset, m.byteOffset + m.length]).sort((a, b) => a[0]! - b[0]!);
      for (let k = 1; k < ranges.length; k++) t.true(ranges[k]![0]! >= ranges[k - 1]![1]!);
      const rest = new Uint8Array(chunk.slice(0));
      for (const [from, to] of ranges) rest.fill(0, from, to);
      t.true(rest.every((b) => b === 0));
    }
    for (const m of kept.filter((m) => m.length > 2048)) {
      t.is(m.byteOffset, 0);
      t.is(m.buffer.byteLength, m.length);
    }
  });
}
