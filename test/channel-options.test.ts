// Every option of Channel.create, Channel.connect, createWriteStream and createReadStream,
// against every kind of bad value (0, negative, NaN, fractions, Infinity, huge, wrong types):
// a TypeError or RangeError naming the option and the value, thrown before anything is made
// or attached, and the edge values that must still work.
import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { Channel, createReadStream, createWriteStream } from '../src/index.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

type Bad = [option: string, value: unknown, error: typeof TypeError | typeof RangeError];

/** Options both ends take (checked by create and connect alike). */
const bothEnds: Bad[] = [
  ['highWaterMark', 0, RangeError], // every postMessage would return false, and no 'drain' would follow
  ['highWaterMark', -1, RangeError],
  ['highWaterMark', NaN, RangeError],
  ['highWaterMark', 1.5, RangeError],
  ['highWaterMark', -Infinity, RangeError],
  ['highWaterMark', '1024', TypeError],
  ['highWaterMark', null, TypeError],
  ['highWaterMark', 1024n, TypeError],
  ['codec', 'yaml', TypeError],
  ['codec', null, TypeError],
  ['codec', 7, TypeError],
  ['codec', {}, TypeError],
  ['codec', { encode: () => new Uint8Array(), decode: 'no' }, TypeError],
  ['wake', 'poll', TypeError],
  ['wake', null, TypeError],
  ['wake', 1, TypeError],
  // create: the channel's largest message; connect: the largest this side accepts
  ['maxMessageSize', 0, RangeError], // a channel's header with 0 would be refused by connect
  ['maxMessageSize', -1, RangeError],
  ['maxMessageSize', NaN, RangeError],
  ['maxMessageSize', 0.5, RangeError],
  ['maxMessageSize', 1000.5, RangeError],
  ['maxMessageSize', Infinity, RangeError],
  ['maxMessageSize', 2 ** 32, RangeError], // a frame's length field is 32 bits
  ['maxMessageSize', 2 ** 60, RangeError],
  ['maxMessageSize', '1024', TypeError],
  ['maxMessageSize', true, TypeError],
];

/** Options only the creator takes. */
const creatorOnly: Bad[] = [
  ['capacity', 0, RangeError],
  ['capacity', -4096, RangeError],
  ['capacity', NaN, RangeError],
  ['capacity', 4096.5, RangeError],
  ['capacity', Infinity, RangeError],
  ['capacity', 1000, RangeError], // not a power of two
  ['capacity', 2048, RangeError], // below the smallest
  ['capacity', 2 ** 31, RangeError], // above the largest
  ['capacity', '4096', TypeError],
  ['capacity', null, TypeError],
];

/** The start of the message: "name=value:" as errors.ts shows the value. */
function named(option: string, value: unknown): RegExp {
  const shown = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : value !== null && typeof value === 'object' ? 'Object' : String(value);
  return new RegExp(`^${option}=${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[:]`);
}

/** The value as a test title shows it. */
function shown(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value !== null && typeof value === 'object') return `{${Object.keys(value).join(', ')}}`;
  return String(value);
}

for (const [option, value, error] of [...bothEnds, ...creatorOnly]) {
  test(`Channel.create refuses ${option}=${shown(value)} with a ${error.name}, and makes nothing`, (t) => {
    const address = shmAddress(t);
    t.throws(() => Channel.create(address, { [option]: value }), { instanceOf: error, message: named(option, value) });
    t.false(existsSync(`/dev/shm/${address.slice('shm:'.length)}`), 'no segment was made');
  });
}

/** A channel nobody has joined yet, closed and removed at teardown. */
function unjoined(t: ExecutionContext): Channel {
  const ch = Channel.create(shmAddress(t));
  t.teardown(() => ch.close());
  return ch;
}

for (const [option, value, error] of bothEnds) {
  test(`Channel.connect refuses ${option}=${shown(value)} with a ${error.name}, and does not join`, (t) => {
    const ch = unjoined(t);
    t.throws(() => Channel.connect(ch.address, { [option]: value }), { instanceOf: error, message: named(option, value) });
    const b = Channel.connect(ch.address); // the connector's place is still free
    t.teardown(() => b.close());
    t.pass();
  });
}

test('options that are not an object are a TypeError', (t) => {
  const address = shmAddress(t);
  for (const bad of [null, 5, 'capacity', true]) {
    t.throws(() => Channel.create(address, bad as never), { instanceOf: TypeError, message: /^options=/ });
  }
  const ch = unjoined(t);
  t.throws(() => Channel.connect(ch.address, null as never), { instanceOf: TypeError, message: /^options=null/ });
});

test("connect's maxMessageSize caps what that side accepts: a larger message, in one record or in pieces, is a messageerror there and the channel goes on", async (t) => {
  const a = Channel.create(shmAddress(t), { capacity: 4096, codec: 'raw' }); // the channel's own maximum: 1 GiB
  const b = Channel.connect(a.address, { codec: 'raw', maxMessageSize: 500 });
  t.teardown(() => {
    a.close();
    b.close();
  });
  const errors: Error[] = [];
  b.on('messageerror', (error) => errors.push(error));
  const got: Uint8Array[] = [];
  const two = new Promise<void>((resolve) => b.on('message', (m) => got.push(m as Uint8Array) === 2 && resolve()));
  a.postMessage(new Uint8Array(500).fill(1)); // at the cap: arrives
  a.postMessage(new Uint8Array(800).fill(2)); // one record, over the cap
  a.postMessage(new Uint8Array(5000).fill(3)); // a first piece declaring 5,000 bytes, then its pieces
  a.postMessage(new Uint8Array(10).fill(4));
  await two;
  t.deepEqual(
    got.map((m) => [m.length, m[0]]),
    [
      [500, 1],
      [10, 4],
    ],
  );
  t.is(errors.length, 2, errors.map((e) => e.message).join('; '));
  t.true(errors.every((e) => (e as NodeJS.ErrnoException).code === 'ERR_BAD_MESSAGE'));
  t.regex(errors[0]!.message, /800 bytes exceeds the maximum of 500/);
  t.regex(errors[1]!.message, /declared 5000 bytes/);
  // Its own messages are bounded by the channel's maximum, not by what it accepts.
  const back = new Promise((resolve) => a.once('message', resolve));
  b.postMessage(new Uint8Array(800).fill(5));
  t.is(((await back) as Uint8Array).length, 800);
});

test("connect's maxMessageSize above the channel's changes nothing: the channel's maximum holds", async (t) => {
  const a = Channel.create(shmAddress(t), { maxMessageSize: 1000, codec: 'raw' });
  const b = Channel.connect(a.address, { codec: 'raw', maxMessageSize: 2 ** 32 - 1 });
  t.teardown(() => {
    a.close();
    b.close();
  });
  const got = new Promise((resolve) => b.once('message', resolve));
  a.postMessage(new Uint8Array(1000));
  t.is(((await got) as Uint8Array).length, 1000);
  t.throws(() => b.postMessage(new Uint8Array(1001)), { code: 'ERR_MESSAGE_TOO_LARGE' } as never);
});

test('the edge values work: maxMessageSize 1 and 2^32 - 1, highWaterMark 1 and Infinity, the smallest capacity', async (t) => {
  for (const options of [
    { maxMessageSize: 1, codec: 'raw' as const },
    { maxMessageSize: 2 ** 32 - 1, codec: 'raw' as const },
    { highWaterMark: 1, codec: 'raw' as const },
    { highWaterMark: Infinity, codec: 'raw' as const },
    { capacity: 4096, codec: 'raw' as const },
  ]) {
    const a = Channel.create(shmAddress(t), options);
    const b = Channel.connect(a.address, { codec: 'raw', highWaterMark: options.highWaterMark });
    t.teardown(() => {
      a.close();
      b.close();
    });
    const got = new Promise((resolve) => b.once('message', resolve));
    a.postMessage(new Uint8Array([42]));
    t.deepEqual(await got, new Uint8Array([42]), JSON.stringify(options));
    if (options.maxMessageSize === 1) t.throws(() => a.postMessage(new Uint8Array(2)), { code: 'ERR_MESSAGE_TOO_LARGE' } as never);
  }
});

test('a highWaterMark of 1: postMessage is false while something waits in this process, then drain', async (t) => {
  const a = Channel.create(shmAddress(t), { capacity: 4096, codec: 'raw', highWaterMark: 1 });
  const b = Channel.connect(a.address, { codec: 'raw' });
  t.teardown(() => {
    a.close();
    b.close();
  });
  t.true(a.postMessage(new Uint8Array(100)), 'written at once: nothing queued');
  let below = true;
  for (let i = 0; i < 1000 && below; i++) below = a.postMessage(new Uint8Array(1000));
  t.false(below, 'the ring filled and a message waits');
  const drained = new Promise((resolve) => a.once('drain', () => resolve(undefined)));
  b.on('message', () => {});
  await drained;
  t.is(a.queuedBytes, 0);
});

const streamBad: Bad[] = [
  ['highWaterMark', -1, RangeError],
  ['highWaterMark', NaN, RangeError],
  ['highWaterMark', 1.5, RangeError],
  ['highWaterMark', Infinity, RangeError],
  ['highWaterMark', 2 ** 53, RangeError],
  ['highWaterMark', '16', TypeError],
  ['highWaterMark', null, TypeError],
];

for (const [make, name] of [
  [createWriteStream, 'createWriteStream'],
  [createReadStream, 'createReadStream'],
] as const) {
  for (const [option, value, error] of streamBad) {
    test(`${name} refuses ${option}=${shown(value)} with a ${error.name}, and leaves the channel as it was`, (t) => {
      const ch = unjoined(t);
      const listeners = ch.eventNames().map((e) => [e, ch.listenerCount(e)]);
      t.throws(() => make(ch, { [option]: value }), { instanceOf: error, message: named(option, value) });
      t.deepEqual(
        ch.eventNames().map((e) => [e, ch.listenerCount(e)]),
        listeners,
        'no listener was added',
      );
      t.false(ch.closed);
    });
  }

  test(`${name} refuses what is not a Channel, and options that are not an object`, (t) => {
    for (const bad of [undefined, null, {}, 'shm:x']) t.throws(() => make(bad as never), { instanceOf: TypeError, message: /^channel=/ });
    const ch = unjoined(t);
    for (const bad of [null, 16, 'fast']) t.throws(() => make(ch, bad as never), { instanceOf: TypeError, message: /^options=/ });
    t.false(ch.closed);
  });

  test(`${name} takes a highWaterMark of 0 and of 2^53 - 1, as Node's streams do`, (t) => {
    for (const highWaterMark of [0, Number.MAX_SAFE_INTEGER]) {
      const ch = unjoined(t);
      const stream = make(ch, { highWaterMark });
      t.is('writableHighWaterMark' in stream ? stream.writableHighWaterMark : stream.readableHighWaterMark, highWaterMark);
      stream.destroy();
    }
  });
}
