// Channel over shared memory in one process and between threads (what holds on every
// transport, ZeroMQ too, is test/channel-conformance.test.ts): receiveMessage, wrong options,
// foreign segments, a channel still being made, a third party, hostile frames, flushSync, the futex fallback and a worker
// connected by address.
import test, { type ExecutionContext } from 'ava';
import { readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { Channel, Segment, ShmError, SpscRing } from '../src/index.js';
import { tryWriteTagged } from '../src/ring/spsc/ring.js';
import { channelBytes } from '../src/transport/header.js';
import { channelLayout } from '../src/transport/layout.js';
import { DEFAULT_CAPACITY } from '../src/transport/options.js';
import { FIRST, MORE, PIECE_HEADER, WHOLE, writePieceHeader } from '../src/transport/layout.js';
import { shmAddress, sweep } from './helpers/resources.js';
import { next, take } from './helpers/channel-events.js';

test.after.always(sweep);

type Options = Parameters<typeof Channel.create>[1];

function pair(t: ExecutionContext, options?: Options, connectOptions?: Parameters<typeof Channel.connect>[1]): [Channel, Channel] {
  const a = Channel.create(shmAddress(t), options);
  const b = Channel.connect(a.address, connectOptions ?? { codec: options?.codec, wake: options?.wake });
  t.teardown(() => {
    a.close();
    b.close();
  });
  return [a, b];
}

/** The file of a shm: address. */
function shmPath(address: string): string {
  return `/dev/shm/${address.slice('shm:'.length)}`;
}

function shmExists(address: string): boolean {
  return readdirSync('/dev/shm').includes(address.slice('shm:'.length));
}

/** A worker thread running test/fixtures/NAME.ts (through tsx) with `workerData`, terminated at teardown. */
function fixtureWorker(t: ExecutionContext, name: string, workerData: unknown): Worker {
  const fixture = new URL(`./fixtures/${name}.ts`, import.meta.url).href;
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(fixture)}); });`;
  const worker = new Worker(code, { eval: true, workerData });
  t.teardown(() => worker.terminate());
  return worker;
}

test('receiveMessage takes one message at a time without blocking; undefined when none', async (t) => {
  const [a, b] = pair(t, { capacity: 4096 });
  t.is(b.receiveMessage(), undefined);
  a.postMessage('one');
  a.postMessage(new Uint8Array(3000)); // in pieces over a 4 KiB ring
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(b.receiveMessage(), { message: 'one' });
  const big = b.receiveMessage();
  t.true((big?.message as Uint8Array).length === 3000);
  t.is(b.receiveMessage(), undefined);
});

test('wrong option types and ranges are TypeError / RangeError naming the value', (t) => {
  const address = shmAddress(t);
  t.throws(() => Channel.create(address, { capacity: 1000 }), { instanceOf: RangeError, message: /^capacity=1000/ });
  t.throws(() => Channel.create(address, { capacity: '4096' as never }), { instanceOf: TypeError, message: /^capacity="4096"/ });
  t.throws(() => Channel.create(address, { highWaterMark: -1 }), { instanceOf: RangeError, message: /^highWaterMark=-1/ });
  t.throws(() => Channel.create(address, { maxMessageSize: 2 ** 33 }), { instanceOf: RangeError, message: /^maxMessageSize=/ });
  t.throws(() => Channel.create(address, { codec: 'yaml' as never }), { instanceOf: TypeError, message: /^codec="yaml"/ });
  t.throws(() => Channel.create(address, { wake: 'poll' as never }), { instanceOf: TypeError, message: /^wake="poll"/ });
  t.throws(() => Channel.create(address, null as never), { instanceOf: TypeError, message: /^options=null/ });
  t.throws(() => Channel.connect(42 as never), { instanceOf: TypeError, message: /^address=42/ });
  t.false(shmExists(address), 'nothing was created');
});

test('connect: ENOENT for a missing address, ERR_SHM_BAD_HEADER for a ring or a foreign segment, ERR_ROLE_TAKEN for a third party', (t) => {
  t.throws(() => Channel.connect(`shm:shmring-test-missing-${process.pid}`), { code: 'ENOENT' } as never);
  const ringAddress = shmAddress(t);
  SpscRing.create(ringAddress, { capacity: 4096 }).close();
  t.throws(() => Channel.connect(ringAddress), { code: 'ERR_SHM_BAD_HEADER', message: /bare ring/ } as never);
  const foreign = shmAddress(t);
  const seg = Segment.create(foreign, { size: 8192 });
  new Uint8Array(seg.buffer).fill(0x5a);
  seg.close();
  t.throws(() => Channel.connect(foreign), { code: 'ERR_SHM_BAD_HEADER' } as never);
  const [a] = pair(t);
  t.throws(() => Channel.connect(a.address), { code: 'ERR_ROLE_TAKEN' } as never);
});

/**
 * Connects to `address` (prepared by `prepare`) while a worker thread finishes making a channel
 * there about 100 ms later: the connector starts before the worker's first step.
 */
async function connectWhileMade(t: ExecutionContext, prepare: (path: string) => void): Promise<unknown> {
  const address = shmAddress(t);
  const spare = shmAddress(t);
  prepare(shmPath(address));
  const go = new Int32Array(new SharedArrayBuffer(4));
  const worker = fixtureWorker(t, 'channel-late-creator', { address, path: shmPath(address), spare, go });
  await new Promise((resolve) => worker.once('message', resolve)); // 'ready': loaded, it waits on `go`
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  try {
    const ch = Channel.connect(address); // blocks while the worker makes it
    ch.close();
    await new Promise((resolve) => worker.once('message', resolve));
    return 'joined';
  } catch (err) {
    return (err as ShmError).code;
  } finally {
    worker.postMessage('end');
  }
}

test('connect waits for a channel whose creator has made the name but not yet sized it (0 bytes), then joins', async (t) => {
  t.timeout(30_000);
  t.is(await connectWhileMade(t, (path) => writeFileSync(path, '', { mode: 0o600 })), 'joined');
});

test('connect waits for a channel whose creator has sized it but not yet stored its magic (zeros), then joins', async (t) => {
  t.timeout(30_000);
  t.is(await connectWhileMade(t, (path) => writeFileSync(path, Buffer.alloc(channelBytes(DEFAULT_CAPACITY)), { mode: 0o600 })), 'joined');
});

test('connect to a name that stays empty or all zeros: ERR_SHM_TRUNCATED or ERR_SHM_BAD_HEADER once the wait ends, no hang', (t) => {
  const empty = shmAddress(t);
  writeFileSync(shmPath(empty), '', { mode: 0o600 });
  t.throws(() => Channel.connect(empty), { code: 'ERR_SHM_TRUNCATED' } as never);
  const zeros = shmAddress(t);
  writeFileSync(shmPath(zeros), Buffer.alloc(8192), { mode: 0o600 });
  t.throws(() => Channel.connect(zeros), { code: 'ERR_SHM_BAD_HEADER', message: /zeros/ } as never);
});

/** A hostile writer: the connector's ring, written directly. */
function hostile(t: ExecutionContext, capacity = 4096): { ch: Channel; ring: SpscRing } {
  const ch = Channel.create(shmAddress(t), { capacity, maxMessageSize: 1 << 20 });
  t.teardown(() => ch.close());
  const seg = Segment.open(ch.address);
  t.teardown(() => seg.close());
  const layout = channelLayout(SpscRing.requiredBytes(capacity));
  const ring = SpscRing.open(seg, { byteOffset: layout.ringB, byteLength: SpscRing.requiredBytes(capacity), role: 'producer' });
  return { ch, ring };
}

/** Writes a frame as a peer would: a record tagged with its kind (a FIRST frame's payload starts with the piece header). */
function frame(ring: SpscRing, kind: number, total: number, payload: Uint8Array): void {
  const header = kind === FIRST ? PIECE_HEADER : 0;
  const bytes = new Uint8Array(header + payload.length);
  if (kind === FIRST) writePieceHeader(bytes, total);
  bytes.set(payload, header);
  tryWriteTagged(ring, bytes, kind);
}

test('corrupt frames give messageerror, allocate nothing from a hostile length, and the channel goes on', (t) => {
  const { ch, ring } = hostile(t);
  const errors: Error[] = [];
  ch.on('messageerror', (err) => errors.push(err));
  ring.tryWrite(new Uint8Array(3)); // an untagged record: no frame kind
  frame(ring, 9, 0, new Uint8Array(4)); // unknown kind
  tryWriteTagged(ring, new Uint8Array(3), FIRST); // shorter than a piece header
  frame(ring, FIRST, 0xffffffff, new Uint8Array(16)); // 4 GiB declared: refused before any allocation
  frame(ring, MORE, 0, new Uint8Array(16)); // skipped with the refused message
  frame(ring, WHOLE, 0, new Uint8Array([0xc3])); // msgpack true: delivered
  frame(ring, MORE, 0, new Uint8Array(16)); // a piece without a first piece
  frame(ring, FIRST, 100, new Uint8Array(10));
  frame(ring, MORE, 0, new Uint8Array(200)); // overruns its message
  frame(ring, WHOLE, 0, new Uint8Array([0xc1, 0xff, 0x00])); // v8 marker, then garbage
  frame(ring, WHOLE, 0, new Uint8Array([0xa5, 0x68])); // a msgpack string of 5 bytes holding 1
  frame(ring, WHOLE, 0, new Uint8Array([0xa5, 0x76, 0x61, 0x6c, 0x69, 0x64])); // 'valid'
  frame(ring, FIRST, 100, new Uint8Array(10)); // never finished:
  frame(ring, WHOLE, 0, new Uint8Array([0xa4, 0x6c, 0x61, 0x74, 0x65])); // 'late' ends it (refused) and arrives itself
  ring.flush();
  const got: unknown[] = [];
  for (let m = ch.receiveMessage(); m !== undefined; m = ch.receiveMessage()) got.push(m.message);
  t.deepEqual(got, [true, 'valid', 'late'], 'the valid messages around them arrive, in order');
  t.is(errors.length, 9, errors.map((e) => e.message).join('; '));
  t.true(errors.every((e) => (e as ShmError).code === 'ERR_BAD_MESSAGE'));
  t.false(ch.closed);
});

test('a ring whose records break its invariants closes the channel with ERR_SHM_BAD_HEADER', async (t) => {
  const { ch } = hostile(t);
  const seg = Segment.open(ch.address);
  t.teardown(() => seg.close());
  const layout = channelLayout(SpscRing.requiredBytes(4096));
  const i32 = new Int32Array(seg.buffer);
  // A record claiming 1 GiB at the start of the data area, published by moving the tail.
  const data = (layout.ringB + 512) >> 2;
  i32[data] = 1 << 30;
  i32[data + 1] = 1;
  Atomics.store(i32, (layout.ringB + 128) >> 2, 16);
  const closed = next(ch, 'close');
  ch.on('message', () => t.fail('no message'));
  t.is(((await closed) as ShmError).code, 'ERR_SHM_BAD_HEADER');
});

test('flushSync: ERR_TIMEOUT while the peer makes no room, the queue kept in order; bad timeouts refused', async (t) => {
  const [a, b] = pair(t, { codec: 'raw', capacity: 4096 });
  for (let i = 0; i < 10; i++) a.postMessage(Buffer.alloc(1000, i)); // most wait for room
  t.true(a.queuedBytes > 0);
  const error = t.throws(() => a.flushSync(50), { instanceOf: ShmError }) as ShmError;
  t.is(error.code, 'ERR_TIMEOUT');
  t.throws(() => a.flushSync(-1), { instanceOf: RangeError, message: /timeoutMs=-1/ });
  t.throws(() => a.flushSync('1' as unknown as number), { instanceOf: TypeError, message: /timeoutMs/ });
  const got = (await take(b, 10)) as Uint8Array[];
  t.deepEqual(
    got.map((m) => m[0]),
    Array.from({ length: 10 }, (_, i) => i),
  );
  a.flushSync(50); // nothing queued now: returns at once
  t.is(a.queuedBytes, 0);
  a.close();
  t.throws(() => a.flushSync(), { instanceOf: ShmError, message: /closed/ });
});

test("the futex wake-up ('futex') works like the doorbell", async (t) => {
  const [a, b] = pair(t, { wake: 'futex' });
  const got = take(b, 200);
  for (let i = 0; i < 200; i++) a.postMessage(i);
  t.deepEqual(await got, Array.from({ length: 200 }, (_, i) => i));
  const back = next(a);
  b.postMessage('back');
  t.is(await back, 'back');
});

function startWorker(t: ExecutionContext, address: string, wake?: 'futex'): Worker {
  return fixtureWorker(t, 'channel-worker', { address, wake });
}

for (const wake of [undefined, 'futex'] as const) {
  test(`a worker thread connects by the address in workerData and echoes (${wake ?? 'socket'})`, async (t) => {
    t.timeout(30_000);
    const ch = Channel.create(shmAddress(t), { wake });
    t.teardown(() => ch.close());
    const worker = startWorker(t, ch.address, wake);
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    const replies = take(ch, 1000);
    for (let i = 0; i < 1000; i++) ch.postMessage({ i, big: i % 100 === 0 ? new Uint8Array(100_000) : undefined });
    const got = (await replies) as Array<{ i: number }>;
    t.deepEqual(got.map((m) => m.i), Array.from({ length: 1000 }, (_, i) => i));
    ch.close();
    t.is(await exited, 0, 'the worker exits by itself once its channel closed');
    t.false(shmExists(ch.address));
  });
}

test('many idle channels waiting leave fs.readFile working (no pool thread per channel)', async (t) => {
  const channels: Channel[] = [];
  for (let i = 0; i < 100; i++) {
    const [a, b] = pair(t, { capacity: 4096 });
    b.on('message', () => {});
    channels.push(a, b);
  }
  const reads = await Promise.all(Array.from({ length: 8 }, () => readFile(new URL(import.meta.url))));
  t.true(reads.every((r) => r.length > 0));
  const got = next(channels[1]!);
  channels[0]!.postMessage('still alive');
  t.is(await got, 'still alive');
});

test('an anonymous channel (no address) is reachable by its fd: address in this process', async (t) => {
  const a = Channel.create(undefined, { capacity: 4096 });
  t.teardown(() => a.close());
  t.regex(a.address, /^fd:\d+$/);
  const b = Channel.connect(a.address);
  t.teardown(() => b.close());
  const got = next(b);
  a.postMessage('anonymous');
  t.is(await got, 'anonymous');
});

test('a worker ended by terminate() is a dead peer: close with ERR_PEER_DEAD, and the segment goes', async (t) => {
  t.timeout(30_000);
  const ch = Channel.create(shmAddress(t));
  t.teardown(() => ch.close());
  const worker = startWorker(t, ch.address);
  const echoed = next(ch);
  ch.postMessage('ping');
  t.is(await echoed, 'ping');
  const reason = next(ch, 'close');
  await worker.terminate();
  t.is(((await reason) as ShmError).code, 'ERR_PEER_DEAD');
  t.false(shmExists(ch.address));
});
