// Schemas on their own: every field kind round-trips at its limits and is refused one past
// them (naming the field, writing nothing), strings are never cut mid-character, nested
// structs, arrays and the tail follow the layout rule of docs/PROTOCOL.md, hostile bytes are
// refused as ERR_BAD_MESSAGE, the flyweight reads in place and is reused, and the canonical
// form, hash and C/Python declarations spell the layout.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { array, ShmError, struct, type Schema } from '../src/index.js';

const MIN_MAX: Array<[string, number | bigint, number | bigint]> = [
  ['i8', -128, 127],
  ['u8', 0, 255],
  ['i16', -32768, 32767],
  ['u16', 0, 65535],
  ['i32', -(2 ** 31), 2 ** 31 - 1],
  ['u32', 0, 2 ** 32 - 1],
  ['i64', -(2n ** 63n), 2n ** 63n - 1n],
  ['u64', 0n, 2n ** 64n - 1n],
  ['i64:number', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  ['u64:number', 0, Number.MAX_SAFE_INTEGER],
];

/** Encodes into a buffer filled with 0xee, and says whether the value was refused with nothing written. */
function refusedUnwritten(t: import('ava').ExecutionContext, schema: Schema<unknown>, value: unknown, error: { instanceOf: Function; message: RegExp }): void {
  const bytes = new Uint8Array(schema.size + 64).fill(0xee);
  t.throws(() => schema.encodeInto(value, bytes, 0), error);
  t.true(bytes.every((b) => b === 0xee), 'nothing written');
}

for (const [kind, min, max] of MIN_MAX) {
  test(`${kind}: min and max round-trip, one past each is refused naming the field`, (t) => {
    const S = struct({ pad: 'u8', v: kind });
    for (const v of [min, max]) t.deepEqual(S.decode(S.encode({ pad: 1, v })), { pad: 1, v });
    const one = typeof min === 'bigint' ? 1n : 1;
    const past = (x: number | bigint, d: number | bigint) => (typeof x === 'bigint' ? x + (d as bigint) : (x as number) + (d as number));
    // Past the safe integers, n + 1 is not representable: the next larger double is refused (not exact).
    const below = kind.endsWith(':number') && min !== 0 ? -(2 ** 53) : past(min, -(one as number));
    const above = kind.endsWith(':number') ? 2 ** 53 : past(max, one);
    for (const bad of [below, above]) refusedUnwritten(t, S, { pad: 1, v: bad }, { instanceOf: RangeError, message: /^v=/ });
    if (typeof min === 'number' && !kind.endsWith(':number')) refusedUnwritten(t, S, { pad: 1, v: 1.5 }, { instanceOf: RangeError, message: /^v=1\.5/ });
    refusedUnwritten(t, S, { pad: 1, v: typeof min === 'bigint' ? 1 : 1n }, { instanceOf: TypeError, message: /^v=/ });
    refusedUnwritten(t, S, { pad: 1, v: '1' }, { instanceOf: TypeError, message: /^v="1"/ });
  });
}

test('a 64-bit field read as a number refuses a record whose value is not exact', (t) => {
  const Big = struct({ v: 'u64' });
  const Num = struct({ v: 'u64:number' });
  t.is(Num.canonical, Big.canonical, 'the layout is the same whichever way Node reads it');
  t.throws(() => Num.decode(Big.encode({ v: 2n ** 53n })), { instanceOf: ShmError, message: /field v: .*not exact/ });
  t.deepEqual(Num.decode(Big.encode({ v: 2n ** 53n - 1n })), { v: Number.MAX_SAFE_INTEGER });
  const Signed = struct({ v: 'i64:number' });
  t.deepEqual(Signed.decode(struct({ v: 'i64' }).encode({ v: -(2n ** 53n) + 1n })), { v: Number.MIN_SAFE_INTEGER });
  t.throws(() => Signed.decode(struct({ v: 'i64' }).encode({ v: -(2n ** 53n) })), { code: 'ERR_BAD_MESSAGE' });
  t.deepEqual(Signed.decode(Signed.encode({ v: -1 })), { v: -1 });
});

test('floats carry NaN, -0, infinities and f32 rounding', (t) => {
  const S = struct({ a: 'f64', b: 'f32' });
  for (const v of [NaN, -0, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE]) {
    const out = S.decode(S.encode({ a: v, b: v }));
    t.true(Object.is(out.a, v), `f64 ${v}`);
    t.true(Object.is(out.b, Math.fround(v)), `f32 ${v}`);
  }
  refusedUnwritten(t, S, { a: '1', b: 1 }, { instanceOf: TypeError, message: /^a="1"/ });
});

test('bool is 0 or 1; any other byte is refused on read', (t) => {
  const S = struct({ ok: 'bool' });
  t.deepEqual([...S.encode({ ok: true })], [1]);
  t.deepEqual(S.decode(Uint8Array.of(0)), { ok: false });
  t.throws(() => S.decode(Uint8Array.of(2)), { instanceOf: ShmError, code: 'ERR_BAD_MESSAGE', message: /field ok: a bool of 2/ });
  refusedUnwritten(t, S, { ok: 1 }, { instanceOf: TypeError, message: /^ok=1/ });
});

test('utf8(N): empty, full and multi-byte strings at the bound; one byte past it is refused, never cut', (t) => {
  const S = struct({ s: 'utf8(6)' });
  t.is(S.size, 8);
  for (const s of ['', 'abcdef', '€€', 'é€a', '😀é']) t.deepEqual(S.decode(S.encode({ s })), { s });
  const bytes = S.encode({ s: 'ab' });
  t.deepEqual([...bytes], [2, 0, 0x61, 0x62, 0, 0, 0, 0], 'length, bytes, the rest zero');
  for (const s of ['abcdefg', '€€a', 'é€é', '😀😀', 'a'.repeat(100)]) refusedUnwritten(t, S, { s }, { instanceOf: RangeError, message: /^s=.*at most 6 bytes/ });
  t.deepEqual(S.decode(S.encode({ s: '\ud800' })), { s: '\ufffd' }, 'a lone surrogate is U+FFFD');
  // A length past the bound is refused, not read past the field.
  t.throws(() => S.decode(Uint8Array.of(7, 0, 1, 2, 3, 4, 5, 6)), { code: 'ERR_BAD_MESSAGE', message: /field s: a length of 7 bytes past its bound of 6/ });
});

test('utf8[N] is zero-padded and read without its trailing zeros; bytes(N) and bytes[N] keep their bounds', (t) => {
  const S = struct({ f: 'utf8[4]', b: 'bytes(3)', x: 'bytes[2]' });
  t.is(S.size, 4 + 2 + 3 + 2 + 1);
  const v = { f: '€', b: Uint8Array.of(1, 2), x: Uint8Array.of(9, 8) };
  const bytes = S.encode(v);
  t.deepEqual([...bytes.subarray(0, 4)], [0xe2, 0x82, 0xac, 0]);
  t.deepEqual(S.decode(bytes), v);
  t.deepEqual(S.decode(S.encode({ f: 'abcd', b: new Uint8Array(0), x: Uint8Array.of(0, 0) })), { f: 'abcd', b: new Uint8Array(0), x: Uint8Array.of(0, 0) });
  refusedUnwritten(t, S, { ...v, f: 'abcde' }, { instanceOf: RangeError, message: /^f=/ });
  refusedUnwritten(t, S, { ...v, f: 'ab€' }, { instanceOf: RangeError, message: /^f=/ });
  refusedUnwritten(t, S, { ...v, b: Uint8Array.of(1, 2, 3, 4) }, { instanceOf: RangeError, message: /^b=.*at most 3 bytes/ });
  refusedUnwritten(t, S, { ...v, x: Uint8Array.of(1) }, { instanceOf: RangeError, message: /^x=.*exactly 2 bytes/ });
  refusedUnwritten(t, S, { ...v, x: [1, 2] }, { instanceOf: TypeError, message: /^x=/ });
  const decoded = S.decode(bytes);
  bytes.fill(0x77);
  t.deepEqual(decoded.b, Uint8Array.of(1, 2), 'a decoded byte array is a copy');
});

test('nested structs and arrays follow the layout rule; a refusal names the path', (t) => {
  const Point = struct({ x: 'f64', y: 'f32' }, { name: 'Point' });
  t.is(Point.size, 16);
  t.is(Point.align, 8);
  const S = struct({ tag: 'u8', at: Point, path: array(Point, 2), v: 'u16[3]', grid: 'u8[2][3]', names: array('utf8(3)', 2) }, { name: 'Shape' });
  t.deepEqual(
    S.fields.map((f) => [f.name, f.offset]),
    [['tag', 0], ['at', 8], ['path', 24], ['v', 56], ['grid', 62], ['names', 68]],
  );
  t.is(S.size, 80);
  t.is(S.canonical, 'struct(80,8){tag:u8@0;at:struct(16,8){x:f64@0;y:f32@8}@8;path:struct(16,8){x:f64@0;y:f32@8}[2]@24;v:u16[3]@56;grid:u8[2][3]@62;names:utf8(3)[2]@68}');
  const value = { tag: 1, at: { x: 1.5, y: 2.5 }, path: [{ x: 3, y: 4 }, { x: 5, y: 6 }], v: [1, 2, 3], grid: [[1, 2], [3, 4], [5, 6]], names: ['a', 'bé'] };
  t.deepEqual(S.decode(S.encode(value)), value);
  refusedUnwritten(t, S, { ...value, path: [{ x: 3, y: 4 }, { x: 5 }] }, { instanceOf: TypeError, message: /^path\[1\]\.y=undefined.*missing/ });
  refusedUnwritten(t, S, { ...value, grid: [[1, 2], [3, 256], [5, 6]] }, { instanceOf: RangeError, message: /^grid\[1\]\[1\]=256/ });
  refusedUnwritten(t, S, { ...value, v: [1, 2] }, { instanceOf: RangeError, message: /^v=.*exactly 3/ });
  refusedUnwritten(t, S, { ...value, at: null }, { instanceOf: TypeError, message: /^at=null/ });
  const bad = S.encode(value);
  bad[68 + 5] = 9; // names[1]'s length
  t.throws(() => S.decode(bad), { code: 'ERR_BAD_MESSAGE', message: /field names\[1\]: a length of 9/ });
});

test('padding is written as zero', (t) => {
  const S = struct({ a: 'u8', b: 'f64', c: 'u16' });
  const bytes = new Uint8Array(S.size).fill(0xee);
  S.encodeInto({ a: 0xff, b: 0, c: 0 }, bytes, 0);
  t.deepEqual([...bytes], [0xff, 0, 0, 0, 0, 0, 0, 0, ...new Array(16).fill(0)]);
});

test('a tail: its u32 length in the fixed part, its bytes after it; a record whose length disagrees is refused', (t) => {
  const S = struct({ id: 'u8', body: 'utf8*' });
  t.is(S.size, 8);
  t.deepEqual(S.fields.at(-1), { name: 'body', kind: 'utf8*', offset: 4, size: 4 });
  const bytes = S.encode({ id: 7, body: 'héllo' });
  t.is(bytes.length, 8 + 6);
  t.deepEqual([...bytes.subarray(0, 8)], [7, 0, 0, 0, 6, 0, 0, 0]);
  t.deepEqual(S.decode(bytes), { id: 7, body: 'héllo' });
  t.deepEqual(S.decode(S.encode({ id: 1, body: '' })), { id: 1, body: '' });
  t.throws(() => S.decode(bytes.subarray(0, 13)), { code: 'ERR_BAD_MESSAGE', message: /13 bytes whose tail body declares 6/ });
  t.throws(() => S.decode(bytes.subarray(0, 7)), { code: 'ERR_BAD_MESSAGE', message: /shorter than the fixed part/ });
  const B = struct({ data: 'bytes*' });
  t.deepEqual(B.decode(B.encode({ data: Uint8Array.of(1, 2, 3) })), { data: Uint8Array.of(1, 2, 3) });
  t.throws(() => struct({ body: 'utf8*', id: 'u8' }), { instanceOf: TypeError, message: /only as the last field/ });
  t.throws(() => struct({ inner: S }), { instanceOf: TypeError, message: /without a variable-length tail/ });
});

test('a record shorter or longer than the layout is refused', (t) => {
  const S = struct({ a: 'u32', b: 'u16' });
  t.is(S.size, 8);
  for (const length of [0, 7, 9, 16]) t.throws(() => S.decode(new Uint8Array(length)), { code: 'ERR_BAD_MESSAGE', message: new RegExp(`a record of ${length} bytes`) });
});

test('encodeInto writes at its offset, refuses a target without room, and encodedLength checks the value', (t) => {
  const S = struct({ a: 'u32', s: 'utf8*' });
  const value = { a: 1, s: 'xyz' };
  t.is(S.encodedLength(value), 11);
  const bytes = new Uint8Array(20).fill(0xee);
  t.is(S.encodeInto(value, bytes, 5), 11);
  t.deepEqual(S.decode(bytes.subarray(5, 16)), value);
  t.throws(() => S.encodeInto(value, new Uint8Array(10), 0), { instanceOf: RangeError, message: /room for 11 bytes/ });
  t.throws(() => S.encodeInto(value, bytes, 21), { instanceOf: RangeError, message: /^offset=21/ });
  // (values the types refuse too, as a JavaScript caller may pass them)
  t.throws(() => S.encodedLength({ a: 1 } as never), { instanceOf: TypeError, message: /^s=undefined/ });
  t.throws(() => S.encodedLength(5 as never), { instanceOf: TypeError, message: /^value=5/ });
});

test('a getter that answers differently after the check writes nothing outside the record', (t) => {
  const S = struct({ s: 'utf8(4)', rest: 'bytes*' });
  let calls = 0;
  const sneaky = {
    get s() {
      return calls++ === 0 ? 'ab' : 'abcdefghij';
    },
    rest: Uint8Array.of(1),
  };
  const bytes = new Uint8Array(32).fill(0xee);
  S.encodeInto(sneaky, bytes, 0);
  t.true(bytes.subarray(S.size + 1).every((b) => b === 0xee), 'nothing past the record');
  const out = S.decode(bytes.subarray(0, S.size + 1));
  t.true((out.s as string).length <= 4);
});

test('declarations are refused with a clear error', (t) => {
  t.throws(() => struct({}), { instanceOf: TypeError, message: /at least one field/ });
  t.throws(() => struct({ a: 'u33' }), { instanceOf: TypeError, message: /^a="u33"/ });
  t.throws(() => struct({ a: 'utf8(0)' }), { instanceOf: TypeError });
  t.throws(() => struct({ a: 'utf8(65536)' }), { instanceOf: TypeError });
  t.throws(() => struct({ a: 'utf8(3]' }), { instanceOf: TypeError });
  t.throws(() => struct({ 'a-b': 'u8' }), { instanceOf: TypeError, message: /an identifier/ });
  t.throws(() => struct({ ['__proto__']: 'u8' }), { instanceOf: TypeError, message: /other than __proto__/ });
  t.throws(() => struct({ 'a"); process.exit(1); ("': 'u8' }), { instanceOf: TypeError, message: /an identifier/ });
  t.throws(() => struct({ constructor: 'toString' } as never), { instanceOf: TypeError });
  t.throws(() => array('u8', 0), { instanceOf: RangeError });
  t.throws(() => struct({ a: 'u8' }, { name: 'x y' }), { instanceOf: TypeError });
});

test('the flyweight reads fields in place, is one reused object, and shows the newer record once rewrapped', (t) => {
  const Point = struct({ x: 'f64', y: 'f64' });
  const S = struct({ id: 'u32', at: Point, s: 'utf8(8)', tail: 'bytes*' }, { name: 'Rec' });
  const first = S.encode({ id: 1, at: { x: 1, y: 2 }, s: 'one', tail: Uint8Array.of(1) });
  const second = S.encode({ id: 2, at: { x: 3, y: 4 }, s: 'two', tail: Uint8Array.of(2, 2) });
  const v = S.view(first);
  t.is(v.id, 1);
  t.is((v.at as { x: number }).x, 1);
  t.is(v.s, 'one');
  t.deepEqual(v.tail, Uint8Array.of(1));
  t.deepEqual(Object.keys(v), []); // getters on its prototype
  first[0] = 9; // read on access: a change of the bytes shows
  t.is(v.id, 9);
  const w = S.view(second);
  t.is(w, v, 'the same object');
  t.is(v.id, 2, 'the old reference now reads the newer record');
  t.is((v.at as { y: number }).y, 4);
  t.deepEqual(v.tail, Uint8Array.of(2, 2));
  t.throws(() => S.view(first.subarray(0, 10)), { code: 'ERR_BAD_MESSAGE' });
  const bad = Uint8Array.from(second);
  bad[S.fields[2]!.offset] = 50;
  const u = S.view(bad);
  t.throws(() => u.s, { code: 'ERR_BAD_MESSAGE', message: /field s/ }, 'a field is checked when it is read');
});

test('canonical form and hash', (t) => {
  const Tick = struct({ id: 'u32', ts: 'f64', price: 'f64', symbol: 'utf8(16)', flags: 'u8' }, { name: 'Tick' });
  t.is(Tick.canonical, 'struct(48,8){id:u32@0;ts:f64@8;price:f64@16;symbol:utf8(16)@24;flags:u8@42}');
  t.is(Tick.hash, '7962a2655056718e');
  t.is(Tick.hashBigInt, 0x7962a2655056718en);
  t.is(struct({ id: 'u32', ts: 'f64', price: 'f64', symbol: 'utf8(16)', flags: 'u8' }, { name: 'Other' }).hash, Tick.hash, 'the type name is not part of it');
  t.not(struct({ id: 'u32', ts: 'f64', price: 'f64', sym: 'utf8(16)', flags: 'u8' }).hash, Tick.hash, 'field names are');
});

test('toPython gives a struct format and names that read the record Node wrote', (t) => {
  const Point = struct({ x: 'f64', y: 'f32' });
  const S = struct({ id: 'u32', at: Point, s: 'utf8(5)', v: 'i16[2]', ok: 'bool', tail: 'utf8*' });
  const py = S.toPython();
  t.is(py.format, '<I4xdf4xH5sxhh?3xI4x');
  t.deepEqual(py.names, ['id', 'at.x', 'at.y', 's.length', 's', 'v[0]', 'v[1]', 'ok', 'tail.length']);
  t.is(py.size, S.size);
  t.deepEqual(py.tail, { name: 'tail', kind: 'utf8' });
  let python = false;
  try {
    execFileSync('python3', ['-c', 'pass']);
    python = true;
  } catch {
    // no python here: the format is checked as a string only
  }
  if (!python) return t.pass();
  const record = S.encode({ id: 7, at: { x: 1.5, y: 2.5 }, s: 'hé', v: [-1, 2], ok: true, tail: 'tail!' });
  const script = `import struct, sys, json
fmt = ${JSON.stringify(py.format)}
buf = bytes.fromhex(sys.argv[1])
assert struct.calcsize(fmt) == ${py.size}
v = struct.unpack_from(fmt, buf)
names = ${JSON.stringify(py.names)}
d = dict(zip(names, v))
s = d['s'][:d['s.length']].decode()
tail = buf[${py.size}:${py.size} + d['tail.length']].decode()
print(json.dumps([d['id'], d['at.x'], d['at.y'], s, d['v[0]'], d['v[1]'], d['ok'], tail]))`;
  const out = execFileSync('python3', ['-c', script, Buffer.from(record).toString('hex')], { encoding: 'utf8' });
  t.deepEqual(JSON.parse(out), [7, 1.5, 2.5, 'hé', -1, 2, true, 'tail!']);
});

test('toC gives a declaration whose _Static_asserts hold and that reads the record Node wrote', (t) => {
  const Point = struct({ x: 'f64', y: 'f32' });
  const S = struct({ id: 'u32', at: Point, s: 'utf8(5)', v: 'i16[2]', grid: 'u8[2][3]', fixed: 'utf8[3]', ok: 'bool', tail: 'utf8*' });
  const c = S.toC('Rec');
  t.regex(c, /typedef struct \{/);
  t.regex(c, /_Static_assert\(sizeof\(Rec\) == \d+/);
  t.regex(c, /uint8_t grid\[3\]\[2\];/);
  let cc = false;
  try {
    execFileSync('cc', ['--version']);
    cc = true;
  } catch {
    // no compiler: the declaration is checked as a string only
  }
  if (!cc) return t.pass();
  const dir = mkdtempSync(join(tmpdir(), 'shmring-schema-c-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const record = S.encode({ id: 7, at: { x: 1.5, y: 2.5 }, s: 'hé', v: [-1, 2], grid: [[1, 2], [3, 4], [5, 6]], fixed: 'ab', ok: true, tail: 'tail!' });
  const bytes = [...record].join(',');
  writeFileSync(
    join(dir, 'rec.c'),
    `${c}
#include <stdio.h>
#include <string.h>
static const unsigned char bytes[] = { ${bytes} };
int main(void) {
  Rec r; memcpy(&r, bytes, sizeof r);
  printf("%u %.1f %.1f %.*s %d %d %d %d %.3s %d %.*s\\n", r.id, r.at.x, (double)r.at.y, (int)r.s.length, (const char *)r.s.bytes, r.v[0], r.v[1],
         r.grid[1][0], r.grid[2][1], r.fixed, r.ok, (int)r.tail_length, (const char *)Rec_tail((const Rec *)bytes));
  return 0;
}
`,
  );
  execFileSync('cc', ['-std=c11', '-Wall', '-Werror', '-o', join(dir, 'rec'), join(dir, 'rec.c')]);
  t.is(execFileSync(join(dir, 'rec'), { encoding: 'utf8' }), '7 1.5 2.5 hé -1 2 3 6 ab 1 tail!\n');
});
