// Big messages move once: a transfer list (as MessagePort's) detaches the sender's buffers and
// a queued message whose bytes are a transferred buffer is kept as it is, never copied (a spy
// on Uint8Array.prototype.slice, the copy the send queue makes, is the control); a claim on a
// 'raw' channel is ring memory when it fits a record and room is there, else a buffer of its
// own, larger than a record included; bad input is refused with nothing sent.
import * as workerThreads from 'node:worker_threads';
import test, { type ExecutionContext } from 'ava';
import { Channel, createWriteStream, type ShmError } from '../src/index.js';
import { sweep } from './helpers/resources.js';

test.after.always(sweep);

function pair(t: ExecutionContext, options: Parameters<typeof Channel.create>[1] = {}): { a: Channel; b: Channel } {
  const a = Channel.create(undefined, options);
  const b = Channel.connect(a.address, { codec: options.codec });
  t.teardown(() => {
    a.close();
    b.close();
  });
  return { a, b };
}

function received(ch: Channel, count: number): Promise<unknown[]> {
  return new Promise((resolve) => {
    const got: unknown[] = [];
    ch.on('message', (m) => {
      got.push(m);
      if (got.length === count) resolve(got);
    });
  });
}

function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

/** Counts the calls of Uint8Array.prototype.slice (how the send queue copies) while `fn` runs. */
function slices(fn: () => void): number {
  const original = Uint8Array.prototype.slice;
  let calls = 0;
  Uint8Array.prototype.slice = function (this: Uint8Array, ...args: [number?, number?]) {
    calls++;
    return original.apply(this, args);
  } as typeof original;
  try {
    fn();
  } finally {
    Uint8Array.prototype.slice = original;
  }
  return calls;
}

test('a transferred buffer that waits for room is detached and queued without a copy; the bytes arrive', async (t) => {
  const { a, b } = pair(t, { codec: 'raw', capacity: 64 * 1024 });
  const big = pattern(1 << 20, 7);
  const expected = big.slice();
  const arrived = received(b, 1);
  const copies = slices(() => a.postMessage(big, [big.buffer]));
  t.is(big.byteLength, 0, 'the sender lost its buffer');
  t.true(a.queuedBytes > 0, 'most of it waits for room');
  t.is(copies, 0, 'nothing copied it into the queue');
  t.deepEqual(new Uint8Array((await arrived)[0] as Uint8Array), expected);
});

test('control: the same buffer sent without a transfer is copied into the queue once, and stays the sender\'s', async (t) => {
  const { a, b } = pair(t, { codec: 'raw', capacity: 64 * 1024 });
  const big = pattern(1 << 20, 9);
  const arrived = received(b, 1);
  const copies = slices(() => a.postMessage(big));
  t.is(big.byteLength, 1 << 20);
  t.is(copies, 1);
  t.deepEqual(new Uint8Array((await arrived)[0] as Uint8Array), big);
});

test('transfer as { transfer } and with the default codec: the buffers are detached, the value arrives', async (t) => {
  const { a, b } = pair(t);
  const one = new ArrayBuffer(16);
  new Uint8Array(one).fill(5);
  const two = new Uint8Array([1, 2, 3]);
  const arrived = received(b, 2);
  a.postMessage({ one }, { transfer: [one] });
  a.postMessage(two, [two.buffer]);
  t.is(one.byteLength, 0);
  t.is(two.byteLength, 0);
  const [first, second] = await arrived;
  t.deepEqual(new Uint8Array((first as { one: ArrayBuffer }).one), new Uint8Array(16).fill(5));
  t.deepEqual(Uint8Array.from(second as Uint8Array), Uint8Array.from([1, 2, 3]));
});

test('a bad transfer list is refused as MessagePort refuses it, nothing is sent or detached, and the channel goes on', async (t) => {
  const { a, b } = pair(t, { codec: 'raw' });
  const kept = new Uint8Array(8);
  const arrived = received(b, 1);
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      const err = error as Error & { code?: unknown };
      return `${err.name} ${String(err.code ?? '')}`.trim();
    }
    return 'no error';
  };
  t.is(code(() => a.postMessage(kept, [kept.buffer, kept.buffer])), 'DataCloneError 25', 'a buffer listed twice');
  t.is(code(() => a.postMessage(kept, [1 as never])), 'TypeError ERR_INVALID_TRANSFER_OBJECT');
  t.is(code(() => a.postMessage(kept, [new SharedArrayBuffer(8) as never])), 'TypeError ERR_INVALID_TRANSFER_OBJECT', 'shared memory cannot be transferred');
  t.is(code(() => a.postMessage(kept, [kept as never])), 'TypeError ERR_INVALID_TRANSFER_OBJECT', 'a view, not its buffer');
  t.is(code(() => a.postMessage(kept, 5 as never)), 'TypeError ERR_INVALID_ARG_TYPE');
  t.is(kept.byteLength, 8, 'nothing was detached');
  a.postMessage(Uint8Array.of(42));
  t.deepEqual((await arrived).map((m) => Array.from(m as Uint8Array)), [[42]], 'only the good message arrived');
});

test('a buffer Node marked untransferable (Buffer pool memory) is refused in a transfer list as MessagePort refuses it (Node 21+), nothing sent or detached', async (t) => {
  if (typeof (workerThreads as { isMarkedAsUntransferable?: unknown }).isMarkedAsUntransferable !== 'function') {
    t.pass(`Node ${process.versions.node} cannot tell an untransferable buffer (its MessagePort copies one instead)`);
    return;
  }
  const { a, b } = pair(t, { codec: 'raw' });
  const arrived = received(b, 1);
  const pooled = new Uint8Array(16).fill(7);
  workerThreads.markAsUntransferable(pooled.buffer);
  const port = new workerThreads.MessageChannel();
  t.teardown(() => port.port1.close());
  const nodeError = t.throws(() => port.port1.postMessage(pooled, [pooled.buffer]));
  const ours = t.throws(() => a.postMessage(pooled, [pooled.buffer]));
  t.is(ours?.name, nodeError?.name, "the same kind of error as MessagePort's");
  t.is(ours?.name, 'DataCloneError');
  t.is(pooled.byteLength, 16, 'nothing detached');
  a.postMessage(Uint8Array.of(1));
  t.deepEqual((await arrived).map((m) => Array.from(m as Uint8Array)), [[1]], 'nothing was sent; the channel goes on');
});

test('claim(): ring memory when it fits, one message either way; a claim larger than a ring record arrives whole', async (t) => {
  const { a, b } = pair(t, { codec: 'raw', capacity: 64 * 1024 });
  const arrived = received(b, 3);
  const small = a.claim(100);
  t.true(small.bytes.buffer.byteLength > 64 * 1024, 'written in place: a view of the segment');
  small.bytes.set(pattern(100, 1));
  t.true(small.commit());
  const large = a.claim(200_000); // a record carries at most 16 KiB here
  t.is(large.bytes.buffer.byteLength, 200_000, 'a buffer of its own');
  large.bytes.set(pattern(200_000, 2));
  large.commit();
  a.postMessage(pattern(10, 3));
  const got = (await arrived) as Uint8Array[];
  t.deepEqual(got.map((m) => m.length), [100, 200_000, 10]);
  t.deepEqual(Uint8Array.from(got[0]!), pattern(100, 1));
  t.deepEqual(Uint8Array.from(got[1]!), pattern(200_000, 2));
});

test('claim(): bad lengths, a second claim or a post while one is open, commit twice, a codec other than raw and a closed channel are clear errors; abort sends nothing', async (t) => {
  const { a, b } = pair(t, { codec: 'raw', capacity: 64 * 1024, maxMessageSize: 1 << 20 });
  const arrived = received(b, 2);
  const code = (fn: () => unknown) => (t.throws(fn) as ShmError).code ?? (t.throws(fn) as Error).name;
  t.is((t.throws(() => a.claim(0)) as Error).name, 'RangeError');
  t.is((t.throws(() => a.claim(1.5)) as Error).name, 'RangeError');
  t.is((t.throws(() => a.claim('8' as never)) as Error).name, 'TypeError');
  t.is(code(() => a.claim((1 << 20) + 1)), 'ERR_MESSAGE_TOO_LARGE');
  const open = a.claim(8);
  t.is(code(() => a.claim(8)), 'ERR_CLAIM_PENDING');
  t.is(code(() => a.postMessage(new Uint8Array(1))), 'ERR_CLAIM_PENDING');
  open.abort();
  t.is(code(() => open.commit()), 'ERR_CLAIM_DONE');
  const sent = a.claim(3);
  sent.bytes.set([1, 2, 3]);
  sent.commit();
  t.is(code(() => sent.commit()), 'ERR_CLAIM_DONE');
  a.postMessage(Uint8Array.of(4));
  t.deepEqual((await arrived).map((m) => Array.from(m as Uint8Array)), [[1, 2, 3], [4]], 'the aborted claim sent nothing');
  const { a: objects } = pair(t);
  t.is(code(() => objects.claim(8)), 'ERR_NOT_SUPPORTED');
  a.close();
  t.is(code(() => a.claim(8)), 'ERR_CLOSED');
});

test('a write stream queues a chunk that waits for room without copying it (the chunk is the stream\'s until written, as net.Socket keeps it)', async (t) => {
  const { a, b } = pair(t, { codec: 'raw', capacity: 64 * 1024 });
  const chunk = Buffer.from(pattern(1 << 20, 11));
  const arrived = received(b, 1);
  const stream = createWriteStream(a);
  const copies = slices(() => stream.write(chunk));
  t.true(a.queuedBytes > 0, 'most of it waits for room');
  t.is(copies, 0);
  t.deepEqual(new Uint8Array((await arrived)[0] as Uint8Array), new Uint8Array(chunk));
  stream.destroy();
});

test('a small received message shares its buffer with its neighbours: transferring it is refused, and the others stay whole', async (t) => {
  const { a, b } = pair(t, { codec: 'raw' });
  const arrived = received(b, 3);
  for (let i = 1; i <= 3; i++) a.postMessage(Uint8Array.of(i, i, i));
  const got = (await arrived) as Uint8Array[];
  t.is(got[0]!.buffer, got[1]!.buffer, 'one pooled chunk');
  const err = (() => {
    try {
      b.postMessage(got[0], [got[0]!.buffer]);
    } catch (error) {
      return error as Error;
    }
    return undefined;
  })();
  t.is(err?.name, 'DataCloneError');
  t.deepEqual(got.map((m) => Array.from(m)), [[1, 1, 1], [2, 2, 2], [3, 3, 3]], 'nothing was detached');
  const copy = got[0]!.slice();
  b.postMessage(copy, [copy.buffer]); // a copy of its own transfers
  t.is(copy.byteLength, 0);
});

test('a claim of its own buffer (the ring was full) blocks other writes until it ends, as a ring claim does', (t) => {
  const { a } = pair(t, { codec: 'raw', capacity: 64 * 1024 });
  while (a.queuedBytes === 0) a.postMessage(new Uint8Array(8000)); // fill the ring (nobody reads)
  const claim = a.claim(100);
  t.is(claim.bytes.buffer.byteLength, 100, 'a buffer of its own');
  t.is((t.throws(() => a.postMessage(new Uint8Array(1))) as ShmError).code, 'ERR_CLAIM_PENDING');
  t.is((t.throws(() => a.claim(1)) as ShmError).code, 'ERR_CLAIM_PENDING');
  claim.abort();
  t.notThrows(() => a.postMessage(new Uint8Array(1)));
});
