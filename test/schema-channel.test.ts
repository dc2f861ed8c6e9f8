// A schema as a Channel's codec: records written straight into ring memory and decoded from
// it, between two real processes; both ends agree on the schema or the connector is refused
// before it joins (ERR_SCHEMA_MISMATCH, either way round; the same schema joins); a value
// the schema refuses sends nothing; a record the schema refuses is a 'messageerror'.
import test, { type ExecutionContext } from 'ava';
import { isDeepStrictEqual } from 'node:util';
import { array, Channel, fork, ShmError, struct, type Codec } from '../src/index.js';
import { finished, startFixture } from './helpers/processes.js';
import { fileAddress, shmAddress, sweep, sysvAddress } from './helpers/resources.js';

test.after.always(sweep);

const Tick = struct({ id: 'u32', ts: 'f64', payload: 'utf8(40)' }, { name: 'Tick' });
const Blob = struct({ n: 'u32', data: 'bytes*' }, { name: 'Blob' });

function open(t: ExecutionContext, options?: Parameters<typeof Channel.create>[1]): Channel {
  const ch = Channel.create(shmAddress(t), options);
  t.teardown(() => ch.close());
  return ch;
}

function join(t: ExecutionContext, address: string, options?: Parameters<typeof Channel.connect>[1]): Channel {
  const ch = Channel.connect(address, options);
  t.teardown(() => ch.close());
  return ch;
}

function next(ch: Channel): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message within 10 s')), 10_000);
    ch.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
  });
}

test('a Channel with a schema codec between two processes: records both ways, in order and intact', async (t) => {
  t.timeout(120_000);
  const count = 20_000;
  const ch = open(t, { codec: Tick, capacity: 1 << 14 });
  const child = startFixture(t, 'schema-writer', ['channel', ch.address, String(count)], { timeoutMs: 110_000 });
  const result = finished(child);
  let echoes = 0;
  let own = 0;
  let bad: string | undefined;
  const all = new Promise<void>((resolve) => {
    ch.on('message', (value: unknown) => {
      const m = value as { id: number; ts: number; payload: string };
      if (m.id >= 1_000_000) {
        const i = m.id - 1_000_000;
        if (bad === undefined && (i !== own || m.ts !== i / 4 || m.payload !== `child ${i} ${'é'.repeat(i % 10)}`)) bad = `child record ${own}: ${JSON.stringify(m)}`;
        own++;
      } else {
        if (bad === undefined && (m.id !== echoes + 1 || m.ts !== -echoes || m.payload !== `p${echoes}€`)) bad = `echo ${echoes}: ${JSON.stringify(m)}`;
        echoes++;
      }
      if (echoes === count && own === count) resolve();
    });
  });
  let sent = 0;
  const send = () => {
    while (sent < count) {
      const below = ch.postMessage({ id: sent, ts: -sent, payload: `p${sent}€` });
      sent++;
      if (!below) return void ch.once('drain', send); // (queued: sent all the same)
    }
  };
  send();
  await all;
  t.is(bad, undefined);
  ch.close();
  const { code, stdout, stderr } = await result;
  t.is(code, 0, stderr);
  t.is(stdout.trim(), String(count));
});

test('connect with another schema, or none, is refused before joining; the same schema joins', async (t) => {
  const Other = struct({ id: 'u32', ts: 'f64', payload: 'utf8(41)' }, { name: 'Other' });
  const ch = open(t, { codec: Tick });
  for (const codec of [Other, undefined, 'json' as const, 'raw' as const]) {
    const err = t.throws(() => Channel.connect(ch.address, codec === undefined ? undefined : { codec }), { instanceOf: ShmError, code: 'ERR_SCHEMA_MISMATCH' });
    t.true(err!.message.includes(Tick.canonical), 'names the channel schema');
    if (codec === Other) t.true(err!.message.includes(Other.canonical), 'names this side schema');
  }
  // Control: the same schema (declared anew, same layout) joins the channel the refused ones left alone.
  const peer = join(t, ch.address, { codec: struct({ id: 'u32', ts: 'f64', payload: 'utf8(40)' }) });
  const got = next(peer);
  ch.postMessage({ id: 1, ts: 2, payload: 'joined' });
  t.deepEqual(await got, { id: 1, ts: 2, payload: 'joined' });
  // A channel without a schema refuses a schema connector.
  const plain = open(t);
  t.throws(() => Channel.connect(plain.address, { codec: Tick }), { code: 'ERR_SCHEMA_MISMATCH', message: /created with no schema; this side's codec is schema [0-9a-f]{16} \(Tick struct/ });
  join(t, plain.address); // control
});

for (const [backend, address] of [['file:', fileAddress], ['sysv:', sysvAddress], ['fd:', () => undefined]] as const) {
  test(`over ${backend} segments too: another schema is refused, the same one joins`, async (t) => {
    const ch = Channel.create(address(t), { codec: Tick });
    t.teardown(() => ch.close());
    t.throws(() => Channel.connect(ch.address, { codec: Blob }), { code: 'ERR_SCHEMA_MISMATCH' });
    t.throws(() => Channel.connect(ch.address), { code: 'ERR_SCHEMA_MISMATCH' });
    const peer = join(t, ch.address, { codec: Tick });
    const got = next(peer);
    ch.postMessage({ id: 5, ts: 6, payload: backend });
    t.deepEqual(await got, { id: 5, ts: 6, payload: backend });
  });
}

test('a value the schema refuses sends nothing: the peer gets only the valid messages', async (t) => {
  const ch = open(t, { codec: Tick });
  const peer = join(t, ch.address, { codec: Tick });
  const received: unknown[] = [];
  const errors: unknown[] = [];
  peer.on('messageerror', (e) => errors.push(e));
  const both = new Promise<void>((resolve) => peer.on('message', (m) => received.push(m) === 2 && resolve()));
  ch.postMessage({ id: 1, ts: 0, payload: 'a' });
  t.throws(() => ch.postMessage({ id: 2, ts: 0, payload: 'x'.repeat(41) }), { instanceOf: RangeError, message: /^payload=.*at most 40 bytes/ });
  t.throws(() => ch.postMessage({ id: 2 ** 32, ts: 0, payload: '' }), { instanceOf: RangeError, message: /^id=4294967296/ });
  t.throws(() => ch.postMessage({ id: 3, payload: '' }), { instanceOf: TypeError, message: /^ts=undefined.*missing/ });
  t.is(ch.queuedBytes, 0);
  ch.postMessage({ id: 4, ts: 0, payload: 'b' });
  await both;
  t.deepEqual(received, [
    { id: 1, ts: 0, payload: 'a' },
    { id: 4, ts: 0, payload: 'b' },
  ]);
  t.deepEqual(errors, []);
});

test('a value that changes while it is written into ring memory drops its claim: nothing is sent', async (t) => {
  const ch = open(t, { codec: Blob });
  const peer = join(t, ch.address, { codec: Blob });
  const received: unknown[] = [];
  const errors: unknown[] = [];
  peer.on('messageerror', (e) => errors.push(e));
  const both = new Promise<void>((resolve) => peer.on('message', (m) => received.push(m) === 2 && resolve()));
  ch.postMessage({ n: 1, data: Uint8Array.of(1) });
  let reads = 0;
  const sneaky = {
    n: 2,
    get data() {
      return reads++ === 0 ? Uint8Array.of(2, 2, 2) : Uint8Array.of(2, 2, 2, 2, 2);
    },
  };
  t.throws(() => ch.postMessage(sneaky), { instanceOf: RangeError, message: /^data=.*changed while encoded/ });
  t.is(reads, 2, 'it was measured, then written into the claim');
  ch.postMessage({ n: 3, data: Uint8Array.of(3) });
  await both;
  t.deepEqual(received, [
    { n: 1, data: Uint8Array.of(1) },
    { n: 3, data: Uint8Array.of(3) },
  ]);
  t.deepEqual(errors, []);
});

test('a record the schema refuses is a messageerror; the next message arrives', async (t) => {
  // A hostile creator: claims Tick's identity but writes bytes of its own.
  const liar: Codec = {
    encode: (v) => v as Uint8Array,
    decode: (b) => b,
    direct: { encodedLength: (v) => (v as Uint8Array).length, encodeInto: (v, bytes, offset) => bytes.set(v as Uint8Array, offset) },
    identity: Tick.identity,
  };
  const ch = open(t, { codec: liar });
  const peer = join(t, ch.address, { codec: Tick });
  const errors: Error[] = [];
  peer.on('messageerror', (e) => errors.push(e));
  const got = next(peer);
  const long = Tick.encode({ id: 1, ts: 1, payload: '' });
  long[16] = 41; // a payload length past its bound
  ch.postMessage(long);
  ch.postMessage(new Uint8Array(Tick.size - 1)); // shorter than the layout
  ch.postMessage(Tick.encode({ id: 9, ts: 9, payload: 'fine' }));
  t.deepEqual(await got, { id: 9, ts: 9, payload: 'fine' });
  t.is(errors.length, 2);
  t.true(errors.every((e) => (e as ShmError).code === 'ERR_BAD_MESSAGE'));
  t.regex(errors[0]!.message, /field payload: a length of 41 bytes past its bound of 40/);
  t.regex(errors[1]!.message, /a record of 63 bytes \(the layout is 64\)/);
});

test('records larger than a ring record travel in pieces, and wait in the queue while the ring is full', async (t) => {
  t.timeout(60_000);
  const ch = open(t, { codec: Blob, capacity: 4096 });
  const peer = join(t, ch.address, { codec: Blob });
  const sizes = [0, 10, 1000, 1020, 5000, 20_000, 3, 4000];
  const received: Array<{ n: number; data: Uint8Array }> = [];
  const all = new Promise<void>((resolve) => peer.on('message', (m) => received.push(m as { n: number; data: Uint8Array }) === sizes.length * 5 && resolve()));
  let k = 0;
  for (let round = 0; round < 5; round++) for (const size of sizes) ch.postMessage({ n: k++, data: new Uint8Array(size).fill(k & 0xff) });
  await all;
  k = 0;
  for (const m of received) {
    const size = sizes[k % sizes.length]!;
    k++;
    if (m.n !== k - 1 || m.data.length !== size || !m.data.every((b) => b === (k & 0xff))) t.fail(`message ${k - 1}`);
    if (m.data.buffer instanceof SharedArrayBuffer) t.fail('a decoded byte array views shared memory');
  }
  t.is(received.length, sizes.length * 5);
});

test('fork() refuses a schema as its codec: its child rebuilds codecs by name', (t) => {
  t.throws(() => fork('never-started.js', [], { shm: { codec: Tick as never } }), { instanceOf: TypeError, message: /^options\.shm\.codec=.*rebuilds it by name/ });
});

test('every field kind through a Channel in one process: written and read in place in ring memory, each record equal to what was sent, the ring wrapped many times', async (t) => {
  const Point = struct({ x: 'f64', y: 'i32' });
  const All = struct({
    i8: 'i8', u8: 'u8', i16: 'i16', u16: 'u16', i32: 'i32', u32: 'u32', f32: 'f32', f64: 'f64', big: 'u64', neg: 'i64', small: 'i64:number', ok: 'bool',
    name: 'utf8(12)', blob: 'bytes(5)', code: 'utf8[4]', key: 'bytes[3]', vec: 'f64[3]', grid: 'u8[2][3]', at: Point, path: array(Point, 2), rest: 'utf8*',
  });
  const value = (i: number) => {
    const k = i + 1; // (no -0: an integer field gives 0 back)
    return {
      i8: (k % 256) - 128, u8: k % 256, i16: -k, u16: k % 65536, i32: -k * 1000, u32: (k * 2654435761) % 2 ** 32, f32: k * 0.5, f64: k / 3,
      big: BigInt(k) << 40n, neg: -(BigInt(k) << 30n), small: k * 1e6, ok: k % 2 === 1,
      name: 'é'.repeat(k % 7), blob: new Uint8Array(k % 6).fill(k & 0xff), code: 'ab', key: new Uint8Array([k & 0xff, 1, 2]),
      vec: [k, -k, 0.5], grid: [[1, 2], [3, 4], [k & 0xff, 6]], at: { x: -k, y: k }, path: [{ x: 1, y: 2 }, { x: k, y: -k }], rest: 'x'.repeat(k % 90),
    };
  };
  const a = open(t, { codec: All, capacity: 4096 });
  const b = join(t, a.address, { codec: All });
  const count = 3000;
  let sent = 0;
  let received = 0;
  let bad: string | undefined;
  const errors: unknown[] = [];
  b.on('messageerror', (e) => errors.push(e));
  let ended: unknown;
  b.on('close', (reason) => (ended = reason ?? 'closed'));
  while (received + errors.length < count && ended === undefined) {
    while (sent < count && sent - received - errors.length < 20) a.postMessage(value(sent++)); // (within the ring: 20 records of under 200 bytes)
    for (let m = b.receiveMessage(); m !== undefined; m = b.receiveMessage()) {
      if (bad === undefined && !isDeepStrictEqual(m.message, value(received))) bad = `record ${received}: ${JSON.stringify(m.message, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`;
      received++;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.is(ended, undefined);
  t.deepEqual(errors, []);
  t.is(bad, undefined);
  t.is(received, count);
});
