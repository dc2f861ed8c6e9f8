// Nothing of shmring's fork() shows through where child_process.fork has a behaviour: the
// child's (and grandchildren's) execArgv, argv and env, the ChildProcess's spawnargs and
// stdio, the errors for bad arguments (same class, code and message, thrown by Node's fork
// itself), and the errors for bad `options.shm` (TypeError/RangeError naming the option).
// Each case runs Node's fork and shmring's and compares.
import * as childProcess from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { BlockList, createServer } from 'node:net';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import test, { type ExecutionContext } from 'ava';
import { advancedCodec, fork as shmFork, jsonCodec } from '../src/index.js';
import { forkCodec } from '../src/transport/fork-codec.js';
import { forkWith, IMPLS, nextMessages, within, type Impl } from './helpers/forks.js';
import { FIXTURES } from './helpers/processes.js';

const VIEW = join(FIXTURES, 'fork-view.mjs');
const SRC_INDEX = new URL('../src/index.ts', import.meta.url).href;
const makeOf = (impl: Impl) => (impl === 'node' ? childProcess.fork : shmFork) as (...args: unknown[]) => childProcess.ChildProcess;

interface View {
  execArgv: string[];
  argv: string[];
  argv0: string;
  execPath: string;
  env: Record<string, string>;
  shm: true | string;
}
interface Report {
  self: View;
  viaNode: View;
  viaShm: View;
  viaWorker: { workerExecArgv: string[]; grandchild: View };
  error?: string;
}

/** A view without `shm` (which differs by design between the two forks). */
const seen = ({ shm: _, ...rest }: View) => rest;

/** The shmring memfds this process has open (a Channel left behind would show here). */
function memfds(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('/memfd:shmring')) n++;
    } catch {
      // closed while listing (the listing's own descriptor)
    }
  }
  return n;
}

async function viewOf(t: ExecutionContext, impl: Impl, args: string[], options: Record<string, unknown>) {
  const child = makeOf(impl)(VIEW, ['child', ...args], options);
  t.teardown(() => child.kill('SIGKILL'));
  const report = (await within(t, new Promise((resolve) => child.once('message', resolve)), 60_000, `${impl} view`)) as Report;
  child.send('exit');
  await within(t, new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve))), 60_000, `${impl} exit`);
  return { report, spawnargs: child.spawnargs, stdio: child.stdio.length, stdout: child.stdout !== null };
}

const envWithPrototype = (): NodeJS.ProcessEnv => {
  // As Node's own test-child-process-env.js: inherited keys count, undefined ones do not.
  const env: Record<string, unknown> = { ...process.env, HELLO: 'WORLD', UNDEFINED: undefined, NULL: null, EMPTY: '' };
  Object.setPrototypeOf(env, { FOO: 'BAR' });
  return env as NodeJS.ProcessEnv;
};

const VIEW_CASES: Array<[string, string[], () => Record<string, unknown>]> = [
  ['the defaults', [], () => ({})],
  ['execArgv, env with a prototype, argv0, silent', ['a', 'b c'], () => ({ execArgv: [...process.execArgv, '--stack-size=900'], env: envWithPrototype(), argv0: 'renamed', silent: true })],
  ["stdio: 'pipe' and a short stdio array", ['x'], () => ({ stdio: 'pipe' })],
  ['a stdio array of one', [], () => ({ stdio: ['ipc'] })],
];

// Serial: each case starts ten processes and two threads.
for (const [what, args, options] of VIEW_CASES) {
  test.serial(`the child and its grandchildren see what child_process.fork's do (${what})`, async (t) => {
    const [viaNode, viaShm] = await Promise.all([viewOf(t, 'node', args, options()), viewOf(t, 'shmring', args, options())]);
    for (const { report } of [viaNode, viaShm]) t.is(report.error, undefined);
    const node = viaNode.report;
    const shm = viaShm.report;
    t.is(shm.self.shm, true, "shmring's child has its channel");
    t.is(node.self.shm, 'ENOENT');
    t.deepEqual(seen(shm.self), seen(node.self), 'execArgv, argv, env of the child');
    t.false(shm.self.execArgv.some((a) => a.includes('fork-preload')), shm.self.execArgv.join(' '));
    if (options().env !== undefined) t.like(shm.self.env, { FOO: 'BAR', HELLO: 'WORLD', NULL: 'null', EMPTY: '' }, 'inherited keys too, as Node takes them');
    // A grandchild forked with Node's fork gets no preload, from either child.
    t.deepEqual(seen(shm.viaNode), seen(node.viaNode));
    t.is(shm.viaNode.shm, 'ENOENT');
    // One forked with shmring's fork gets its own, and sees what the other grandchild sees.
    t.is(shm.viaShm.shm, true);
    t.is(node.viaShm.shm, true);
    t.deepEqual(seen(shm.viaShm), seen(shm.viaNode));
    t.deepEqual(seen(node.viaShm), seen(node.viaNode));
    // One forked from a worker thread, whose execArgv Node builds from the command line (it
    // still holds the preload there): the preload runs but stays out of it.
    t.deepEqual(seen(shm.viaWorker.grandchild), seen(node.viaWorker.grandchild));
    t.is(shm.viaWorker.grandchild.shm, 'ENOENT');
    // The parent's side of it.
    t.deepEqual(viaShm.spawnargs, viaNode.spawnargs);
    t.is(viaShm.stdio, viaNode.stdio);
    t.is(viaShm.stdout, viaNode.stdout);
  });
}

test.serial('a parent run with node -e: the child gets its execArgv without the script, as under child_process.fork (no fork bomb)', async (t) => {
  const run = async (impl: Impl) => {
    const from = impl === 'node' ? 'node:child_process' : SRC_INDEX;
    const code = `if (process.env.SHMRING_TEST_EVAL_CHILD) { console.log(JSON.stringify({ evalRanInChild: true })); process.exit(3); }
import(${JSON.stringify(from)}).then(({ fork }) => {
  const child = fork(${JSON.stringify(VIEW)}, ['grandchild'], { env: { ...process.env, SHMRING_TEST_EVAL_CHILD: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.once('message', (view) => { console.log(JSON.stringify(view)); child.send('exit'); });
});`;
    const parent = childProcess.spawn(process.execPath, ['--import=tsx', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => parent.kill('SIGKILL'));
    let out = '';
    parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await within(t, new Promise((resolve) => parent.once('close', resolve)), 60_000, `${impl} -e parent`);
    return out.trim().split('\n').map((line) => JSON.parse(line) as View & { evalRanInChild?: true });
  };
  const [viaNode, viaShm] = await Promise.all([run('node'), run('shmring')]);
  t.is(viaShm.length, 1, JSON.stringify(viaShm).slice(0, 300));
  t.is(viaShm[0]!.evalRanInChild, undefined);
  t.is(viaShm[0]!.shm, true);
  t.deepEqual(viaShm[0]!.execArgv, ['--import=tsx']);
  t.deepEqual(seen(viaShm[0]!), seen(viaNode[0]!));
});

/** Node's outcome of a call: "Class code message", or 'spawned' (the child is killed). */
function outcome(make: () => childProcess.ChildProcess): string {
  try {
    const child = make();
    child.on('error', () => {}); // a spawn failure comes later, as 'error'
    child.kill('SIGKILL');
    return 'spawned';
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return `${err.constructor.name} ${err.code} ${err.message}`;
  }
}

test("bad arguments and options get child_process.fork's own errors, and leave nothing behind", (t) => {
  const CHILD = VIEW;
  const calls: Array<[string, unknown[]]> = [
    ["stdio: '33'", [CHILD, [], { stdio: '33' }]],
    ["stdio: 'bogus' in place of args", [CHILD, { stdio: 'bogus' }]],
    ['stdio: 5 and silent: 5 (ignored: a pipe)', [CHILD, [], { stdio: 5, silent: 5, execArgv: ['--no-such-flag'] }]],
    ['stdio without ipc', [CHILD, [], { stdio: ['pipe', 'pipe', 'pipe'] }]],
    ['stdio with two ipc', [CHILD, [], { stdio: ['pipe', 'pipe', 'pipe', 'ipc', 'ipc'] }]],
    ['stdio with a bad entry', [CHILD, [], { stdio: ['pipe', 'pipe', 'pipe', 'ipc', 'bogus'] }]],
    ['stdio with an object entry', [CHILD, [], { stdio: ['pipe', 'pipe', 'pipe', 'ipc', {}] }]],
    ["serialization: 'bogus'", [CHILD, [], { serialization: 'bogus' }]],
    ['serialization: null', [CHILD, [], { serialization: null }]],
    ['serialization: 5', [CHILD, [], { serialization: 5 }]],
    ['execArgv: 5 (not iterable)', [CHILD, [], { execArgv: 5 }]],
    ['execArgv: {} (not iterable)', [CHILD, [], { execArgv: {} }]],
    ['execArgv with a null byte', [CHILD, [], { execArgv: ['--x', 'a\u0000b'] }]],
    ['env with a null byte in a value', [CHILD, [], { env: { A: 'x\u0000y' } }]],
    ['env with a null byte in a key', [CHILD, [], { env: { 'A\u0000': 'x' } }]],
    ['env inherited key with a null byte', [CHILD, [], { env: Object.create({ B: 'x\u0000' }) }]],
    ['options: an array', [CHILD, [], []]],
    ['options: a number', [CHILD, [], 5]],
    ['options: a string', [CHILD, [], 'options']],
    ['options: a function', [CHILD, [], () => {}]],
    ['args: a number', [CHILD, 5]],
    ['args: a string', [CHILD, 'args']],
    ['args: a function', [CHILD, () => {}]],
    ['args with a null byte', [CHILD, ['a\u0000']]],
    ['modulePath: a number', [5]],
    ['modulePath: undefined', []],
    ['modulePath with a null byte', ['a\u0000b']],
    ['modulePath: an http URL', [new URL('http://example.com/x.js')]],
    ['modulePath bad and options bad', [5, [], { stdio: '33' }]],
    ['execPath with a null byte', [CHILD, [], { execPath: 'node\u0000' }]],
    ['cwd: a number', [CHILD, [], { cwd: 5 }]],
    ['uid: a string', [CHILD, [], { uid: 'root' }]],
    ['detached: a string', [CHILD, [], { detached: 'yes' }]],
    ['timeout: -1', [CHILD, [], { timeout: -1 }]],
    ['killSignal: unknown', [CHILD, [], { killSignal: 'SIGNOPE' }]],
    ['signal: not an AbortSignal', [CHILD, [], { signal: 5 }]],
    ['argv0: a number', [CHILD, [], { argv0: 5 }]],
    ['the options object in place of args wins over the third argument', [CHILD, { stdio: '33' }, { stdio: 'pipe' }]],
  ];
  for (const [what, args] of calls) {
    const viaNode = outcome(() => childProcess.fork(...(args as Parameters<typeof childProcess.fork>)));
    const before = memfds();
    const viaShm = outcome(() => (shmFork as (...a: unknown[]) => childProcess.ChildProcess)(...args));
    t.is(viaShm, viaNode, what);
    if (viaNode !== 'spawned') t.is(memfds(), before, `${what}: no channel left open`);
  }
});

test('a spawn failure (no such execPath) is reported as Node reports it, and the channel is closed', async (t) => {
  const run = (impl: Impl) =>
    new Promise<string[]>((resolve) => {
      const events: string[] = [];
      const before = memfds();
      const child = makeOf(impl)(VIEW, [], { execPath: '/nonexistent/node', stdio: 'ignore' });
      if (impl === 'shmring') t.is(memfds(), before, 'the channel closed at once');
      child.on('error', (e: NodeJS.ErrnoException) => events.push(`error ${e.code} ${e.syscall}`));
      child.on('exit', (code, signal) => events.push(`exit ${code} ${signal}`));
      child.on('close', () => resolve(events));
    });
  const [viaNode, viaShm] = await within(t, Promise.all([run('node'), run('shmring')]), 60_000, 'close');
  t.deepEqual(viaShm, viaNode);
  t.true(viaNode.includes('error ENOENT spawn /nonexistent/node'), viaNode.join(', '));
});

test('silent, and stdio shorthands, give the same pipes as under child_process.fork', (t) => {
  const pipes = (make: () => childProcess.ChildProcess) => {
    const child = make();
    const pipes = [child.stdin, child.stdout, child.stderr].map((s) => s !== null);
    child.kill('SIGKILL');
    return pipes;
  };
  for (const options of [{ silent: 1 }, { silent: 'yes' }, { silent: 0 }, { silent: '' }, { silent: true, stdio: 'inherit' }, { stdio: 'ignore' }, { stdio: 'overlapped' }, { stdio: null, silent: true }]) {
    const opts = { execArgv: ['--no-such-flag'], ...options } as never; // the child dies at start: nothing runs
    t.deepEqual(pipes(() => shmFork(VIEW, [], opts)), pipes(() => childProcess.fork(VIEW, [], opts)), JSON.stringify(options));
  }
});

test('fork(path, [], null) and fork(path, null, options) are shmring children, as Node takes them', async (t) => {
  for (const args of [[[], null], [null, {}], [undefined, undefined]] as const) {
    const child = (shmFork as (...a: unknown[]) => childProcess.ChildProcess)(VIEW, ...args);
    t.teardown(() => child.kill('SIGKILL'));
    const report = (await within(t, new Promise((resolve) => child.once('message', resolve)), 60_000, 'view')) as Report;
    t.is(report.self.shm, true, JSON.stringify(args));
    child.send('exit');
  }
});

const SHM_CASES: Array<[string, unknown, 'TypeError' | 'RangeError', string]> = [
  ['capacity', 0, 'RangeError', 'options.shm.capacity=0'],
  ['capacity', -4096, 'RangeError', 'options.shm.capacity=-4096'],
  ['capacity', NaN, 'RangeError', 'options.shm.capacity=NaN'],
  ['capacity', 4096.5, 'RangeError', 'options.shm.capacity=4096.5'],
  ['capacity', 5000, 'RangeError', 'options.shm.capacity=5000'],
  ['capacity', 2 ** 31, 'RangeError', 'options.shm.capacity=2147483648'],
  ['capacity', 2 ** 53, 'RangeError', 'options.shm.capacity=9007199254740992'],
  ['capacity', Infinity, 'RangeError', 'options.shm.capacity=Infinity'],
  ['capacity', '4096', 'TypeError', 'options.shm.capacity="4096"'],
  ['capacity', 4096n, 'TypeError', 'options.shm.capacity=4096n'],
  ['capacity', null, 'TypeError', 'options.shm.capacity=null'],
  ['capacity', true, 'TypeError', 'options.shm.capacity=true'],
  ['highWaterMark', 0, 'RangeError', 'options.shm.highWaterMark=0'],
  ['highWaterMark', -1, 'RangeError', 'options.shm.highWaterMark=-1'],
  ['highWaterMark', NaN, 'RangeError', 'options.shm.highWaterMark=NaN'],
  ['highWaterMark', 1.5, 'RangeError', 'options.shm.highWaterMark=1.5'],
  ['highWaterMark', -Infinity, 'RangeError', 'options.shm.highWaterMark=-Infinity'],
  ['highWaterMark', '1', 'TypeError', 'options.shm.highWaterMark="1"'],
  ['highWaterMark', null, 'TypeError', 'options.shm.highWaterMark=null'],
  ['highWaterMark', 1n, 'TypeError', 'options.shm.highWaterMark=1n'],
  ['codec', 'msgpack', 'RangeError', 'options.shm.codec="msgpack"'],
  ['codec', '', 'RangeError', 'options.shm.codec=""'],
  ['codec', 5, 'TypeError', 'options.shm.codec=5'],
  ['codec', null, 'TypeError', 'options.shm.codec=null'],
  ['codec', { encode: () => new Uint8Array(0), decode: () => null }, 'TypeError', 'options.shm.codec=Object'],
];

test('bad options.shm values: a TypeError or RangeError naming the option, nothing spawned, nothing left open', (t) => {
  const spawned: childProcess.ChildProcess[] = [];
  t.teardown(() => spawned.forEach((c) => c.kill('SIGKILL')));
  const attempt = (shm: unknown) => {
    const before = memfds();
    try {
      spawned.push(shmFork(VIEW, [], { shm } as never));
      return undefined;
    } catch (err) {
      t.is(memfds(), before);
      return err as Error;
    }
  };
  for (const [name, value, kind, start] of SHM_CASES) {
    const err = attempt({ [name]: value });
    t.is(err?.constructor.name, kind, `${name}=${String(value)}`);
    t.true(err?.message.startsWith(start), err?.message);
  }
  for (const shm of [null, 5, 'shm', true]) {
    const err = attempt(shm);
    t.is(err?.constructor.name, 'TypeError', String(shm));
    t.regex(err?.message ?? '', /^options\.shm=/);
  }
  t.is(spawned.length, 0);
});

test('options.shm values at the edges are taken: highWaterMark 1 and Infinity, a small and a large capacity', async (t) => {
  for (const shm of [{ highWaterMark: 1 }, { highWaterMark: Infinity }, { capacity: 4096 }, { capacity: 2 ** 24, codec: 'structured' }]) {
    const f = forkWith(t, 'shmring', ['echo'], { shm });
    f.child.send({ shm: JSON.stringify(shm) });
    t.deepEqual(await within(t, nextMessages(f, 1), 30_000, JSON.stringify(shm)), [{ shm: JSON.stringify(shm) }]);
    f.child.kill();
  }
});

test("fork's codecs refuse with the errors child_process.fork throws; the Channel's with a DataCloneError; both from one core", (t) => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const thrown = (f: () => unknown) => {
    try {
      f();
      return undefined;
    } catch (err) {
      return err as Error;
    }
  };
  const describe = (err: Error | undefined) => `${err?.constructor.name} ${err?.name} ${err?.message}`;
  for (const bad of [1n, { a: 1n }, cycle]) {
    t.is(describe(thrown(() => forkCodec('json').encode(bad))), describe(thrown(() => JSON.stringify(bad))));
    const channel = thrown(() => jsonCodec.encode(bad));
    t.is(channel?.name, 'DataCloneError');
    t.is((channel as Error & { cause?: Error }).cause?.message, thrown(() => JSON.stringify(bad))?.message);
  }
  for (const bad of [() => 1, { f() {} }, Symbol('s')]) {
    t.is(describe(thrown(() => forkCodec('advanced').encode(bad))), describe(thrown(() => serialize(bad))));
    t.is(thrown(() => advancedCodec.encode(bad))?.name, 'DataCloneError');
  }
  // Node's IPC serializer sends a host object as a copy of its own properties; structured clone refuses it.
  const host = { list: new BlockList(), view: new Uint16Array([1, 2]), buffer: Buffer.from('b') };
  const back = forkCodec('advanced').decode(forkCodec('advanced').encode(host)) as typeof host;
  t.deepEqual(back.list, {} as never);
  t.deepEqual(back.view, new Uint16Array([1, 2]));
  t.true(Buffer.isBuffer(back.buffer));
  // (the Channel's own 'advanced' is structured clone: it refuses the host object where this Node's v8.serialize does; Node 22 clones a BlockList)
  const v8Refuses = thrown(() => serialize(host)) !== undefined;
  t.is(thrown(() => advancedCodec.encode(host))?.name, v8Refuses ? 'DataCloneError' : undefined);
  t.deepEqual(forkCodec('json').decode(forkCodec('json').encode({ a: [1, 'x'] })), { a: [1, 'x'] });
});

for (const impl of IMPLS) {
  test(`${impl}: a host object (BlockList, Blob) under advanced serialization arrives as child_process.fork delivers it`, async (t) => {
    const f = forkWith(t, impl, ['echo'], { serialization: 'advanced' });
    f.child.send({ list: new BlockList(), blob: new Blob(['x']), bytes: new Uint8Array([7]) } as never);
    const [back] = (await within(t, nextMessages(f, 1), 60_000, 'echo')) as Array<Record<string, unknown>>;
    t.deepEqual(back, { list: {}, blob: {}, bytes: new Uint8Array([7]) });
    f.child.kill();
  });
}

test("send() takes its arguments as child_process.fork's does: a falsy handle is none, options an object but not an array, and once disconnected ERR_IPC_CHANNEL_CLOSED before any check of the message", async (t) => {
  const server = createServer();
  t.teardown(() => server.close());
  const run = async (impl: Impl) => {
    const f = forkWith(t, impl, ['echo']);
    const thrown: string[] = [];
    const attempt = (...args: unknown[]) => {
      try {
        return (f.child.send as (...a: unknown[]) => boolean)(...args);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        thrown.push(`${err.constructor.name} ${err.code} ${err.message}`);
        return 'threw';
      }
    };
    const returned = [attempt('zero', 0), attempt('empty', ''), attempt('nan', NaN), attempt('array', undefined, []), attempt('bool', undefined, true)];
    const echoed = await within(t, nextMessages(f, 3), 60_000, `${impl} echo`);
    f.child.disconnect();
    const closed: string[] = [];
    const late = (e: NodeJS.ErrnoException | null) => closed.push(String(e?.code));
    const afterDisconnect = [attempt(undefined, late), attempt(() => 1, late), attempt('x', server, late), attempt(Symbol('s'), undefined, {}, late)];
    await within(t, f.settled, 60_000, `${impl} exit`);
    return { returned, echoed, thrown, afterDisconnect, closed };
  };
  const [viaNode, viaShm] = await Promise.all([run('node'), run('shmring')]);
  t.deepEqual(viaShm, viaNode);
  t.deepEqual(viaNode.echoed, ['zero', 'empty', 'nan']);
  t.deepEqual(viaNode.closed, ['ERR_IPC_CHANNEL_CLOSED', 'ERR_IPC_CHANNEL_CLOSED', 'ERR_IPC_CHANNEL_CLOSED', 'ERR_IPC_CHANNEL_CLOSED']);
});

test('a native handle (a server\'s _handle) is refused as a socket is: ERR_NOT_SUPPORTED, nothing sent', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const f = forkWith(t, 'shmring', ['echo']);
  t.throws(() => f.child.send('with a native handle', (server as unknown as { _handle: never })._handle), { code: 'ERR_NOT_SUPPORTED' });
  f.child.send('after');
  t.deepEqual(await within(t, nextMessages(f, 1), 60_000, 'echo'), ['after']);
  f.child.kill();
});

test("a message whose cmd starts with NODE_ is an 'internalMessage' on the other side, both ways, as under child_process.fork", async (t) => {
  const run = async (impl: Impl) => {
    const f = forkWith(t, impl, ['echo']);
    const internal: unknown[] = [];
    f.child.on('internalMessage' as never, (m: { cmd: string }) => m.cmd === 'NODE_SHMRING_TEST' && internal.push(m));
    // Once the child listens: Node emits an 'internalMessage' at once, listened to or not
    // (a 'message' waits for its first listener), where the Channel keeps both until then.
    f.child.send('ready');
    await within(t, nextMessages(f, 1), 60_000, `${impl} ready`);
    f.child.send({ cmd: 'NODE_SHMRING_TEST', n: 1 });
    f.child.send({ cmd: 'NODE_', n: 2 }); // no more than the prefix: an ordinary message
    f.child.send({ internal: 3 });
    f.child.send('after');
    const echoed = await within(t, nextMessages(f, 2), 60_000, `${impl} echo`);
    f.child.send('exit');
    await within(t, f.settled, 60_000, `${impl} exit`);
    return { echoed, internal, stdout: f.stdout() };
  };
  const [viaNode, viaShm] = await Promise.all([run('node'), run('shmring')]);
  t.deepEqual(viaShm, viaNode);
  t.deepEqual(viaNode.echoed, [{ cmd: 'NODE_', n: 2 }, 'after']);
  t.deepEqual(viaNode.internal, [{ cmd: 'NODE_SHMRING_TEST', internal: 3 }]);
  t.regex(viaNode.stdout, /internal \{"cmd":"NODE_SHMRING_TEST","n":1\}/);
});
