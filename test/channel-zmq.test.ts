// The Channel over ZeroMQ where it is its own: addresses and options refused with clear
// errors, a port in use, a name that does not resolve, peers that do not speak ZeroMQ or
// send what no shmring peer sends (garbage frames, a message above maxMessageSize), CURVE
// (an unknown key refused; an eavesdropper on the wire sees no plaintext), a peer killed,
// and processes that exit by themselves with an idle, unref'd or closed channel; and the
// built package without zeromq installed.
// Everything runs on loopback; test/channel-zmq-netns.test.ts crosses a link.
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { Channel, ShmError, type ZmqChannel, type ZmqChannelOptions } from '../src/index.js';

const zmq = createRequire(import.meta.url)('zeromq') as typeof import('zeromq');
const FIXTURE = new URL('./fixtures/zmq-peer.ts', import.meta.url).pathname;

type Tcp = `tcp://${string}`;

function create(t: ExecutionContext, options?: ZmqChannelOptions, address: Tcp = 'tcp://127.0.0.1:0'): ZmqChannel {
  const ch = Channel.create(address, options);
  t.teardown(() => ch.close());
  return ch;
}

function join(t: ExecutionContext, address: string, options?: ZmqChannelOptions): ZmqChannel {
  const ch = Channel.connect(address as Tcp, options);
  t.teardown(() => ch.close());
  return ch;
}

function closed(ch: ZmqChannel): Promise<ShmError | undefined> {
  return new Promise((resolve) => ch.once('close', (reason) => resolve(reason as ShmError | undefined)));
}

function next(ch: ZmqChannel, event: 'message' | 'messageerror' | 'close' | 'drain' | 'connect' | 'error' = 'message'): Promise<unknown> {
  return new Promise((resolve) => ch.once(event, resolve));
}

async function listen(t: ExecutionContext, onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    onSocket(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.close();
    for (const s of sockets) s.destroy();
  });
  return { server, port: (server.address() as { port: number }).port };
}

/** A child running the fixture; its stdout lines; killed at teardown. */
function peer(t: ExecutionContext, args: string[], options?: ZmqChannelOptions): { child: ChildProcess; line: (re: RegExp) => Promise<string>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import=tsx', FIXTURE, ...args], {
    env: { ...process.env, SHMRING_ZMQ_OPTIONS: JSON.stringify(options ?? {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const m = out.split('\n').find((l) => re.test(l));
        if (m !== undefined) resolve(m);
        else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`peer exited (${child.exitCode ?? child.signalCode}) without ${re}: ${out}`));
        else waiters.push(look);
      };
      child.once('exit', look);
      look();
    });
  return { child, line, exit };
}

// ---- bad input -----------------------------------------------------------------------------

test('malformed addresses and bad options are TypeError / RangeError naming the value', (t) => {
  for (const bad of ['tcp://', 'tcp://host', 'tcp://host:99999', 'tcp://:5555', 'tcp://a b:1', 'ipc://', 'tcp://[zz]:5']) {
    t.throws(() => Channel.create(bad as Tcp), { instanceOf: RangeError, message: /^address=/ }, bad);
  }
  t.throws(() => Channel.connect('tcp://127.0.0.1:0'), { instanceOf: RangeError, message: /^address=.*port/ });
  t.throws(() => Channel.connect('tcp://*:5555'), { instanceOf: RangeError, message: /^address=/ });
  t.throws(() => Channel.create('tcp://127.0.0.1:0', { highWaterMark: 10 } as never), { instanceOf: TypeError, message: /^highWaterMark=10.*sendHighWaterMark/ });
  t.throws(() => Channel.create('tcp://127.0.0.1:0', { heartbeatInterval: -1 }), { instanceOf: RangeError, message: /^heartbeatInterval=-1/ });
  t.throws(() => Channel.create('tcp://127.0.0.1:0', { linger: '1' as never }), { instanceOf: TypeError, message: /^linger="1"/ });
  t.throws(() => Channel.create('tcp://127.0.0.1:0', { codec: 'yaml' as never }), { instanceOf: TypeError, message: /^codec="yaml"/ });
  t.throws(() => Channel.create('tcp://127.0.0.1:0', { capacity: 1000 }), { instanceOf: RangeError, message: /^capacity=1000/ });
  t.throws(() => Channel.create('tcp://127.0.0.1:0', { curve: { keyPair: { publicKey: 'short', secretKey: 'x' }, allow: [] } }), {
    instanceOf: RangeError,
    message: /^curve\.keyPair\.publicKey=/,
  });
  t.throws(() => Channel.connect('tcp://127.0.0.1:1', { curve: { keyPair: zmq.curveKeyPair() } as never }), { instanceOf: TypeError, message: /^curve\.serverPublicKey=/ });
});

test('a port in use is EADDRINUSE from create, and nothing is left open', async (t) => {
  const { port } = await listen(t, () => {});
  const error = t.throws(() => Channel.create(`tcp://127.0.0.1:${port}`), { instanceOf: ShmError }) as ShmError;
  t.is(error.code, 'EADDRINUSE');
  t.regex(error.message, new RegExp(`127.0.0.1:${port}`));
});

test('a host name that does not resolve ends the channel: error, then close with the reason', async (t) => {
  t.timeout(60_000);
  const ch = join(t, 'tcp://shmring-no-such-host.invalid:5555');
  const error = next(ch, 'error');
  const reason = await closed(ch);
  t.is(await error, reason);
  t.true(reason instanceof ShmError);
  t.regex(reason!.code, /^E(NOTFOUND|AI_AGAIN)$/);
  t.true(ch.closed);
});

test('a server that does not speak ZeroMQ ends the connecting channel with ERR_BAD_MESSAGE', async (t) => {
  t.timeout(60_000);
  const { port } = await listen(t, (s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n' + 'x'.repeat(500)));
  const ch = join(t, `tcp://127.0.0.1:${port}`);
  const reason = await closed(ch);
  t.is(reason?.code, 'ERR_BAD_MESSAGE');
});

test('a client that does not speak ZeroMQ leaves the creating channel waiting for its real peer', async (t) => {
  t.timeout(60_000);
  const a = create(t);
  a.on('close', () => t.fail('the channel must not end'));
  const port = Number(a.address.split(':').pop());
  const stranger = connect(port, '127.0.0.1');
  stranger.on('error', () => {});
  stranger.write(Buffer.from('\xff\x00garbage garbage garbage garbage\r\n', 'latin1'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  stranger.destroy();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const b = join(t, a.address);
  const got = next(a);
  b.postMessage('the real peer');
  t.is(await got, 'the real peer');
  a.removeAllListeners('close');
});

test("garbage frames from a raw ZeroMQ peer are 'messageerror' and the channel goes on", async (t) => {
  const a = create(t);
  const raw = new zmq.Dealer({ linger: 0 });
  t.teardown(() => raw.close());
  raw.connect(a.address);
  const errors: Error[] = [];
  a.on('messageerror', (e) => errors.push(e));
  const got = next(a);
  await raw.send(['a', 'b', 'c']); // three parts: no shmring message
  await raw.send(['', 'not a goodbye']);
  await raw.send(Buffer.from([0xc1, 0xff, 0x00])); // v8 marker, then garbage
  await raw.send(Buffer.from([0xa5, 0x76, 0x61, 0x6c, 0x69, 0x64])); // msgpack 'valid'
  t.is(await got, 'valid');
  t.is(errors.length, 3, errors.map((e) => e.message).join('; '));
  t.true(errors.every((e) => (e as ShmError).code === 'ERR_BAD_MESSAGE'));
  t.false(a.closed);
});

test('a message above maxMessageSize from a raw peer is never handed over: ZeroMQ drops the connection and the channel ends', async (t) => {
  t.timeout(30_000);
  const a = create(t, { maxMessageSize: 1000 });
  const raw = new zmq.Dealer({ linger: 0 });
  t.teardown(() => raw.close());
  raw.connect(a.address);
  const got: unknown[] = [];
  a.on('message', (m) => got.push(m));
  const end = closed(a);
  await raw.send(Buffer.from([0xa2, 0x6f, 0x6b])); // 'ok'
  await raw.send(Buffer.alloc(2000, 0xa1));
  const reason = await end;
  t.is(reason?.code, 'ERR_PEER_DEAD');
  t.deepEqual(got, ['ok'], 'the message before it arrived; the large one never did');
});

test('a third party is refused (EACCES) while the channel has its peer, and the two go on', async (t) => {
  t.timeout(30_000);
  const a = create(t);
  const b = join(t, a.address);
  await next(a, 'connect');
  const got: unknown[] = [];
  a.on('message', (m) => got.push(m));
  const third = join(t, a.address);
  third.postMessage('me too');
  t.is((await closed(third))?.code, 'EACCES');
  const back = next(b);
  b.postMessage('only me');
  a.once('message', () => a.postMessage('yes'));
  t.is(await back, 'yes');
  t.deepEqual(got, ['only me']);
});

test('a sender that also listens goes on through backpressure (a receive does not take the edge its send waits for)', async (t) => {
  t.timeout(120_000);
  const a = create(t, { sendHighWaterMark: 10 });
  const p = peer(t, ['connect', a.address, 'count']);
  await next(a, 'connect');
  const reply = next(a); // a receive is pending on the sending socket the whole time
  let falses = 0;
  const message = { id: 1, payload: 'x'.repeat(40) };
  for (let i = 0; i < 50_000; i++) {
    if (!a.postMessage(message)) {
      falses++;
      await Promise.race([next(a, 'drain'), p.exit.then(() => t.fail('the peer exited'))]);
    }
  }
  a.postMessage('end');
  t.is(await reply, 50_000);
  t.true(falses > 0, 'the sender met its high-water mark');
});

test('a transfer list detaches the buffers; a message that views one arrives whole (sent without a copy)', async (t) => {
  const a = create(t, { codec: 'raw' });
  const b = join(t, a.address, { codec: 'raw' });
  await next(a, 'connect');
  const got = next(b);
  const bytes = Buffer.alloc(100_000, 9);
  const other = new ArrayBuffer(16);
  a.postMessage(bytes, [bytes.buffer as ArrayBuffer, other]);
  t.is(bytes.buffer.byteLength, 0, 'the message buffer is detached');
  t.is(other.byteLength, 0, 'so is every other listed buffer');
  const m = (await got) as Uint8Array;
  t.is(m.length, 100_000);
  t.true(m.every((x) => x === 9));
  t.throws(() => a.postMessage(new Uint8Array(1), [1 as never]), { instanceOf: TypeError, code: 'ERR_INVALID_TRANSFER_OBJECT' } as never);
});

test('ipc:// addresses work the same, and the socket file goes with the channel', async (t) => {
  const path = pathJoin(tmpdir(), `shmring-test-${process.pid}-${Date.now()}.sock`);
  t.teardown(() => rmSync(path, { force: true }));
  const a = Channel.create(`ipc://${path}`);
  t.teardown(() => a.close());
  const b = join(t, `ipc://${path}`);
  const got = next(a);
  b.postMessage({ over: 'ipc' });
  t.deepEqual(await got, { over: 'ipc' });
  const closedA = closed(a);
  b.close();
  t.is(await closedA, undefined);
  t.false(existsSync(path));
});

// ---- CURVE ---------------------------------------------------------------------------------

test('CURVE: an allowed client talks both ways; an unknown key is refused (EACCES) and the server gets nothing from it', async (t) => {
  t.timeout(30_000);
  const server = zmq.curveKeyPair();
  const good = zmq.curveKeyPair();
  const a = create(t, { curve: { keyPair: server, allow: [good.publicKey] } });
  const got: unknown[] = [];
  a.on('message', (m) => got.push(m));
  const intruder = join(t, a.address, { curve: { keyPair: zmq.curveKeyPair(), serverPublicKey: server.publicKey } });
  intruder.postMessage('let me in');
  const refused = await closed(intruder);
  t.is(refused?.code, 'EACCES');
  const friend = join(t, a.address, { curve: { keyPair: good, serverPublicKey: server.publicKey } });
  const reply = next(friend);
  friend.postMessage('hello');
  a.once('message', () => a.postMessage('welcome'));
  t.is(await reply, 'welcome');
  t.deepEqual(got, ['hello'], 'nothing from the refused client');
  // A client that does not know the server's real key cannot complete the handshake either.
  const fooled = join(t, a.address, { curve: { keyPair: good, serverPublicKey: zmq.curveKeyPair().publicKey } });
  fooled.postMessage('to an impostor');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.deepEqual(got, ['hello']);
});

/** A TCP forwarder on loopback between a client and `target`, recording every byte both ways. */
async function eavesdropper(t: ExecutionContext, target: number): Promise<{ port: number; heard: () => Buffer }> {
  const chunks: Buffer[] = [];
  const { port } = await listen(t, (client) => {
    const upstream = connect(target, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    client.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    upstream.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return { port, heard: () => Buffer.concat(chunks) };
}

for (const curve of [false, true]) {
  test(`an eavesdropper on the wire ${curve ? 'sees no plaintext with CURVE' : 'reads the plaintext without CURVE (control)'}`, async (t) => {
    t.timeout(30_000);
    const MARKER = 'shmring-plaintext-marker-7f3a';
    const server = zmq.curveKeyPair();
    const client = zmq.curveKeyPair();
    const a = create(t, curve ? { curve: { keyPair: server, allow: [client.publicKey] }, codec: 'json' } : { codec: 'json' });
    const wire = await eavesdropper(t, Number(a.address.split(':').pop()));
    const b = join(t, `tcp://127.0.0.1:${wire.port}`, curve ? { curve: { keyPair: client, serverPublicKey: server.publicKey }, codec: 'json' } : { codec: 'json' });
    const got = next(a);
    b.postMessage({ secret: MARKER });
    t.deepEqual(await got, { secret: MARKER });
    const back = next(b);
    a.postMessage(`${MARKER}-reply`);
    t.is(await back, `${MARKER}-reply`);
    const heard = wire.heard();
    t.true(heard.length > 100, 'the forwarder carried the conversation');
    t.is(heard.includes(MARKER), !curve);
  });
}

// ---- peers that go, processes that exit ------------------------------------------------------

test("a peer killed with SIGKILL ends the channel: 'close' with ERR_PEER_DEAD", async (t) => {
  t.timeout(60_000);
  const a = create(t);
  const p = peer(t, ['connect', a.address, 'echo']);
  const echoed = next(a);
  a.postMessage('ping');
  t.is(await echoed, 'ping');
  const end = closed(a);
  p.child.kill('SIGKILL');
  t.is((await end)?.code, 'ERR_PEER_DEAD');
});

for (const role of ['idle', 'unref'] as const) {
  test(`a process whose only channel is ${role === 'idle' ? 'idle (no listener)' : "listened to but unref'd"} exits by itself`, async (t) => {
    t.timeout(60_000);
    const p = peer(t, ['create', 'tcp://127.0.0.1:0', role]);
    await p.line(/^ready /);
    const code = await Promise.race([p.exit, new Promise((resolve) => setTimeout(() => resolve('still running after 20 s'), 20_000))]);
    t.is(code, 0);
  });
}

test('a process that closed its channel exits by itself, and its peer gets a plain close', async (t) => {
  t.timeout(60_000);
  const a = create(t);
  const p = peer(t, ['connect', a.address, 'source', '1000']);
  const got: number[] = [];
  a.on('message', (m) => got.push((m as { i: number }).i));
  const reason = await closed(a);
  t.is(reason, undefined);
  t.is(await p.exit, 0);
  t.deepEqual(got, Array.from({ length: 1000 }, (_, i) => i), 'everything before its close arrived');
});

test('without zeromq installed, a tcp:// address fails with how to install it, and shared memory works', (t) => {
  t.timeout(60_000);
  // The built package in a directory whose node_modules holds every dependency but zeromq.
  const root = new URL('..', import.meta.url).pathname;
  const dir = mkdtempSync(pathJoin(tmpdir(), 'shmring-no-zmq-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const entry of ['package.json', 'dist', 'build', 'prebuilds']) {
    if (existsSync(pathJoin(root, entry))) symlinkSync(pathJoin(root, entry), pathJoin(dir, entry));
  }
  mkdirSync(pathJoin(dir, 'node_modules'));
  for (const dep of readdirSync(pathJoin(root, 'node_modules'))) {
    if (dep !== 'zeromq' && dep !== '.bin') symlinkSync(pathJoin(root, 'node_modules', dep), pathJoin(dir, 'node_modules', dep));
  }
  const script = `
    import { Channel } from ${JSON.stringify(pathToFileURL(pathJoin(dir, 'dist', 'index.js')).href)};
    const a = Channel.create(undefined, { capacity: 4096 });
    const b = Channel.connect(a.address);
    b.once('message', (m) => { console.log('shm', m); a.close(); b.close(); });
    a.postMessage('works');
    try { Channel.create('tcp://127.0.0.1:0'); } catch (e) { console.log(e.code, e.message); }
  `;
  // --preserve-symlinks: the package resolves its dependencies from this directory, as an installed one would.
  const result = spawnSync(process.execPath, ['--preserve-symlinks', '--preserve-symlinks-main', '--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  t.is(result.status, 0, result.stderr);
  t.regex(result.stdout, /^ERR_NOT_SUPPORTED .*tcp:\/\/127\.0\.0\.1:0 needs ZeroMQ.*npm install zeromq/m);
  t.regex(result.stdout, /^shm works$/m);
});
