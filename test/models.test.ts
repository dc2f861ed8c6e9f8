// The Promela models of the ring protocols (docs/models/*.pml): their constants agree with
// the layout files they stand for, and spin checks every configuration exhaustively
// (scripts/check-models.mjs): no error for the protocol as built, an error for each broken
// variant. The state counts are logged. Without spin the checks are skipped, except in CI.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mpmc from '../src/ring/layout/mpmc.js';
import * as spsc from '../src/ring/layout/spsc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const checker = (await import(join(ROOT, 'scripts', 'check-models.mjs'))) as {
  CONFIGURATIONS: Array<{ name: string; model: string; defines: string[]; expect: 'pass' | 'fail'; error?: RegExp }>;
  missingTools: () => string | undefined;
  check: (c: unknown) => { ok: boolean; errors: number; states: number; seconds: number; detail: string };
};

/** The `#define NAME value` lines of a model. */
function defines(model: string): Map<string, string> {
  const text = readFileSync(join(ROOT, 'docs', 'models', model), 'utf8');
  return new Map([...text.matchAll(/^#define (\w+) (.+)$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
}

test('the SPSC model uses the record types and the size rule of layout/spsc.ts', (t) => {
  const d = defines('spsc.pml');
  t.is(Number(d.get('TYPE_MESSAGE')), spsc.TYPE_MESSAGE);
  t.is(Number(d.get('TYPE_PADDING')), spsc.TYPE_PADDING);
  // A model unit is RECORD_ALIGN bytes, a record header takes one, and a record takes at
  // most half the data area (the model's CAP / 2), as maxMessageSize says.
  t.is(spsc.RECORD_HEADER_SIZE, spsc.RECORD_ALIGN);
  for (const capacity of [spsc.MIN_CAPACITY, 4096, 2 ** 20]) t.is(spsc.recordSize(spsc.maxMessageSize(capacity)), capacity / 2);
});

test('the MPMC model uses the entry states, the tombstone and the slot rules of layout/mpmc.ts', (t) => {
  const d = defines('mpmc.pml');
  t.is(Number(d.get('STATE_IDLE')), mpmc.STATE_IDLE);
  t.is(Number(d.get('STATE_PRODUCING')), mpmc.STATE_PRODUCING);
  t.is(Number(d.get('STATE_CONSUMING')), mpmc.STATE_CONSUMING);
  // The model's lengths are bytes: the tombstone -1 is 255 there.
  t.is(Number(d.get('TOMBSTONE')), mpmc.TOMBSTONE & 0xff);
  t.true(Number(d.get('SLOTS')) >= mpmc.MIN_SLOTS);
  // The repair swaps sequence and length in one 64-bit word: they are its two halves.
  t.is(mpmc.SLOT_LENGTH_OFFSET - mpmc.SLOT_SEQUENCE_OFFSET, 4);
  t.is(mpmc.SLOT_SEQUENCE_OFFSET % 8, 0);
  t.is(mpmc.slotHeaderWord(5, mpmc.TOMBSTONE), (-1n << 32n) | 5n);
  // ...and the word written as one 64-bit value reads back as the two 32-bit fields (little-endian).
  const buffer = new SharedArrayBuffer(16);
  const i32 = new Int32Array(buffer);
  Atomics.store(new BigInt64Array(buffer), mpmc.slotHeaderIndex(8), mpmc.slotHeaderWord(0xfffffff0 | 0, mpmc.TOMBSTONE));
  t.deepEqual([i32[(8 + mpmc.SLOT_SEQUENCE_OFFSET) >> 2], i32[(8 + mpmc.SLOT_LENGTH_OFFSET) >> 2]], [0xfffffff0 | 0, mpmc.TOMBSTONE]);
});

const missing = checker.missingTools();
for (const configuration of checker.CONFIGURATIONS) {
  const title = `spin: ${configuration.name} (${configuration.expect === 'pass' ? 'no error' : 'the check finds the error'})`;
  if (missing !== undefined && process.env.CI !== 'true') {
    test.skip(`${title} [skipped: ${missing}]`, () => {});
    continue;
  }
  test(title, (t) => {
    t.timeout(300_000);
    if (missing !== undefined) t.fail(`CI must check the models: ${missing}`);
    const r = checker.check(configuration);
    t.log(`${r.states.toLocaleString('en')} states, ${r.errors} error(s), ${r.seconds.toFixed(1)} s: ${r.detail}`);
    t.true(r.ok, r.detail);
  });
}
