// shmring's fork() against Node's child_process.fork, on the same unchanged child program:
// messages of every type, order, send()'s arguments, return value and callback, disconnect
// from either side and the events that follow, ref counting, exits and kills. Where the two
// must behave alike, each test runs both and compares.
import { existsSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { fork as shmFork } from '../src/index.js';
import { CHILD, forkWith, IMPLS, nextMessages, within, type Forked, type Impl } from './helpers/forks.js';
import { finished, runFixture, startFixture } from './helpers/processes.js';
import { tempDir } from './helpers/resources.js';

const JSON_VALUES: unknown[] = ['text', 'ünïcødé ✓ \u2028', '', 0, -1.5, 1e300, true, false, null, [], {}, [1, 'a', null, [2, [3]]], { a: { b: { c: [1, 2, { d: 'e' }] } } }, NaN, { u: undefined, n: 1 }];
const ADVANCED_VALUES: unknown[] = [
  ...JSON_VALUES,
  new Map<unknown, unknown>([[1, 'a'], ['k', { v: 2 }]]),
  new Set([1, 'two', 3]),
  new Date(1700000000000),
  123456789012345678901234567890n,
  Buffer.from('buffer bytes'),
  new Uint16Array([1, 2, 65535]),
  new Float64Array([0.5, -0]),
  /ab+c/gi,
  [1, , 3], // eslint-disable-line no-sparse-arrays
  -0,
  undefined,
];

async function echoAll(t: ExecutionContext, impl: Impl, serialization: 'json' | 'advanced', values: unknown[]): Promise<unknown[]> {
  const f = forkWith(t, impl, ['echo'], { serialization });
  for (const v of values) f.child.send({ v } as never);
  const echoed = await within(t, nextMessages(f, values.length), 20_000, `${impl} echo`);
  f.child.send('exit');
  await within(t, f.exited, 20_000, `${impl} exit`);
  return echoed.map((m) => (m as { v: unknown }).v);
}

for (const serialization of ['json', 'advanced'] as const) {
  test(`every ${serialization} type makes the round trip as it does through child_process.fork`, async (t) => {
    const values = serialization === 'json' ? JSON_VALUES : ADVANCED_VALUES;
    const [viaNode, viaShm] = await Promise.all([echoAll(t, 'node', serialization, values), echoAll(t, 'shmring', serialization, values)]);
    t.deepEqual(viaShm, viaNode);
    if (serialization === 'advanced') {
      const buffer = viaShm[values.findIndex((v) => Buffer.isBuffer(v))];
      t.true(Buffer.isBuffer(buffer), 'a Buffer arrives as a Buffer');
      t.is(Object.is((viaShm[values.length - 2] as number), -0), Object.is(viaNode[values.length - 2] as number, -0));
    }
  });
}

for (const impl of IMPLS) {
  test(`${impl}: 100,000 messages each way arrive in order`, async (t) => {
    const f = forkWith(t, impl, ['order']);
    const n = 100_000;
    for (let i = 0; i < n; i++) f.child.send({ i, last: i === n - 1 });
    const back = (await within(t, nextMessages(f, n), 60_000, 'order')) as Array<{ i: number }>;
    t.true(back.every((m, i) => m.i === i), 'in order, none missing');
    f.child.kill();
    await within(t, f.exited, 20_000, 'exit');
  });
}

test("send()'s argument checks throw what child_process.fork throws", async (t) => {
  const calls: Array<[string, unknown[], 'json' | 'advanced']> = [
    ['no message', [], 'json'],
    ['a symbol', [Symbol('s')], 'json'],
    ['a function', [() => 1], 'json'],
    ['a bigint', [1n], 'json'],
    ['a bigint inside, json', [{ a: 1n }], 'json'],
    ['a cycle, json', [(() => { const o: Record<string, unknown> = {}; o.self = o; return o; })()], 'json'],
    ['a function inside, advanced', [{ f() {} }], 'advanced'],
    ['a number as the handle', ['x', 5], 'json'],
    ['a number as options', ['x', undefined, 5], 'json'],
  ];
  const outcome = (impl: Impl, args: unknown[], serialization: 'json' | 'advanced'): string => {
    const f = forkWith(t, impl, ['echo'], { serialization });
    try {
      (f.child.send as (...a: unknown[]) => boolean)(...args);
      return 'sent';
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return `${err.constructor.name} ${err.name} ${err.code} ${err.message}`;
    } finally {
      f.child.kill();
    }
  };
  for (const [what, args, serialization] of calls) {
    const viaNode = outcome('node', args, serialization);
    t.not(viaNode, 'sent', what);
    t.is(outcome('shmring', args, serialization), viaNode, what);
  }
});

test('a socket handle cannot travel through shared memory: a synchronous ERR_NOT_SUPPORTED, nothing sent', async (t) => {
  const f = forkWith(t, 'shmring', ['echo']);
  const server = net.createServer();
  t.teardown(() => server.close());
  t.throws(() => f.child.send('with handle', server), { code: 'ERR_NOT_SUPPORTED', message: /cannot travel through shared memory/ });
  f.child.send('after');
  t.deepEqual(await within(t, nextMessages(f, 1), 20_000, 'echo'), ['after']);
  f.child.kill();
});

async function disconnectRun(t: ExecutionContext, impl: Impl): Promise<{ f: Forked; callbacks: unknown[]; late: unknown[] }> {
  const f = forkWith(t, impl, ['echo']);
  const callbacks: unknown[] = [];
  t.true(f.child.send('one', (e) => callbacks.push(e)));
  await within(t, nextMessages(f, 1), 20_000, 'echo');
  f.child.disconnect();
  t.false(f.child.connected, 'connected is false at once');
  f.child.disconnect(); // a second call: ERR_IPC_DISCONNECTED as 'error'
  const late: unknown[] = [];
  t.false(f.child.send('late', (e) => late.push(e)));
  t.deepEqual(late, [], 'the callback comes on a later tick');
  await within(t, f.settled, 20_000, 'exit');
  return { f, callbacks, late };
}

test("disconnect() from the parent: the callback's null, connected at once, ERR_IPC_DISCONNECTED, ERR_IPC_CHANNEL_CLOSED and the events as under child_process.fork", async (t) => {
  const [viaNode, viaShm] = await Promise.all([disconnectRun(t, 'node'), disconnectRun(t, 'shmring')]);
  for (const { f, callbacks, late } of [viaNode, viaShm]) {
    t.deepEqual(callbacks, [null]);
    t.is((late[0] as NodeJS.ErrnoException).code, 'ERR_IPC_CHANNEL_CLOSED');
    t.regex(f.stdout(), /child-disconnect/, 'the child saw it too');
  }
  t.deepEqual(viaShm.f.events, viaNode.f.events);
  t.deepEqual(viaShm.f.events.filter((e) => e !== 'message'), ['error ERR_IPC_DISCONNECTED', 'disconnect', 'exit 0 null']);
});

for (const impl of IMPLS) {
  test(`${impl}: send() after disconnect without a callback emits ERR_IPC_CHANNEL_CLOSED as 'error' on the next tick`, async (t) => {
    const f = forkWith(t, impl, ['echo']);
    f.child.disconnect();
    f.child.send('late');
    t.false(f.events.includes('error ERR_IPC_CHANNEL_CLOSED'));
    await new Promise((resolve) => process.nextTick(resolve));
    t.true(f.events.includes('error ERR_IPC_CHANNEL_CLOSED'));
    await within(t, f.exited, 20_000, 'exit');
  });

  test(`${impl}: a child that disconnects itself: its message first, then 'disconnect' and 'exit' in the parent`, async (t) => {
    const f = forkWith(t, impl, ['disconnect-self']);
    await within(t, f.settled, 20_000, 'exit');
    t.deepEqual(f.messages, ['hello']);
    // The message before 'disconnect' (what the child sent comes before the channel's end);
    // 'exit' comes wherever the SIGCHLD happens to be seen: Node's own fork was seen to report
    // it before the message (Node 24 and 26, on a busy machine).
    t.true(f.events.includes('disconnect') && f.events.includes('exit 0 null'), f.events.join(', '));
    t.true(f.events.indexOf('message') < f.events.indexOf('disconnect'), f.events.join(', '));
    t.regex(f.stdout(), /connected=false/);
    t.regex(f.stdout(), /child-disconnect/);
  });

  test(`${impl}: a child without 'message' listeners exits on its own; one with a listener but an unref'd channel too`, async (t) => {
    const bare = forkWith(t, impl, ['no-listener']);
    const unrefd = forkWith(t, impl, ['unref']);
    await within(t, Promise.all([bare.settled, unrefd.settled]), 20_000, 'both exit');
    t.regex(bare.stdout(), /connected=true/);
    t.regex(unrefd.stdout(), /unref/);
    t.true(bare.events.includes('exit 0 null') && unrefd.events.includes('exit 0 null'));
  });

  test(`${impl}: a module that does not exist: exit code 1 and 'close', no hang`, async (t) => {
    const make = impl === 'node' ? (await import('node:child_process')).fork : shmFork;
    const child = make(join(tempDir(t), 'missing.js'), [], { stdio: 'ignore' });
    const events: string[] = [];
    child.on('disconnect', () => events.push('disconnect'));
    const closed = new Promise<void>((resolve) => child.on('close', (code) => (events.push(`close ${code}`), resolve())));
    const keepAlive = setInterval(() => {}, 1000);
    t.teardown(() => clearInterval(keepAlive));
    await within(t, closed, 20_000, 'close');
    t.true(events.includes('close 1'), events.join(', '));
  });

  test(`${impl}: a child that dies at start (bad execArgv): 'exit' and 'close', no hang`, async (t) => {
    const f = forkWith(t, impl, ['echo'], { execArgv: ['--no-such-node-flag'] });
    await within(t, f.settled, 20_000, 'exit');
    t.true(f.events.some((e) => /^exit 9 /.test(e)), f.events.join(', '));
  });

  test(`${impl}: SIGKILL of the child: 'disconnect', 'exit', 'close' in the parent`, async (t) => {
    const f = forkWith(t, impl, ['echo']);
    f.child.send('ping');
    await within(t, nextMessages(f, 1), 20_000, 'echo');
    f.child.kill('SIGKILL');
    await within(t, f.settled, 20_000, 'exit');
    t.deepEqual([...f.events.filter((e) => e !== 'message')].sort(), ['close', 'disconnect', 'exit null SIGKILL']);
    t.is(f.events[f.events.length - 1], 'close');
  });

  test(`${impl}: SIGKILL of the parent: the child sees 'disconnect'`, async (t) => {
    const dir = tempDir(t);
    const mark = join(dir, 'child-saw');
    const parentScript = join(dir, 'parent.mjs');
    const forkFrom = impl === 'node' ? "import { fork } from 'node:child_process';" : `import { fork } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(parentScript, `${forkFrom}
const child = fork(${JSON.stringify(CHILD)}, ['watch-parent', ${JSON.stringify(mark)}], { stdio: 'ignore' });
child.on('message', () => { process.stdout.write(child.pid + '\\n'); });
`);
    const { spawn } = await import('node:child_process');
    const parent = spawn(process.execPath, ['--import=tsx', parentScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => parent.kill('SIGKILL'));
    const childPid = await within(t, new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString())))), 30_000, 'child ready');
    t.teardown(() => {
      try {
        process.kill(childPid, 'SIGKILL');
      } catch {
        // gone
      }
    });
    parent.kill('SIGKILL');
    await within(t, (async () => {
      while (!existsSync(mark)) await new Promise((r) => setTimeout(r, 20));
    })(), 20_000, 'child disconnect');
    t.is(readFileSync(mark, 'utf8'), 'child-disconnect\n');
  });
}

test('shmring: every message the child published before it was killed is delivered before its disconnect', async (t) => {
  const n = 5000;
  const f = forkWith(t, 'shmring', ['flood-then-wait', String(n)]);
  await within(t, new Promise<void>((resolve) => f.child.on('message', (m) => m === 'sent' && resolve())), 30_000, 'sent');
  f.child.kill('SIGKILL');
  await within(t, f.settled, 20_000, 'exit');
  const numbered = f.messages.filter((m): m is { i: number } => typeof m === 'object');
  t.is(numbered.length, n);
  t.true(numbered.every((m, i) => m.i === i));
  t.true(f.events.lastIndexOf('message') < f.events.indexOf('disconnect'));
});

test("shmring: no message after 'disconnect': a child killed while its messages fill the ring unread; what arrives is in order, from the first, without gaps", async (t) => {
  // The parent listens only once the ring is full and the child is killed, so the ring still
  // holds many delivery batches when Node's pipe reports the death: they must all come first.
  const child = shmFork(CHILD, ['flood-until-full'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  await within(t, new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => (out += d.toString()).includes('full') && resolve())), 60_000, 'full');
  const events: Array<number | string> = [];
  child.kill('SIGKILL');
  child.on('message', (m: { i: number }) => events.push(m.i));
  child.on('disconnect', () => events.push('disconnect'));
  await within(t, new Promise((resolve) => child.once('close', resolve)), 30_000, 'close');
  const at = events.indexOf('disconnect');
  t.true(at > 1000, `messages before 'disconnect': ${at}`);
  t.is(at, events.length - 1, `${events.length - 1 - at} messages after 'disconnect'`);
  t.true(events.slice(0, at).every((i, k) => i === k), 'in order from the first, no gaps');
});

test('shmring: a large message sent right before process.exit() arrives (Node loses such messages: nodejs/node#36268)', async (t) => {
  const size = 4 << 20;
  const f = forkWith(t, 'shmring', ['send-exit', String(size)], { shm: { capacity: 1 << 16 } });
  await within(t, f.settled, 30_000, 'exit');
  t.is(f.messages.length, 1);
  t.is((f.messages[0] as { big: string }).big.length, size);
});

test('shmring: send() returns false above the high-water mark while the child reads nothing, loses nothing, and every callback gets null', async (t) => {
  const f = forkWith(t, 'shmring', ['echo'], { shm: { capacity: 1 << 12, highWaterMark: 1 << 14 } });
  f.child.kill('SIGSTOP'); // reads nothing for a while
  t.teardown(() => f.child.kill('SIGCONT'));
  const results: boolean[] = [];
  const callbacks: unknown[] = [];
  for (let i = 0; i < 400; i++) results.push(f.child.send({ i, pad: 'p'.repeat(100) }, (e) => callbacks.push(e)));
  t.true(results[0]);
  t.false(results[results.length - 1], 'false once the queue is above the mark');
  f.child.kill('SIGCONT');
  const back = (await within(t, nextMessages(f, 400), 30_000, 'echo')) as Array<{ i: number }>;
  t.true(back.every((m, i) => m.i === i));
  t.is(callbacks.length, 400);
  t.true(callbacks.every((e) => e === null));
  f.child.kill();
});

test('shmring: connectParent() inside a child gives the Channel; the child code can post on it directly', async (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'explicit.mjs');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(script, `import { connectParent } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
const ch = connectParent();
ch.postMessage({ via: 'channel', address: ch.address });
process.on('message', (m) => { if (m === 'bye') process.exit(0); });
`);
  const child = shmFork(script, [], { stdio: 'inherit' });
  t.teardown(() => child.kill('SIGKILL'));
  const first = await within(t, new Promise<unknown>((resolve) => child.once('message', resolve)), 20_000, 'message');
  t.like(first as object, { via: 'channel' });
  t.regex((first as { address: string }).address, /^fd:\d+$/, 'an anonymous memfd: nothing in /dev/shm');
  child.send('bye');
  await within(t, new Promise((resolve) => child.once('exit', resolve)), 20_000, 'exit');
});

test("shmring: a message from the child that cannot be decoded is a 'messageerror' on the ChildProcess; a parent with no 'error' listener lives on and gets the next messages", async (t) => {
  // (Node's IPC throws on such bytes, and a parent with no 'error' listener exits; the README says why we differ.)
  const { code, stdout, stderr } = await runFixture(t, 'fork-corrupt-parent', []);
  t.is(code, 0, `the parent lived: ${stderr}`);
  t.deepEqual(stdout.trim().split('\n'), ['messageerror ERR_BAD_MESSAGE', 'message "before"', 'message "after"', 'exit 0']);
});

export type { Forked };

test("shmring: a child whose parent dies while its sends wait for room gets 'disconnect' and lives on (Node drops its pipe without one: ours is emitted, Node's is not run again)", async (t) => {
  // The fixture's parent forks the child and SIGKILLs itself; the child inherits stdout, so
  // the output ends when the child does.
  const result = await finished(startFixture(t, 'fork-orphan', ['parent'], { timeoutMs: 30_000 }));
  const lines = result.stdout.trim().split('\n');
  t.deepEqual(JSON.parse(lines[lines.length - 1]!), { uncaught: [] }, result.stderr);
});
