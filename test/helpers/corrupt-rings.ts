// The corrupt rings of test/ring-fuzz.test.ts (their images and generators live here), and
// the same cases as data, for peers in other languages
// (test/interop-c.test.ts, test/interop-python.test.ts): ring images with random words
// overwritten (same generators and seeds), random garbage of any size, and named bad headers;
// each with what the TypeScript rings make of it, so another implementation can be held to
// the same answer. Outcomes: R refused at open, D corruption detected later, U used.
import fc from 'fast-check';
import { MpmcRing, ShmError, SpscRing } from '../../src/index.js';
import { HEADER_SIZE, KIND_MPMC, KIND_SPSC, KIND_OFFSET, MAGIC_OFFSET, PARAM_A_OFFSET, STATE_OFFSET, TOTAL_SIZE_OFFSET, VERSION_OFFSET } from '../../src/ring/layout/header.js';
import * as mpmc from '../../src/ring/layout/mpmc.js';
import { mpmcRingSize } from '../../src/ring/layout/mpmc.js';
import * as spsc from '../../src/ring/layout/spsc.js';
import { DATA_OFFSET } from '../../src/ring/layout/spsc.js';

export const CAPACITY = 512;
const SLOTS = 8;
const SLOT_SIZE = 64;
const PARTICIPANTS = 4;
/** Bytes of the MPMC ring of mpmcWithMessages(). */
export const MPMC_BYTES = mpmcRingSize(SLOTS, SLOT_SIZE, PARTICIPANTS);

export interface Case {
  name: string;
  kind: number;
  image: Uint8Array;
  /** What the TypeScript ring did with it. */
  outcome: 'R' | 'D' | 'U';
  /** For the named cases: what it should do. */
  expected?: 'R' | 'D' | 'U';
}

interface Usable {
  tryRead(): Uint8Array | null;
  tryWrite(b: Uint8Array): boolean;
  close(): void;
}

/** test/ring-fuzz.test.ts `exercise`: read as a consumer, then write as a producer. */
function exercise(kind: number, sab: SharedArrayBuffer): 'R' | 'D' | 'U' {
  const opened: Usable[] = [];
  const open = (role: 'consumer' | 'producer'): Usable => (kind === KIND_SPSC ? SpscRing.open(sab, { role }) : MpmcRing.open(sab));
  try {
    const consumer = open('consumer');
    opened.push(consumer);
    for (let i = 0; i < 2 * CAPACITY; i++) if (consumer.tryRead() === null) break;
    const producer = open('producer');
    opened.push(producer);
    for (let i = 0; i < 64; i++) if (!producer.tryWrite(new Uint8Array(i % 40))) break;
    return 'U';
  } catch (err) {
    // A role held by a live owner (a forged identity of another PID namespace counts as
    // alive) is refused like a bad header; the C and Python checkers do the same.
    if (err instanceof ShmError && (err.code === 'ERR_SHM_BAD_HEADER' || err.code === 'ERR_ROLE_TAKEN')) return opened.length === 0 ? 'R' : 'D';
    throw err;
  } finally {
    for (const r of opened) r.close();
  }
}

export function spscWithMessages(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(DATA_OFFSET + CAPACITY);
  const producer = SpscRing.create(sab, { capacity: CAPACITY, role: 'producer' });
  const consumer = SpscRing.open(sab, { role: 'consumer' });
  for (let i = 0; i < 30; i++) {
    producer.tryWrite(new Uint8Array(i % 50).fill(i));
    if (i % 3 === 0) consumer.tryRead();
  }
  producer.close();
  consumer.close();
  return sab;
}

export function mpmcWithMessages(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(MPMC_BYTES);
  const ring = MpmcRing.create(sab, { slots: SLOTS, slotSize: SLOT_SIZE, participants: PARTICIPANTS });
  for (let i = 0; i < 13; i++) {
    ring.tryWrite(new Uint8Array(i % 50).fill(i));
    if (i % 2 === 0) ring.tryRead();
  }
  ring.close();
  return sab;
}

/** Up to 6 random words (offsets in [start, end)) to write over a ring image; shared with test/ring-fuzz.test.ts. */
export const corruption = (start: number, end: number) =>
  fc.array(fc.record({ offset: fc.integer({ min: start, max: end - 4 }), value: fc.oneof(fc.integer(), fc.constantFrom(0, -1, 1, 8, 0x7fffffff, -0x80000000, CAPACITY, CAPACITY - 8, 1 << 30)) }), { minLength: 1, maxLength: 6 });

/** Writes `writes` over a ring image (only over its header, with `headerOnly`). */
export function corrupt(sab: SharedArrayBuffer, writes: ReadonlyArray<{ offset: number; value: number }>, headerOnly: boolean): void {
  const view = new DataView(sab);
  for (const w of writes) view.setInt32((headerOnly ? w.offset % HEADER_SIZE : w.offset) & ~3, w.value, true);
}

/** A case from a ring image: the image is copied before the TypeScript ring uses (and changes) it. */
function caseOf(name: string, kind: number, sab: SharedArrayBuffer, expected?: 'R' | 'D' | 'U'): Case {
  const image = new Uint8Array(sab).slice();
  return { name, kind, image, outcome: exercise(kind, sab), expected };
}

/** `runs` rings of `kind` with up to 6 random words overwritten (header only, or anywhere). */
export function corruptedRings(kind: number, runs: number, seed = 20261122): Case[] {
  const size = kind === KIND_SPSC ? DATA_OFFSET + CAPACITY : MPMC_BYTES;
  const samples = fc.sample(fc.tuple(fc.boolean(), corruption(0, size)), { numRuns: runs, seed });
  return samples.map(([headerOnly, writes], n) => {
    const sab = kind === KIND_SPSC ? spscWithMessages() : mpmcWithMessages();
    corrupt(sab, writes, headerOnly);
    return caseOf(`${kind === KIND_SPSC ? 'spsc' : 'mpmc'} corruption ${n}`, kind, sab);
  });
}

/** Random bytes of 0 to 4096 bytes, tried as both kinds. */
export function garbage(runs: number, seed = 7): Case[] {
  return fc.sample(fc.uint8Array({ minLength: 0, maxLength: 4096 }), { numRuns: runs, seed }).flatMap((bytes, n) =>
    [KIND_SPSC, KIND_MPMC].map((kind) => {
      const sab = new SharedArrayBuffer(bytes.length);
      new Uint8Array(sab).set(bytes);
      return caseOf(`garbage ${n} as kind ${kind}`, kind, sab);
    }),
  );
}

/** A fresh ring holding three unread messages of 100 bytes: SPSC records at 0, 112, 224 of the data area; MPMC slots 0-2. */
function unread(kind: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(kind === KIND_SPSC ? DATA_OFFSET + CAPACITY : mpmcRingSize(SLOTS, SLOT_SIZE, PARTICIPANTS));
  const ring = kind === KIND_SPSC ? SpscRing.create(sab, { capacity: CAPACITY, role: 'producer' }) : MpmcRing.create(sab, { slots: SLOTS, slotSize: SLOT_SIZE, participants: PARTICIPANTS });
  for (let i = 0; i < 3; i++) ring.tryWrite(new Uint8Array(kind === KIND_SPSC ? 100 : SLOT_SIZE - 8).fill(i));
  ring.close();
  return sab;
}

/**
 * Records, slots and positions that only one check catches: a length above the largest
 * message but within the published bytes, a negative length, an unknown type, a padding record
 * of the wrong length, misaligned or too distant positions, an impossible slot sequence.
 */
export function badRecords(): Case[] {
  const at = (kind: number, offset: number, value: number, name: string, expected: 'R' | 'D') => {
    const sab = unread(kind);
    new DataView(sab).setInt32(offset, value, true);
    return caseOf(name, kind, sab, expected);
  };
  const record = DATA_OFFSET;
  const slot = mpmc.slotOffset(0, SLOT_SIZE, PARTICIPANTS);
  return [
    caseOf('spsc three unread messages', KIND_SPSC, unread(KIND_SPSC), 'U'),
    at(KIND_SPSC, record + spsc.RECORD_LENGTH_OFFSET, CAPACITY / 2, 'spsc record length above the largest message, within the published bytes', 'D'),
    at(KIND_SPSC, record + spsc.RECORD_LENGTH_OFFSET, -8, 'spsc negative record length', 'D'),
    at(KIND_SPSC, record + spsc.RECORD_LENGTH_OFFSET, 300, 'spsc record overrunning the published bytes', 'D'),
    at(KIND_SPSC, record + spsc.RECORD_TYPE_OFFSET, 3, 'spsc unknown record type', 'D'),
    at(KIND_SPSC, record + spsc.RECORD_TYPE_OFFSET, spsc.TYPE_PADDING, 'spsc padding record of the wrong length', 'D'),
    at(KIND_SPSC, spsc.TAIL_OFFSET, 4, 'spsc misaligned tail', 'R'),
    at(KIND_SPSC, spsc.TAIL_OFFSET, CAPACITY + 8, 'spsc tail more than the capacity past the head', 'R'),
    caseOf('mpmc three unread messages', KIND_MPMC, unread(KIND_MPMC), 'U'),
    at(KIND_MPMC, slot + mpmc.SLOT_LENGTH_OFFSET, SLOT_SIZE - 7, 'mpmc slot length above the largest message', 'D'),
    at(KIND_MPMC, slot + mpmc.SLOT_LENGTH_OFFSET, -2, 'mpmc negative slot length', 'D'),
    at(KIND_MPMC, slot + mpmc.SLOT_SEQUENCE_OFFSET, 5, 'mpmc slot sequence from nowhere', 'D'),
  ];
}

/** Headers that are foreign, of another version or kind, truncated or inconsistent. */
export function badHeaders(): Case[] {
  const cases: Case[] = [];
  for (const kind of [KIND_SPSC, KIND_MPMC]) {
    const make = () => (kind === KIND_SPSC ? spscWithMessages() : mpmcWithMessages());
    const word = (offset: number, value: number) => {
      const sab = make();
      new DataView(sab).setInt32(offset, value, true);
      return sab;
    };
    const k = kind === KIND_SPSC ? 'spsc' : 'mpmc';
    cases.push(caseOf(`${k} intact`, kind, make(), 'U'));
    cases.push(caseOf(`${k} foreign magic`, kind, word(MAGIC_OFFSET, 0x464c457f), 'R'));
    cases.push(caseOf(`${k} version 2`, kind, word(VERSION_OFFSET, 2), 'R'));
    cases.push(caseOf(`${k} the other kind`, kind, word(KIND_OFFSET, kind === KIND_SPSC ? KIND_MPMC : KIND_SPSC), 'R'));
    cases.push(caseOf(`${k} unknown state`, kind, word(STATE_OFFSET, 7), 'R'));
    cases.push(caseOf(`${k} param A not a power of two`, kind, word(PARAM_A_OFFSET, 3 * (kind === KIND_SPSC ? CAPACITY : SLOTS)), 'R'));
    cases.push(caseOf(`${k} total size off by 8`, kind, word(TOTAL_SIZE_OFFSET, make().byteLength - 8), 'R'));
    for (const keep of [0, 4, HEADER_SIZE - 4, HEADER_SIZE, make().byteLength - 8]) {
      const sab = new SharedArrayBuffer(keep);
      new Uint8Array(sab).set(new Uint8Array(make(), 0, keep));
      cases.push(caseOf(`${k} truncated to ${keep} bytes`, kind, sab, 'R'));
    }
  }
  return cases;
}

/** The cases as one stream for a checker: [u32 kind][u32 length][bytes] each. */
export function encodeCases(cases: readonly Case[]): Buffer {
  return Buffer.concat(
    cases.flatMap((c) => {
      const head = Buffer.alloc(8);
      head.writeUInt32LE(c.kind, 0);
      head.writeUInt32LE(c.image.length, 4);
      return [head, Buffer.from(c.image)];
    }),
  );
}

/** The named cases whose TypeScript outcome is not the one expected. */
export function unexpected(cases: readonly Case[]): string[] {
  return cases.flatMap((c) => (c.expected === undefined || c.expected === c.outcome ? [] : [`${c.name}: TypeScript ${c.outcome}, expected ${c.expected}`]));
}

/** The cases whose outcome differs between the TypeScript rings and `letters` (one per case). */
export function disagreements(cases: readonly Case[], letters: string): string[] {
  if (letters.length !== cases.length) return [`${letters.length} outcomes for ${cases.length} cases`];
  return cases.flatMap((c, i) => (letters[i] === c.outcome ? [] : [`${c.name}: TypeScript ${c.outcome}, peer ${letters[i]}`]));
}
