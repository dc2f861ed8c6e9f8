// Isolation, the point of a process pool: a worker that exits, is SIGKILLed, aborts,
// segfaults or runs out of heap mid-task rejects only its own task with ERR_WORKER_EXITED
// (the exit code or signal in the message) and is replaced, minWorkers kept; other workers'
// tasks finish. A parent SIGKILLed with a pool leaves no worker behind; nothing is left in
// /dev/shm after any of it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { ShmError } from '../src/index.js';
import { gone, newShmEntries, pool, shmEntries, until, within } from './helpers/pools.js';

const T = 60_000; // any single wait (workers start under tsx on a shared 2-core machine)

const CRASHES: Array<{ name: string; arg?: unknown; options?: object; message: RegExp }> = [
  { name: 'exit', arg: 3, message: /exited with code 3/ },
  { name: 'sigkill', message: /killed by signal SIGKILL/ },
  { name: 'abort', message: /killed by signal SIGABRT/ },
  { name: 'segfault', message: /killed by signal SIGSEGV/ },
  { name: 'leak', options: { resourceLimits: { maxOldGenerationSizeMb: 32 } }, message: /killed by signal SIGABRT|exited with code/ },
];

for (const crash of CRASHES) {
  test(`a worker that dies by ${crash.name} mid-task rejects only that task with ERR_WORKER_EXITED and is replaced`, async (t) => {
    const before = shmEntries();
    const p = pool(t, 'crash.mjs', { minWorkers: 2, maxWorkers: 2, ...crash.options });
    await until(() => p.idleWorkers === 2, T, 'both workers ready');
    const [a, b] = (await within(Promise.all([p.run(200, { name: 'spin' }), p.run(200, { name: 'spin' })]), T, 'both ready')) as number[];
    t.not(a, b);
    const other = p.run({ ms: 300, value: 'other' }, { name: 'slow' }); // on the worker that lives
    const dying = p.run(crash.arg, { name: crash.name });
    const error = (await within(t.throwsAsync(dying), T, 'the crash')) as ShmError;
    t.is(error.name, 'ShmError');
    t.is(error.code, 'ERR_WORKER_EXITED');
    t.regex(error.message, crash.message);
    t.regex(error.message, /worker process \d+/);
    t.is(await within(other, T, "the other worker's task"), 'other');
    await until(() => p.workers.length === 2 && p.idleWorkers === 2, T, 'replaced up to minWorkers');
    const now = (await within(Promise.all([p.run(200, { name: 'spin' }), p.run(200, { name: 'spin' })]), T, 'after')) as number[];
    t.is(new Set([a, b, ...now]).size, 3, 'one new worker among the two');
    t.deepEqual(newShmEntries(before), []);
  });
}

test('a worker killed from outside while running a task: only its task rejects; killed while idle: replaced, error emitted', async (t) => {
  const p = pool(t, 'crash.mjs', { minWorkers: 1, maxWorkers: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'shmring-pool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'pid');
  const hung = p.run(file, { name: 'hang' });
  await until(() => { try { return readFileSync(file, 'utf8').length > 0; } catch { return false; } }, T, 'task started');
  const pid = Number(readFileSync(file, 'utf8'));
  process.kill(pid, 'SIGKILL');
  await t.throwsAsync(hung, { code: 'ERR_WORKER_EXITED', message: new RegExp(`worker process ${pid} was killed by signal SIGKILL`) } as never);
  t.not(await within(p.run(undefined, { name: 'pid' }), T, 'replacement'), pid);

  const errors: ShmError[] = [];
  p.on('error', (e) => errors.push(e as ShmError));
  const idle = p.workers[0]!.pid!;
  process.kill(idle, 'SIGTERM');
  await until(() => errors.length === 1, T, "'error' for a worker that died idle");
  t.is(errors[0]!.code, 'ERR_WORKER_EXITED');
  t.regex(errors[0]!.message, /SIGTERM/);
  await until(() => p.workers.length === 1 && p.workers[0]!.pid !== idle, T, 'replaced');
  t.is(typeof (await within(p.run(undefined, { name: 'pid' }), T, 'works on')), 'number');
});

test('an answer a worker published before it exited counts, whichever the pool learns of first', async (t) => {
  const p = pool(t, 'crash.mjs', { minWorkers: 1, maxWorkers: 1 });
  for (let i = 0; i < 10; i++) {
    await until(() => p.idleWorkers === 1, T, 'a worker ready');
    const pid = p.workers[0]!.pid;
    t.is(await within(p.run(i, { name: 'answerThenExit' }), T, `answer ${i}`), i);
    await until(() => p.workers.every((w) => w.pid !== pid), T, 'the worker that answered is gone');
  }
});

test('tasks sent to a worker as it exits resolve or reject with ERR_WORKER_EXITED, never with the ended Channel\'s ERR_CLOSED', async (t) => {
  const p = pool(t, 'crash.mjs', { minWorkers: 1, maxWorkers: 1 });
  const outcomes = new Set<string>();
  for (let i = 0; i < 30; i++) {
    // Each answer ends its worker; the next run() can meet that worker dying, its Channel ended before its 'exit'.
    const outcome = await within(p.run(i, { name: 'answerThenExit' }).then((v) => (v === i ? 'answered' : `wrong ${String(v)}`), (e: ShmError) => e.code), T, `task ${i}`);
    outcomes.add(outcome);
  }
  t.deepEqual([...outcomes].filter((o) => o !== 'answered' && o !== 'ERR_WORKER_EXITED'), []);
  t.true(outcomes.has('answered'));
});

test('with concurrentTasksPerWorker, a crash rejects every task of that worker and none of the others', async (t) => {
  const p = pool(t, 'crash.mjs', { minWorkers: 1, maxWorkers: 1, concurrentTasksPerWorker: 3 });
  await within(p.run(undefined, { name: 'pid' }), T, 'ready');
  const a = p.run({ ms: 5000, value: 'a' }, { name: 'slow' });
  const b = p.run({ ms: 5000, value: 'b' }, { name: 'slow' });
  const c = p.run(1, { name: 'exit' });
  const queued = p.run({ ms: 1, value: 'queued' }, { name: 'slow' }); // fourth: waits in the queue
  for (const task of [a, b, c]) await t.throwsAsync(within(task, T, 'crash'), { code: 'ERR_WORKER_EXITED' } as never);
  t.is(await within(queued, T, 'the queued task runs on the replacement'), 'queued');
});

test('a worker that cannot start (bad execArgv) rejects the queued tasks instead of restarting forever', async (t) => {
  const p = pool(t, 'add.mjs', { minWorkers: 1, maxWorkers: 1, execArgv: ['--no-such-node-flag'] });
  const error = (await within(t.throwsAsync(p.run({ a: 1, b: 1 })), T, 'refused')) as ShmError;
  t.is(error.code, 'ERR_WORKER_EXITED');
  t.regex(error.message, /exited with code 9 before it was ready/);
  await until(() => p.workers.length === 0, T, 'no restart loop');
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(p.workers.length, 0);
});

test('a parent SIGKILLed with a pool leaves no worker process', async (t) => {
  const before = shmEntries();
  const parent = spawn(process.execPath, ['--import=tsx', fileURLToPath(new URL('./fixtures/pool/parent.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => parent.kill('SIGKILL'));
  let out = '';
  parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await within(until(() => out.includes('\n'), 60_000, 'the parent printed its workers'), 61_000, 'parent');
  const pids = JSON.parse(out) as number[];
  t.is(pids.length, 2);
  parent.kill('SIGKILL');
  for (const pid of pids) await gone(pid, T);
  t.deepEqual(newShmEntries(before), []);
});
