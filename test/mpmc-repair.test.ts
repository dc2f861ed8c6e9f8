// MPMC crash recovery: a slot claimed by a process that died is repaired after the repair
// delay, losing only that process's in-flight message (counted in stats.lost); a slow but
// live participant is never repaired over. The crashes are the library's own tryWrite and
// tryRead stopped inside their windows (test/fixtures/mpmc-crash.ts). Each guarantee is
// first run as a control group with its mechanism removed in this process (the repair, the
// liveness check of blocked writers, or the liveness answer: everyone dead), which the
// same harness must see fail.
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { MpmcRing, ShmError } from '../src/index.js';
import { Registry } from '../src/ring/mpmc/registry.js';
import { finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const message = (n: number) => new Uint8Array([n]);

function ring(t: ExecutionContext, repairDelayMs = 50) {
  const address = shmAddress(t);
  const r = MpmcRing.create(address, { slots: 8, slotSize: 16, repairDelayMs });
  t.teardown(() => r.close());
  return { address, ring: r };
}

async function crash(t: ExecutionContext, address: string, role: 'producer' | 'consumer', kill = true) {
  const child = startFixture(t, 'mpmc-crash', [address, role]);
  const exited = finished(child);
  const line = await lineFrom(child, /claimed/);
  if (kill) {
    child.kill('SIGKILL');
    await exited;
  }
  return { child, exited, line };
}

/**
 * Runs `fn` with a method of Registry replaced in this process: the mechanism removed for
 * a control group. Only serial tests use it (ava runs them before the concurrent ones, one
 * at a time), and the method is put back even when `fn` fails.
 */
async function without<K extends 'stuck' | 'checkPeers'>(name: K, replacement: Registry[K], fn: () => Promise<void> | void): Promise<void> {
  const original = Registry.prototype[name];
  Registry.prototype[name] = replacement;
  try {
    await fn();
  } finally {
    Registry.prototype[name] = original;
  }
}

/** A producer that published [7] then stopped between claiming and publishing: reads 1, 7, then (after repair) 2. */
async function producerCrash(t: ExecutionContext, repairDelayMs: number) {
  const { address, ring: r } = ring(t, repairDelayMs);
  r.tryWrite(message(1));
  await crash(t, address, 'producer');
  r.tryWrite(message(2));
  t.deepEqual([...r.read({ timeout: 5000 })], [1]);
  t.deepEqual([...r.read({ timeout: 5000 })], [7], 'what the dead producer published is delivered');
  t.is(r.tryRead(), null, 'the stuck slot is not skipped before the repair delay');
  return r;
}

test.serial('control group: without the repair, a producer killed between claim and publish wedges the ring', async (t) => {
  const r = await producerCrash(t, 50);
  await without('stuck', () => false, () => {
    t.throws(() => r.read({ timeout: 1000 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' }, 'the harness sees the wedge');
  });
  t.is(r.stats.lost, 0);
  t.deepEqual([...r.read({ timeout: 5000 })], [2], 'with the repair back, the same ring goes on');
  t.is(r.stats.lost, 1);
});

test('a producer killed between claiming and publishing (half its payload copied) costs one message, and the ring goes on', async (t) => {
  const r = await producerCrash(t, 50);
  t.deepEqual([...r.read({ timeout: 5000 })], [2], 'repaired into a tombstone and skipped');
  t.is(r.stats.lost, 1);
  for (let i = 0; i < 40; i++) {
    t.true(r.tryWrite(message(i)));
    t.deepEqual([...r.tryRead()!], [i], 'never the half-written 0xee payload');
  }
  t.is(r.stats.lost, 1);
});

test('with the default repairDelayMs (200), a blocked reader gets past a dead producer\'s slot well within 2 s', async (t) => {
  const r = await producerCrash(t, 200);
  const started = performance.now();
  t.deepEqual([...r.read({ timeout: 10_000 })], [2]);
  const elapsed = performance.now() - started;
  // The README states 200 to about 400 ms; asserted loosely (a bound on detection, not a speed).
  t.true(elapsed < 2000, `repaired after ${elapsed.toFixed(0)} ms`);
  t.is(r.stats.lost, 1);
});

/** A full ring whose message 0 a consumer took and died holding, before freeing its slot. */
async function consumerCrash(t: ExecutionContext) {
  const { address, ring: r } = ring(t);
  for (let i = 0; i < 8; i++) t.true(r.tryWrite(message(i)));
  const { line } = await crash(t, address, 'consumer');
  t.is(line, 'claimed 0', 'the consumer stopped holding message 0');
  for (let i = 1; i < 8; i++) t.deepEqual([...r.tryRead()!], [i]);
  t.false(r.tryWrite(message(8)), 'the slot of the dead consumer is not free yet');
  return r;
}

test.serial('control group: without the repair, a consumer killed between claim and free keeps its slot for good', async (t) => {
  const r = await consumerCrash(t);
  await without('stuck', () => false, async () => {
    await t.throwsAsync(r.writeAsync(message(8), { timeout: 1000 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' }, 'the harness sees the wedge');
  });
  t.is(r.stats.lost, 0);
  await r.writeAsync(message(8), { timeout: 5000 });
  t.is(r.stats.lost, 1);
});

test('a consumer killed between claiming and freeing costs its message; a blocked producer gets the slot back', async (t) => {
  const r = await consumerCrash(t);
  await r.writeAsync(message(8), { timeout: 5000 });
  t.is(r.stats.lost, 1);
  t.deepEqual([...r.tryRead()!], [8]);
  t.is(r.tryRead(), null, 'message 0 is not delivered again');
});

/** A full ring whose only consumer (a child that read one message) is killed while this process blocks writing. */
async function consumersDie(t: ExecutionContext, write: (r: MpmcRing) => Promise<void>) {
  const { address, ring: r } = ring(t);
  r.tryWrite(message(0));
  const child = startFixture(t, 'mpmc-crash', [address, 'reader']);
  const exited = finished(child);
  await lineFrom(child, /ready/);
  while (r.tryWrite(message(1)));
  const writing = write(r);
  writing.catch(() => {}); // settled below; not unhandled while the child dies
  child.kill('SIGKILL');
  await exited;
  return { writing, killed: performance.now() };
}

test.serial('control group: without the liveness check, a writer blocked after every consumer died waits until its timeout', async (t) => {
  await without('checkPeers', () => {}, async () => {
    const { writing } = await consumersDie(t, (r) => r.writeAsync(message(2), { timeout: 1000 }));
    await t.throwsAsync(writing, { instanceOf: ShmError, code: 'ERR_TIMEOUT' }, 'the harness sees the hang');
  });
});

test('a writer blocked on a full MPMC ring whose every consumer died gets ERR_PEER_DEAD, well within 2 s', async (t) => {
  const { writing, killed } = await consumersDie(t, (r) => r.writeAsync(message(2), { timeout: 20_000 }));
  await t.throwsAsync(writing, { instanceOf: ShmError, code: 'ERR_PEER_DEAD' });
  const elapsed = performance.now() - killed;
  // The README states about 100 ms; asserted loosely (a bound on detection, not a speed).
  t.true(elapsed < 2000, `detected ${elapsed.toFixed(0)} ms after the kill`);
});

/** Resolves once the process is stopped (state T in /proc/PID/stat). */
async function stopped(pid: number): Promise<void> {
  const watchdog = Date.now() + 20_000;
  while (!/^\d+ \(.*\) T /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'))) {
    if (Date.now() > watchdog) throw new Error(`process ${pid} did not stop`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs `fn` with every process looking dead to this one's liveness check (kill(pid, 0) fails with ESRCH). */
async function everyoneDead(fn: () => Promise<void> | void): Promise<void> {
  const kill = process.kill;
  process.kill = ((pid: number, signal?: string | number) => {
    if (signal === 0) throw Object.assign(new Error(`kill ${pid}: ESRCH`), { code: 'ESRCH' });
    return kill.call(process, pid, signal);
  }) as typeof process.kill;
  try {
    await fn();
  } finally {
    process.kill = kill;
  }
}

/** Polls tryRead (which repairs; a blocking read would also check peers) for `ms`: what it got. */
async function readFor(r: MpmcRing, ms: number): Promise<number[][]> {
  const got: number[][] = [];
  const until = performance.now() + ms;
  while (performance.now() < until) {
    for (let m = r.tryRead(); m !== null; m = r.tryRead()) got.push([...m]);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return got;
}

/**
 * A producer that published [7], then stopped (SIGSTOP) inside its claim window for 500 ms,
 * 10 repair delays, while this process reads (`liveness`: as it is, or dead for everyone);
 * then it is continued and finishes its write. What this process read, and what it lost.
 */
async function slowProducer(t: ExecutionContext, liveness: 'checked' | 'everyone dead') {
  const { address, ring: r } = ring(t);
  const child = startFixture(t, 'mpmc-crash', [address, 'slow-producer']);
  const exited = finished(child);
  const published = lineFrom(child, /published/);
  published.catch(() => {});
  await lineFrom(child, /claimed/);
  await stopped(child.pid!);
  r.tryWrite(message(2));
  let whileStopped: number[][] = [];
  if (liveness === 'checked') whileStopped = await readFor(r, 500);
  else await everyoneDead(async () => void (whileStopped = await readFor(r, 500)));
  const lostWhileStopped = r.stats.lost;
  child.kill('SIGCONT');
  await published;
  await exited;
  const afterwards = await readFor(r, 500);
  return { whileStopped, lostWhileStopped, afterwards, lost: r.stats.lost };
}

const EE = Array(8).fill(0xee);

test.serial('control group: a liveness check that finds everyone dead repairs over a stopped producer, losing a message whose write returned', async (t) => {
  const { whileStopped, lostWhileStopped, afterwards } = await slowProducer(t, 'everyone dead');
  t.deepEqual(whileStopped, [[7], [2]], 'the harness sees the slot of a live producer skipped');
  t.is(lostWhileStopped, 1, 'and counted lost while its producer lived');
  t.deepEqual(afterwards, [], 'the harness sees the message of a write that returned true never delivered');
});

test('a slow but live producer (stopped with SIGSTOP in its claim window for 10 repair delays) is never repaired over', async (t) => {
  const { whileStopped, lostWhileStopped, afterwards, lost } = await slowProducer(t, 'checked');
  t.deepEqual(whileStopped, [[7]], 'the reader waits for the stopped producer');
  t.is(lostWhileStopped, 0);
  t.deepEqual(afterwards, [EE, [2]], 'once continued, its message arrives whole, in its place, once');
  t.is(lost, 0);
});

test('a blocked producer (alive, never continued) is repaired only once it is killed', async (t) => {
  const { address, ring: r } = ring(t);
  const { child, exited } = await crash(t, address, 'producer', false);
  r.tryWrite(message(2));
  t.deepEqual([...r.read({ timeout: 5000 })], [7]);
  t.throws(() => r.read({ timeout: 400 }), { instanceOf: ShmError, code: 'ERR_TIMEOUT' });
  t.is(r.stats.lost, 0);
  child.kill('SIGKILL');
  await exited;
  t.deepEqual([...r.read({ timeout: 5000 })], [2]);
  t.is(r.stats.lost, 1);
});

test('registry entries of dead handles are reused; too many live handles is ERR_TOO_MANY_PARTICIPANTS', async (t) => {
  const address = shmAddress(t);
  const first = MpmcRing.create(address, { slots: 8, slotSize: 16, participants: 2 });
  t.teardown(() => first.close());
  const second = MpmcRing.open(address);
  const third = MpmcRing.open(address);
  t.true(first.tryWrite(message(1)));
  t.deepEqual([...second.tryRead()!], [1]);
  t.throws(() => third.tryRead(), { instanceOf: ShmError, code: 'ERR_TOO_MANY_PARTICIPANTS' });
  second.close();
  t.is(third.tryRead(), null, 'the entry given back by close is taken');
  third.close();
  t.throws(() => MpmcRing.create(address, { slots: 8, slotSize: 16, participants: 0 }), { instanceOf: RangeError });
});

test('a reader blocked on an empty ring whose every producer died gets ERR_PEER_DEAD; with no producer yet it keeps waiting', async (t) => {
  const { address, ring: r } = ring(t);
  t.throws(() => r.read({ timeout: 250 }), { code: 'ERR_TIMEOUT' }, 'no producer has ever written: keep waiting');
  const child = startFixture(t, 'ring-abandon', [`${address}`, 'mpmc-open']);
  const exited = finished(child);
  await lineFrom(child, /ready/);
  t.deepEqual([...r.read({ timeout: 5000 })], [1]);
  const reading = r.readAsync({ timeout: 10_000 });
  child.kill('SIGKILL');
  await exited;
  await t.throwsAsync(reading, { instanceOf: ShmError, code: 'ERR_PEER_DEAD' });
});
