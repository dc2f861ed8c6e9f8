// The Channel contract that holds on any transport, written once and run over shared memory
// and over ZeroMQ (tcp:// on loopback): order both ways, close reaching the peer, messages kept
// for the first listener, async iteration, references, bad values, the size limit at the
// sender, decoded bytes the transport never rewrites, and per-channel codec state.
import test, { type ExecutionContext } from 'ava';
import { readdirSync } from 'node:fs';
import { Channel, ShmError, type ZmqChannel, type ZmqChannelOptions } from '../src/index.js';
import { shmAddress, sweep } from './helpers/resources.js';
import { next, take } from './helpers/channel-events.js';

test.after.always(sweep);

type AnyChannel = Channel | ZmqChannel;
type Options = Parameters<typeof Channel.create>[1] & ZmqChannelOptions;

interface Transport {
  name: string;
  /** Two connected ends; both closed at teardown. */
  pair(t: ExecutionContext, options?: Options, connectOptions?: Options): Promise<[AnyChannel, AnyChannel]>;
  /** Whether what the channel at `address` held is gone (its segment, its port). */
  released(address: string): boolean;
}

function shmExists(address: string): boolean {
  return readdirSync('/dev/shm').includes(address.slice('shm:'.length));
}

const TRANSPORTS: Transport[] = [
  {
    name: 'shared memory',
    async pair(t, options, connectOptions) {
      const a = Channel.create(shmAddress(t), options);
      const b = Channel.connect(a.address, connectOptions ?? { codec: options?.codec, wake: options?.wake });
      t.teardown(() => {
        a.close();
        b.close();
      });
      return [a, b];
    },
    released: (address) => !shmExists(address),
  },
  {
    name: 'ZeroMQ',
    async pair(t, options, connectOptions) {
      const { highWaterMark: _, ...zmqOptions } = options ?? {};
      const a = Channel.create('tcp://127.0.0.1:0', zmqOptions);
      const connected = new Promise((resolve) => a.once('connect', () => resolve(undefined)));
      const b = Channel.connect(a.address as `tcp://${string}`, connectOptions ?? { codec: options?.codec });
      t.teardown(() => {
        a.close();
        b.close();
      });
      await connected; // a creator over ZeroMQ has nobody to queue for until the peer is there
      return [a, b];
    },
    released(address) {
      try {
        Channel.create(address as `tcp://${string}`, { linger: 0 }).close(); // the port is free again
        return true;
      } catch {
        return false;
      }
    },
  },
];

/** What fn throws (a DOMException is not a native error, which t.throws insists on). */
function thrown(fn: () => unknown): Error | undefined {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  return undefined;
}

for (const transport of TRANSPORTS) {
  const { name, pair } = transport;

  test(`${name}: messages both ways, in order; close reaches the other side; what it held is released`, async (t) => {
    t.timeout(30_000);
    const [a, b] = await pair(t);
    const fromA = take(b, 100);
    const fromB = take(a, 100);
    for (let i = 0; i < 100; i++) {
      t.true(a.postMessage({ i, side: 'a' }));
      t.true(b.postMessage({ i, side: 'b' }));
    }
    t.deepEqual(await fromA, Array.from({ length: 100 }, (_, i) => ({ i, side: 'a' })));
    t.deepEqual(await fromB, Array.from({ length: 100 }, (_, i) => ({ i, side: 'b' })));
    const bClosed = next(b, 'close');
    const aClosed = next(a, 'close');
    // take() removed the listeners, so nothing holds this process open while b waits for the
    // peer's close (a 'close' listener does not ref a channel, as on a MessagePort): ref it.
    b.ref();
    a.close();
    t.is(await bClosed, undefined, "the peer's close has no error");
    t.is(await aClosed, undefined);
    t.true(transport.released(a.address));
  });

  test(`${name}: messages sent before the first listener are kept and delivered to it, in order`, async (t) => {
    const [a, b] = await pair(t);
    for (let i = 0; i < 50; i++) a.postMessage(i);
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.deepEqual(await take(b, 50), Array.from({ length: 50 }, (_, i) => i));
  });

  test(`${name}: for await reads messages until the peer closes`, async (t) => {
    t.timeout(30_000);
    const [a, b] = await pair(t);
    const got: unknown[] = [];
    const reading = (async () => {
      for await (const m of b) got.push(m);
    })();
    for (let i = 0; i < 10; i++) a.postMessage(i);
    await new Promise((resolve) => setTimeout(resolve, 20));
    a.close();
    await reading;
    t.deepEqual(got, Array.from({ length: 10 }, (_, i) => i));
  });

  test(`${name}: a message listener refs the channel; removing it or unref() unrefs it`, async (t) => {
    const [a] = await pair(t);
    t.false(a.hasRef());
    const on = () => {};
    a.on('message', on);
    t.true(a.hasRef());
    a.unref();
    t.false(a.hasRef());
    a.ref();
    t.true(a.hasRef());
    a.off('message', on);
    t.false(a.hasRef());
  });

  test(`${name}: uncloneable values throw a DataCloneError from postMessage and send nothing`, async (t) => {
    for (const codec of ['structured', 'advanced'] as const) {
      const [a, b] = await pair(t, { codec });
      for (const bad of [() => 1, Symbol('s'), { f() {} }, [Symbol.iterator]]) {
        t.is(thrown(() => a.postMessage(bad))?.name, 'DataCloneError', `${codec}: ${typeof bad}`);
      }
      a.postMessage('after');
      t.is(await next(b), 'after', `${codec}: nothing was sent before`);
    }
    const [a, b] = await pair(t, { codec: 'json' });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const bad of [1n, cycle, undefined, () => 1]) {
      t.is(thrown(() => a.postMessage(bad))?.name, 'DataCloneError', `json: ${typeof bad}`);
    }
    a.postMessage({ ok: true });
    t.deepEqual(await next(b), { ok: true });
    const [r] = await pair(t, { codec: 'raw' });
    t.throws(() => r.postMessage('text'), { instanceOf: TypeError, message: /^message=/ });
  });

  test(`${name}: postMessage after close() is ERR_CLOSED; close is idempotent`, async (t) => {
    const [a] = await pair(t);
    a.close();
    a.close();
    t.throws(() => a.postMessage(1), { instanceOf: ShmError, code: 'ERR_CLOSED' } as never);
  });

  test(`${name}: messages larger than the maximum are ERR_MESSAGE_TOO_LARGE at the sender`, async (t) => {
    const [a] = await pair(t, { maxMessageSize: 1000 });
    t.throws(() => a.postMessage(new Uint8Array(2000)), { code: 'ERR_MESSAGE_TOO_LARGE' } as never);
  });

  test(`${name}: a decoded Buffer never aliases memory the transport reuses`, async (t) => {
    for (const codec of ['raw', 'advanced', 'structured'] as const) {
      const [a, b] = await pair(t, { codec, capacity: 4096 });
      const first = Buffer.alloc(100, 1);
      const received: Uint8Array[] = [];
      const done = take(b, 40);
      b.on('message', (m) => received.push(codec === 'raw' ? (m as Uint8Array) : (m as { b: Uint8Array }).b));
      a.postMessage(codec === 'raw' ? first : { b: first });
      for (let i = 0; i < 39; i++) a.postMessage(codec === 'raw' ? Buffer.alloc(100, 2) : { b: Buffer.alloc(100, 2) }); // laps the ring
      await done;
      t.true(received[0]!.every((x) => x === 1), `${codec}: the first message is unchanged after the ring was reused`);
    }
  });

  test(`${name}: a Buffer the sender rewrites after postMessage arrives as it was posted, also when it waited for room`, async (t) => {
    // 200 messages of 1,000 bytes (then of 100) through a 4 KiB ring (over ZeroMQ, a high-water
    // mark of 2 messages): most wait in the sender's queue, and the sender refills its one
    // buffer before each post.
    for (const size of [1000, 100]) {
      const [a, b] = await pair(t, { codec: 'raw', capacity: 4096, sendHighWaterMark: 2 });
      const done = take(b, 200);
      const buffer = Buffer.alloc(size);
      let waited = 0;
      for (let i = 0; i < 200; i++) {
        a.postMessage(buffer.fill(i & 0xff));
        waited = Math.max(waited, a.queuedBytes);
      }
      const got = (await done) as Uint8Array[];
      t.deepEqual(
        got.map((m) => (m.every((x) => x === m[0]) ? m[0] : -1)),
        Array.from({ length: 200 }, (_, i) => i & 0xff),
        `${size} B messages`,
      );
      t.true(waited > 0, `${size} B: messages waited for room in this process`);
    }
  });

  test(`${name}: two default-codec channels in one thread keep their record shapes apart`, async (t) => {
    const [a1, b1] = await pair(t);
    const [a2, b2] = await pair(t);
    const one = take(b1, 3);
    const two = take(b2, 3);
    a1.postMessage({ x: 1, y: 2 });
    a2.postMessage({ p: 'q' });
    a2.postMessage({ x: 3, y: 4 });
    a1.postMessage({ p: 'r' });
    a1.postMessage({ x: 5, y: 6 });
    a2.postMessage({ p: 's' });
    t.deepEqual(await one, [{ x: 1, y: 2 }, { p: 'r' }, { x: 5, y: 6 }]);
    t.deepEqual(await two, [{ p: 'q' }, { x: 3, y: 4 }, { p: 's' }]);
  });
}
