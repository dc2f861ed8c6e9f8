// Channels between real processes: long mixed streams both ways, every structured-clone
// type through each codec that claims it, a 64 MiB message over a 1 MiB ring, backpressure
// against a receiver that stops reading, a SIGKILLed peer, ref/unref and process exit.
import test, { type ExecutionContext } from 'ava';
import { readdirSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { Channel } from '../src/index.js';
import { native } from '../src/native.js';
import { watchPeer } from '../src/transport/peer-watch.js';
import { packIdentity, processStartTime } from '../src/sync/identity.js';
import { seededMessage } from './helpers/channel-messages.js';
import { finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

function open(t: ExecutionContext, options?: Parameters<typeof Channel.create>[1]): Channel {
  const ch = Channel.create(shmAddress(t), options);
  t.teardown(() => ch.close());
  return ch;
}

function closed(ch: Channel): Promise<Error | undefined> {
  return new Promise((resolve) => ch.once('close', resolve));
}

function shmExists(address: string): boolean {
  return readdirSync('/dev/shm').includes(address.slice('shm:'.length));
}

function segmentGone(address: string): boolean {
  return !shmExists(address);
}

test('100,000 mixed messages each way between two processes arrive in order and intact', async (t) => {
  t.timeout(180_000);
  const count = 100_000;
  const seed = 20261126;
  const ch = open(t, { capacity: 64 * 1024 });
  const child = startFixture(t, 'channel-peer', ['stream', ch.address, String(count), String(seed)], { timeoutMs: 170_000 });
  const result = finished(child);
  const ended = closed(ch);
  let received = 0;
  let bad = -1;
  const all = new Promise<void>((resolve) => {
    ch.on('message', (m) => {
      if (bad < 0 && !isDeepStrictEqual(m, seededMessage(seed, received))) bad = received;
      if (++received === count) resolve();
    });
  });
  let sent = 0;
  const send = () => {
    while (sent < count) {
      if (!ch.postMessage(seededMessage(seed + 1, sent++))) return void ch.once('drain', send);
    }
  };
  send();
  await all;
  const { code, stdout, stderr } = await result;
  t.is(code, 0, stderr);
  t.deepEqual(JSON.parse(stdout), { received: count, bad: -1 }, 'the child got every message intact, in order');
  t.is(bad, -1, 'every message from the child intact, in order');
  t.is(received, count);
  await ended; // the child closed after its last message
  t.true(segmentGone(ch.address), 'the segment is removed once both ends closed');
});

function sparse(): unknown[] {
  const a = [1, , 3]; // eslint-disable-line no-sparse-arrays
  a.length = 6;
  return a;
}

function cyclic(): unknown {
  const o: Record<string, unknown> = { name: 'loop' };
  o.self = o;
  o.list = [o];
  return o;
}

/** Every structured-clone type; checked by `same` since deepStrictEqual misses -0, holes and cycles. */
const STRUCTURED: Array<[string, () => unknown]> = [
  ['small object', () => ({ id: 1, ts: 2, payload: 'x'.repeat(40) })],
  ['BigInt of 64 bits', () => 2n ** 63n - 1n],
  ['BigInt of 300 bits', () => -(2n ** 300n) + 7n],
  ['-0', () => -0],
  ['NaN', () => NaN],
  ['undefined', () => undefined],
  ['null', () => null],
  ['sparse array', sparse],
  ['cycle', cyclic],
  ['Error', () => Object.assign(new RangeError('out of range'), { code: 'E_X' })],
  ['RegExp', () => /a+b/giu],
  ['Date', () => new Date(1_700_000_000_000)],
  ['Map', () => new Map<unknown, unknown>([[1, { a: 1 }], ['k', [2]]])],
  ['Set', () => new Set([1, 'two', 3n])],
  ['Uint8Array', () => new Uint8Array([1, 2, 3, 255])],
  ['Buffer', () => Buffer.from('hello')],
  ['Float64Array', () => new Float64Array([1.5, -0, NaN])],
  ['BigInt64Array', () => new BigInt64Array([-1n, 2n ** 62n])],
  ['ArrayBuffer', () => new Uint8Array([9, 8, 7]).buffer],
  ['nested', () => ({ a: [new Map([[1, new Set([new Date(0)])]])], b: { c: undefined, d: -0 } })],
  ['Boolean object', () => new Boolean(false)], // eslint-disable-line no-new-wrappers
  ['String object', () => new String('boxed')], // eslint-disable-line no-new-wrappers
];

function same(t: ExecutionContext, codec: string, type: string, got: unknown, sent: unknown): void {
  const name = `${codec}: ${type}`;
  switch (type) {
    case '-0':
      t.true(Object.is(got, -0), name);
      return;
    case 'sparse array':
      t.is((got as unknown[]).length, 6, name);
      t.false(1 in (got as unknown[]), `${name}: the hole stays a hole`);
      t.deepEqual([(got as unknown[])[0], (got as unknown[])[2]], [1, 3], name);
      return;
    case 'cycle': {
      const o = got as Record<string, unknown>;
      t.is(o.self, o, name);
      t.is((o.list as unknown[])[0], o, name);
      return;
    }
    case 'Error': {
      const e = got as RangeError & { code: string };
      t.true(e instanceof RangeError, name);
      t.is(e.message, 'out of range', name);
      t.is(typeof e.stack, 'string', name);
      return;
    }
    case 'Buffer':
    case 'Uint8Array':
      t.true(got instanceof Uint8Array, name);
      t.deepEqual([...(got as Uint8Array)], [...(sent as Uint8Array)], name);
      return;
    case 'nested':
      t.deepEqual(got, sent, name);
      t.true(Object.is((got as { b: { d: number } }).b.d, -0), `${name}: nested -0`);
      return;
    default:
      t.deepEqual(got, sent, name);
  }
}

async function echoAll(t: ExecutionContext, codec: 'structured' | 'advanced', values: Array<[string, () => unknown]>): Promise<void> {
  const ch = open(t, { codec, capacity: 16 * 1024 });
  const child = finished(startFixture(t, 'channel-peer', ['echo', ch.address, codec]));
  const replies: unknown[] = [];
  const all = new Promise<void>((resolve) => {
    ch.on('message', (m) => {
      replies.push(m);
      if (replies.length === values.length) resolve();
    });
  });
  for (const [, make] of values) ch.postMessage(make());
  await all;
  values.forEach(([type, make], i) => same(t, codec, type, replies[i], make()));
  ch.close();
  await child;
}

test('every structured-clone type makes a round trip through the default codec', async (t) => {
  await echoAll(t, 'structured', STRUCTURED);
});

test("every structured-clone type makes a round trip through 'advanced' (v8.serialize)", async (t) => {
  await echoAll(t, 'advanced', STRUCTURED);
});

test("JSON values make a round trip through 'json'; bytes through 'raw'", async (t) => {
  const json = open(t, { codec: 'json' });
  const jsonChild = finished(startFixture(t, 'channel-peer', ['echo', json.address, 'json']));
  const values = [{ a: 1, b: [true, null, 'x'] }, 'text', 3.5, [], {}];
  const got: unknown[] = [];
  await new Promise<void>((resolve) => {
    json.on('message', (m) => got.push(m) === values.length && resolve());
    for (const v of values) json.postMessage(v);
  });
  t.deepEqual(got, values);
  json.close();
  const raw = open(t, { codec: 'raw' });
  const rawChild = finished(startFixture(t, 'channel-peer', ['echo', raw.address, 'raw']));
  const bytes = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
  const back = await new Promise<Uint8Array>((resolve) => {
    raw.once('message', (m) => resolve(m as Uint8Array));
    raw.postMessage(bytes);
  });
  t.true(back instanceof Uint8Array);
  t.deepEqual(back, bytes);
  raw.close();
  await Promise.all([jsonChild, rawChild]);
});

test('a 64 MiB message crosses a 1 MiB ring and back, byte for byte', async (t) => {
  t.timeout(120_000);
  const ch = open(t, { codec: 'raw', capacity: 1 << 20 });
  const child = finished(startFixture(t, 'channel-peer', ['echo', ch.address, 'raw'], { timeoutMs: 110_000 }));
  const big = Buffer.allocUnsafe(64 << 20);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const back = await new Promise<Uint8Array>((resolve) => {
    ch.once('message', (m) => resolve(m as Uint8Array));
    ch.postMessage(big);
  });
  t.is(back.length, big.length);
  t.true(Buffer.from(back.buffer, back.byteOffset, back.length).equals(big), 'every byte');
  ch.close();
  await child;
});

test('backpressure: a receiver that stops reading makes postMessage return false; drain follows; nothing lost', async (t) => {
  t.timeout(60_000);
  const ch = open(t, { capacity: 4096, highWaterMark: 16 * 1024 });
  const child = startFixture(t, 'channel-peer', ['lazy', ch.address], { stdio: ['pipe', 'pipe', 'pipe'] });
  const ready = lineFrom(child, /ready/);
  const result = finished(child);
  await ready;
  let sent = 0;
  while (ch.postMessage({ i: sent++, pad: 'p'.repeat(100) }));
  t.true(ch.queuedBytes >= 16 * 1024, 'the queue holds the highWaterMark');
  t.true(sent > 10, `${sent} messages were accepted before false`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.true(ch.queuedBytes >= 16 * 1024, 'nothing moves while the receiver does not read');
  const drained = new Promise<void>((resolve) => ch.once('drain', resolve));
  child.stdin!.write(`${sent}\n`);
  await drained;
  t.is(ch.queuedBytes, 0);
  const { code, stdout, stderr } = await result;
  t.is(code, 0, stderr);
  t.deepEqual(JSON.parse(stdout.split('\n')[1]!), { received: sent, bad: -1 }, 'every message arrived, in order');
});

test('a peer killed with SIGKILL: every message it published arrives, then close with ERR_PEER_DEAD', async (t) => {
  const ch = open(t, { capacity: 64 * 1024 });
  const got: number[] = [];
  ch.on('message', (m) => got.push((m as { i: number }).i));
  const reason = closed(ch);
  const child = startFixture(t, 'channel-peer', ['die', ch.address, '500']);
  const result = await finished(child);
  t.is(result.signal, 'SIGKILL');
  const err = (await reason) as Error & { code: string };
  t.is(err?.code, 'ERR_PEER_DEAD');
  t.deepEqual(got, Array.from({ length: 500 }, (_, i) => i), 'all 500, in order, before close');
  t.true(ch.closed);
  t.true(segmentGone(ch.address), 'the survivor removed the segment');
});

test("an unref'd idle channel lets the process exit; a listening one keeps it alive until the peer closes", async (t) => {
  const a = open(t);
  const unrefd = startFixture(t, 'channel-peer', ['unref', a.address]);
  const r1 = await finished(unrefd);
  t.is(r1.code, 0, r1.stderr);
  t.deepEqual(JSON.parse(r1.stdout), { ready: true, hasRef: false });
  const b = open(t);
  const refd = startFixture(t, 'channel-peer', ['refd', b.address]);
  const r2 = finished(refd);
  await lineFrom(refd, /ready/);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(refd.exitCode, null, 'still alive while its channel listens');
  b.close();
  const done = await r2;
  t.is(done.code, 0, done.stderr);
  t.regex(done.stdout, /"closed":true/);
});

// Serial: the exiting side waits up to 1 s at a time for room (EXIT_STALL_MS), and the other tests
// of this file (a 64 MiB message, 100,000 checked messages) can hold this process's event loop that long.
test.serial('a message posted right before process.exit() arrives whole, even when it did not fit the ring', async (t) => {
  const ch = open(t, { codec: 'raw', capacity: 64 * 1024 });
  const got = new Promise<Uint8Array>((resolve) => ch.once('message', (m) => resolve(m as Uint8Array)));
  const reason = closed(ch);
  const result = await finished(startFixture(t, 'channel-peer', ['exit', ch.address, String(3 << 20)]));
  t.is(result.code, 0, result.stderr);
  t.true((JSON.parse(result.stdout) as { queued: number }).queued > 0, 'most of it was still queued at exit');
  const message = await Promise.race([got, reason.then(() => new Uint8Array(0))]);
  t.is(message.length, 3 << 20, 'the whole message came before the close');
  t.true(message.every((x, i) => x === i % 253));
  t.is(await reason, undefined, 'the exiting side closed the channel');
});

test('a peer killed after this side closed: this side removes the segment when the peer dies', async (t) => {
  const ch = open(t);
  const child = startFixture(t, 'channel-peer', ['busy', ch.address]);
  const done = finished(child);
  await lineFrom(child, /ready/);
  ch.close(); // the peer is alive (and too busy to notice): the segment stays for it
  t.true(shmExists(ch.address));
  child.kill('SIGKILL');
  await done;
  for (let i = 0; i < 1000 && shmExists(ch.address); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.false(shmExists(ch.address), 'removed once the peer died');
});

test("the futex wake-up between processes: both sides on 'futex', 2,000 round trips in order", async (t) => {
  const ch = open(t, { wake: 'futex' });
  const child = finished(startFixture(t, 'channel-peer', ['echo', ch.address, 'structured', 'futex']));
  let expected = 0;
  let bad = 0;
  await new Promise<void>((resolve, reject) => {
    ch.on('message', (m) => {
      if (m !== expected) bad++;
      if (++expected === 2000) resolve();
      else ch.postMessage(expected);
    });
    // (a channel that ends first says why, and what the peer printed, instead of leaving the test unresolved)
    ch.once('close', (reason) => void child.then((r) => reject(new Error(`closed after ${expected} round trips (${String(reason)}); the peer: code ${r.code}, ${r.stderr}`))));
    ch.postMessage(0);
  });
  t.is(bad, 0);
  ch.close();
  await child;
});

test('without pidfd_open, a timer finds the dead peer (pid and start time)', async (t) => {
  const original = native.pidfdOpen;
  native.pidfdOpen = () => {
    throw Object.assign(new Error('ENOSYS: pidfd_open'), { code: 'ENOSYS' });
  };
  t.teardown(() => {
    native.pidfdOpen = original;
  });
  const ch = open(t);
  const child = startFixture(t, 'channel-peer', ['busy', ch.address]);
  const done = finished(child);
  await lineFrom(child, /ready/);
  const identity = packIdentity(child.pid!, processStartTime(child.pid!)!);
  const dead = new Promise<void>((resolve) => watchPeer(identity, resolve));
  const reason = closed(ch);
  child.kill('SIGKILL');
  await done;
  await dead;
  t.is(((await reason) as Error & { code: string }).code, 'ERR_PEER_DEAD', 'the channel saw it too');
});
