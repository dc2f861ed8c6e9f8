// Typed messages between Node and a C or a Python peer, both ways, through two SPSC rings in
// one segment: Node writes Request records (every field kind a C struct and a Python `struct`
// format express, each at its limits in turn), the peer reads them through the declaration
// toC() or toPython() generated, checks every field against the values it computes itself,
// and answers each with a Reply record it builds field by field, which Node decodes and
// checks. The values of record k are spelled three times, here, in
// test/fixtures/schema-peer.c and in test/fixtures/schema-peer.py (the same rules). Controls:
// one deliberately wrong field each way is detected and named.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { array, Segment, SpscRing, struct, type Infer } from '../src/index.js';
import { startPeer, summary } from './helpers/peers.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');

const Point = struct({ x: 'f64', y: 'i32' }, { name: 'Point' });
const Body = struct(
  {
    i8: 'i8', u8: 'u8', i16: 'i16', u16: 'u16', i32: 'i32', u32: 'u32', i64: 'i64', u64: 'u64', n64: 'i64:number', m64: 'u64:number',
    f32: 'f32', f64: 'f64', ok: 'bool',
    name: 'utf8(12)', blob: 'bytes(10)', code: 'utf8[8]', key: 'bytes[6]',
    vec: 'f64[3]', grid: 'u8[2][3]', tags: 'utf8(4)[2]', at: Point, path: array(Point, 2),
  },
  { name: 'Body' },
);
const Request = struct({ seq: 'u32', body: Body, note: 'utf8*' }, { name: 'Request' });
const Reply = struct({ seq: 'u32', ok: 'bool', body: Body, data: 'bytes*' }, { name: 'Reply' });

/** A Reply's body is that of record seq + REPLY_OFFSET (not an echo of the request's). */
const REPLY_OFFSET = 500_000;
const CAPACITY = 4096; // small: records of 200-300 bytes wrap it every dozen or so
const RING_BYTES = SpscRing.requiredBytes(CAPACITY);

const FLT_MAX = 3.4028234663852886e38;
const FLT_TRUE_MIN = 1.401298464324817e-45;
const GOLDEN = 0x9e3779b97f4a7c15n;

function bytesOf(length: number, at: (j: number) => number): Uint8Array {
  const out = new Uint8Array(length);
  for (let j = 0; j < length; j++) out[j] = at(j) & 0xff;
  return out;
}

/** Record k's body: case k % 4 is 0 for the minimums, 1 for the maximums, 2 and 3 for values that move with k. */
function body(k: number): Infer<typeof Body> {
  const c = k % 4;
  const pick = <T>(min: T, max: T, other: T): T => (c === 0 ? min : c === 1 ? max : other);
  const blobLength = pick(0, 10, k % 11);
  return {
    i8: pick(-128, 127, (k % 256) - 128),
    u8: pick(0, 255, k % 256),
    i16: pick(-32768, 32767, (k % 65536) - 32768),
    u16: pick(0, 65535, k % 65536),
    i32: pick(-(2 ** 31), 2 ** 31 - 1, k * 7 - 1_000_000),
    u32: pick(0, 2 ** 32 - 1, Math.imul(k, 2654435761) >>> 0),
    i64: pick(-(2n ** 63n), 2n ** 63n - 1n, BigInt.asIntN(64, BigInt(k) * GOLDEN)),
    u64: pick(0n, 2n ** 64n - 1n, BigInt.asUintN(64, BigInt(k) * GOLDEN)),
    n64: pick(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, k * 1_000_003 - 4_000_000_000),
    m64: pick(0, Number.MAX_SAFE_INTEGER, k * 1_000_003),
    f32: pick(-FLT_MAX, FLT_MAX, c === 2 ? FLT_TRUE_MIN : k * 0.5),
    f64: pick(-Number.MAX_VALUE, Number.MAX_VALUE, c === 2 ? Number.MIN_VALUE : k / 3),
    ok: k % 2 === 1,
    name: pick('', '😀😀😀', c === 2 ? 'éééééé' : 'abcdefghijkl'.slice(0, k % 13)),
    blob: bytesOf(blobLength, (j) => k * 31 + j * 7),
    code: pick('', 'éééab', c === 2 ? 'x' : 'fixed-8!'),
    key: bytesOf(6, (j) => k + j * 13),
    vec: [k, -k, k / 7],
    grid: [0, 1, 2].map((r) => [0, 1].map((col) => (k + r * 2 + col) & 0xff)),
    tags: [pick('', 'wxyz', 'ab'), k % 2 === 1 ? 'é' : '🙂'],
    at: { x: k * 0.25, y: pick(-(2 ** 31), 2 ** 31 - 1, -(k % 1000)) },
    path: [
      { x: -k, y: k % 77 },
      { x: c === 1 ? 1e300 : k + 0.5, y: 2 ** 31 - 1 - (k % 5) },
    ],
  };
}

function request(seq: number): Infer<typeof Request> {
  return { seq, body: body(seq), note: seq % 3 === 0 ? '' : 'é'.repeat(seq % 20) };
}

function reply(seq: number): Infer<typeof Reply> {
  return { seq, ok: true, body: body(seq + REPLY_OFFSET), data: bytesOf(seq % 50, (j) => seq * 7 + j) };
}

/** The path of the first value of `got` that differs from `want` ('body.path[1].y'), or undefined. */
function difference(got: unknown, want: unknown, path = ''): string | undefined {
  if (isDeepStrictEqual(got, want)) return undefined;
  if (Array.isArray(want) && Array.isArray(got) && got.length === want.length) {
    for (let i = 0; i < want.length; i++) {
      const d = difference(got[i], want[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
  }
  if (want !== null && typeof want === 'object' && !ArrayBuffer.isView(want) && !Array.isArray(want) && got !== null && typeof got === 'object') {
    for (const key of new Set([...Object.keys(want), ...Object.keys(got)])) {
      const d = difference((got as Record<string, unknown>)[key], (want as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`);
      if (d !== undefined) return d;
    }
  }
  return path === '' ? '(the record)' : path;
}

interface Exchange {
  /** Seq numbers and paths of the replies that differed from what was expected. */
  mismatches: string[];
  received: number;
  /** What the peer printed last (its count and the first request it found wrong). */
  peer: Record<string, unknown>;
}

/**
 * Runs the exchange of `count` records with the peer `command` (given the segment's name, the
 * rings' offsets, the count and `wrongReply`: the seq of a reply the peer spoils on purpose,
 * -1 for none). `wrongRequest`: the seq of a request Node sends with one field wrong.
 */
async function exchange(t: ExecutionContext, command: string[], count: number, wrongRequest = -1, wrongReply = -1): Promise<Exchange> {
  const address = shmAddress(t);
  const segment = Segment.create(address, { size: 2 * RING_BYTES });
  t.teardown(() => segment.close());
  const requests = SpscRing.create(segment, { capacity: CAPACITY, byteOffset: 0, byteLength: RING_BYTES, role: 'producer' });
  const replies = SpscRing.create(segment, { capacity: CAPACITY, byteOffset: RING_BYTES, byteLength: RING_BYTES, role: 'consumer' });
  t.teardown(() => {
    requests.close();
    replies.close();
  });
  const child = startPeer(t, [...command, address.slice('shm:'.length), '0', String(RING_BYTES), String(count), String(wrongReply)], 120_000);
  let ended = false;
  const peer = summary(child, 'peer').finally(() => (ended = true));
  const mismatches: string[] = [];
  let sent = 0;
  let received = 0;
  while (received < count) {
    while (sent < count) {
      const r = request(sent);
      if (sent === wrongRequest) r.body.tags[1] = 'x';
      if (!Request.tryWrite(requests, r)) break;
      sent++;
    }
    let got = Reply.tryRead(replies);
    if (got === null) {
      if (ended) break; // the peer is gone: what it printed says why
      await replies.waitReadableAsync({ timeout: 100 }).catch(() => {});
      continue;
    }
    for (; got !== null; got = Reply.tryRead(replies)) {
      const want = reply(received);
      if (received === wrongRequest) want.ok = false; // the peer says it found that request wrong
      const d = difference(got, want);
      if (d !== undefined) mismatches.push(`seq ${received}: ${d}`);
      received++;
    }
  }
  return { mismatches, received, peer: await peer };
}

// ---- C ---------------------------------------------------------------------------------------

let noCompiler: string | undefined;
try {
  execFileSync('cc', ['--version'], { stdio: 'ignore' });
} catch {
  noCompiler = 'no C compiler (cc) on this machine';
}

/** The C peer, built with the declarations toC() generates for the three structs. */
const cPeer = ((): string => {
  if (noCompiler !== undefined) return '';
  const dir = mkdtempSync(join(tmpdir(), 'shmring-schema-interop-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'schema-types.h'), [Body.toC('Body'), Request.toC('Request'), Reply.toC('Reply')].join('\n'));
  const out = join(dir, 'schema-peer');
  const flags = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', dir, '-I', join(ROOT, 'native', 'include')];
  execFileSync('cc', [...flags, '-o', out, join(FIXTURES, 'schema-peer.c'), '-lm'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
})();

// One at a time: each runs two processes flat out, and the machine may have two cores.
const cTest = noCompiler === undefined ? test.serial : test.skip;
if (noCompiler !== undefined) test('C schema interop', (t) => t.log(`skipped: ${noCompiler}`) ?? t.pass());

const C_COUNT = 20_000;

cTest(`C: ${C_COUNT.toLocaleString('en')} typed requests read and checked in C, each answered with a typed reply Node checks`, async (t) => {
  const r = await exchange(t, [cPeer], C_COUNT);
  t.like(r.peer, { received: C_COUNT, wrong: 0, exit: 0 });
  t.is(r.received, C_COUNT);
  t.deepEqual(r.mismatches, []);
});

cTest('C, control: a wrong field in a request is found by the C peer, a wrong field in a reply by Node', async (t) => {
  const r = await exchange(t, [cPeer], 2000, 777, 1234);
  t.like(r.peer, { received: 2000, wrong: 1, first: 'request 777: tags', exit: 0 });
  t.deepEqual(r.mismatches, ['seq 1234: body.path[1].y']);
});

// ---- Python ----------------------------------------------------------------------------------

let noPython: string | undefined;
try {
  execFileSync('python3', ['--version'], { stdio: 'ignore' });
} catch {
  noPython = 'no python3 on this machine';
}
const pyTest = noPython === undefined ? test.serial : test.skip;
if (noPython !== undefined) test('Python schema interop', (t) => t.log(`skipped: ${noPython}`) ?? t.pass());

/** The Python peer, given the formats and names toPython() generates. */
const pyCommand = ['python3', join(FIXTURES, 'schema-peer.py'), JSON.stringify({ request: Request.toPython(), reply: Reply.toPython() })];
/** Fewer than C's: the Python peer checks some thousands of records a second. */
const PY_COUNT = 5000;

pyTest(`Python: ${PY_COUNT.toLocaleString('en')} typed requests read with toPython()'s format and checked, each answered with a typed reply Node checks`, async (t) => {
  const r = await exchange(t, pyCommand, PY_COUNT);
  t.like(r.peer, { received: PY_COUNT, wrong: 0, exit: 0 });
  t.is(r.received, PY_COUNT);
  t.deepEqual(r.mismatches, []);
});

pyTest('Python, control: a wrong field in a request is found by the Python peer, a wrong field in a reply by Node', async (t) => {
  const r = await exchange(t, pyCommand, 1000, 77, 123);
  t.like(r.peer, { received: 1000, wrong: 1, first: 'request 77: body.tags[1].length', exit: 0 });
  t.deepEqual(r.mismatches, ['seq 123: body.path[1].y']);
});
