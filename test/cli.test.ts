// The shmring command: inspect, ls, rm, stale segments, and usage errors (exit code 2).
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpmcRing, Segment, ShmError, SpscRing } from '../src/index.js';
import { finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, sweep, sweepSysvLeftovers, sysvAddress, sysvExists } from './helpers/resources.js';
import { staleLock } from './helpers/stale-lock.js';

test.after.always(sweep);
// The tests that make abandoned rings and the one that runs `rm --stale` as root are serial:
// run together, rm --stale removed another test's abandoned ring under it (seen once in CI).

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'shmring.js');

function cli(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** A ring whose creator was killed: nobody maps it, its only participant is dead. */
async function abandoned(t: ExecutionContext, address: string, kind: 'spsc' | 'mpmc'): Promise<void> {
  const child = startFixture(t, 'ring-abandon', [address, kind]);
  const exited = finished(child);
  await lineFrom(child, /ready/);
  child.kill('SIGKILL');
  await exited;
}

test('usage errors exit with code 2', (t) => {
  for (const args of [[], ['nope'], ['inspect'], ['inspect', 'bad-address'], ['ls', '--bogus'], ['rm'], ['rm', '--stale', 'shm:x'], ['rm', 'shm:a/b']]) {
    const r = cli(...args);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /usage: shmring/);
  }
  t.is(cli('--help').status, 0);
});

test('inspect shows the header, positions and participants; a missing segment is an error', (t) => {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: 4096, role: 'producer' });
  t.teardown(() => ring.close());
  ring.tryWrite(new Uint8Array(10));
  ring.flush();
  const r = cli('inspect', address, '--json');
  t.is(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  t.like(info, { kind: 'SPSC', ready: true, figures: { capacity: 4096, tail: 24, head: 0, usedBytes: 24 } });
  t.deepEqual(info.participants, [{ role: 'producer', pid: process.pid, alive: true }]);
  t.regex(cli('inspect', address).stdout, /SPSC ring v1[\s\S]*producer: pid \d+ alive/);
  const missing = cli('inspect', shmAddress(t));
  t.is(missing.status, 1);
  t.regex(missing.stderr, /ENOENT/);
});

test('inspect --offset describes a ring in a region of its segment', (t) => {
  const address = shmAddress(t);
  const ring = SpscRing.create(address, { capacity: 1024, byteOffset: 256, role: 'producer' });
  t.teardown(() => ring.close());
  ring.tryWrite(new Uint8Array(10));
  ring.flush();
  const r = cli('inspect', address, '--offset', '256', '--json');
  t.is(r.status, 0, r.stderr);
  t.like(JSON.parse(r.stdout), { kind: 'SPSC', figures: { capacity: 1024, tail: 24 } });
  t.is(cli('inspect', address).status, 1, 'no ring header at offset 0');
  t.is(cli('inspect', address, '--offset', '100').status, 2);
});

test.serial('ls and rm --stale find and remove abandoned rings, never a live one', async (t) => {
  await staleLock(t);
  const live = shmAddress(t);
  const ring = MpmcRing.create(live, { slots: 8, slotSize: 32 });
  t.teardown(() => ring.close());
  ring.tryWrite(new Uint8Array([1]));
  const deadSpsc = shmAddress(t);
  const deadMpmc = sysvAddress(t);
  await abandoned(t, deadSpsc, 'spsc');
  await abandoned(t, deadMpmc, 'mpmc');
  const all = JSON.parse(cli('ls', '--json').stdout) as Array<{ address: string; stale: boolean; users: number }>;
  const byAddress = new Map(all.map((s) => [s.address, s]));
  t.like(byAddress.get(live), { stale: false });
  t.true(byAddress.get(live)!.users >= 1);
  t.like(byAddress.get(deadSpsc), { stale: true, users: 0 });
  t.like(byAddress.get(deadMpmc), { stale: true, users: 0 });
  const stale = JSON.parse(cli('ls', '--stale', '--json').stdout) as Array<{ address: string }>;
  t.false(stale.some((s) => s.address === live));
  const removed = cli('rm', '--stale');
  t.is(removed.status, 0, removed.stderr);
  t.regex(removed.stdout, new RegExp(`removed ${deadSpsc}`));
  t.regex(removed.stdout, new RegExp(`removed ${deadMpmc}`));
  t.false(existsSync(`/dev/shm/${deadSpsc.slice(4)}`));
  t.false(sysvExists(Number(deadMpmc.slice(5))), 'the System V one is gone from ipcs too');
  t.true(existsSync(`/dev/shm/${live.slice(4)}`), 'the live ring survives');
  t.true(ring.tryWrite(new Uint8Array([2])));
});

test('rm removes named segments and reports the ones that do not exist', (t) => {
  const a = shmAddress(t);
  SpscRing.create(a, { capacity: 4096 }).close();
  const r = cli('rm', a, shmAddress(t));
  t.is(r.status, 1);
  t.regex(r.stdout, /removed/);
  t.regex(r.stderr, /ENOENT/);
  t.false(existsSync(`/dev/shm/${a.slice(4)}`));
});

test.serial('SpscRing.create and MpmcRing.create with replaceStale replace a stale ring, and still refuse a live one', async (t) => {
  await staleLock(t);
  const address = shmAddress(t);
  await abandoned(t, address, 'spsc');
  t.throws(() => SpscRing.create(address, { capacity: 4096 }), { instanceOf: ShmError, code: 'EEXIST' });
  const fresh = SpscRing.create(address, { capacity: 4096, replaceStale: true });
  t.is(fresh.usedBytes, 0, 'a new, empty ring');
  t.throws(() => SpscRing.create(address, { capacity: 4096, replaceStale: true }), { code: 'EEXIST' });
  fresh.close();
  const mpmc = shmAddress(t);
  await abandoned(t, mpmc, 'mpmc');
  t.throws(() => MpmcRing.create(mpmc, { slots: 8, slotSize: 32 }), { instanceOf: ShmError, code: 'EEXIST' });
  const freshMpmc = MpmcRing.create(mpmc, { slots: 8, slotSize: 32, replaceStale: true });
  t.is(freshMpmc.tryRead(), null, 'a new, empty MPMC ring: the dead creator\'s message is gone');
  t.throws(() => MpmcRing.create(mpmc, { slots: 8, slotSize: 32, replaceStale: true }), { code: 'EEXIST' });
  freshMpmc.close();
});

test.serial('replaceStale looks only at its own address, and works for System V too (decimal or hex key)', async (t) => {
  await staleLock(t);
  const address = sysvAddress(t);
  await abandoned(t, address, 'mpmc');
  const decimal = `sysv:${Number(address.slice(5))}`;
  t.throws(() => MpmcRing.create(decimal, { slots: 8, slotSize: 32 }), { instanceOf: ShmError, code: 'EEXIST' });
  const fresh = MpmcRing.create(decimal, { slots: 8, slotSize: 32, replaceStale: true });
  t.is(fresh.size, 0, 'a new, empty ring');
  t.throws(() => MpmcRing.create(address, { slots: 8, slotSize: 32, replaceStale: true }), { code: 'EEXIST' });
  fresh.close();
});

test('a FIFO and a directory planted in /dev/shm: ls and a stale check pass them by, never hang or crash', (t) => {
  const fifo = shmAddress(t);
  const dir = shmAddress(t);
  const fifoPath = `/dev/shm/${fifo.slice('shm:'.length)}`;
  const dirPath = `/dev/shm/${dir.slice('shm:'.length)}`;
  t.is(spawnSync('mkfifo', [fifoPath]).status, 0);
  mkdirSync(dirPath);
  t.teardown(() => {
    rmSync(fifoPath, { force: true });
    rmSync(dirPath, { recursive: true, force: true });
  });
  for (const args of [['ls'], ['ls', '--stale'], ['ls', '--json']]) {
    const r = cli(...args);
    t.is(r.signal, null, `${args.join(' ')} was not killed by the timeout`);
    t.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    t.false(r.stdout.includes(fifo.slice('shm:'.length)), 'a FIFO is no segment');
  }
  const ring = SpscRing.create(shmAddress(t), { capacity: 4096, replaceStale: true });
  t.teardown(() => ring.close());
  t.pass();
});

test('the suite\'s leftover sweep removes a System V test segment of a dead test process, never one of a live one', (t) => {
  // A key whose pid bits no live process has, as a killed test process leaves them: bits
  // just behind the newest pid, which new processes reach only after thousands of forks.
  const live = new Set(readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map((e) => Number(e) & 0xfff));
  let free = (spawnSync('true').pid! - 64) & 0xfff;
  while (live.has(free)) free = (free - 1) & 0xfff;
  const leftover = (0x5e000000 | (free << 12) | 0xfff) >>> 0;
  t.teardown(() => {
    if (sysvExists(leftover)) Segment.unlink(`sysv:${leftover}`);
  });
  Segment.create(`sysv:${leftover}`, { size: 4096 }).close();
  const mine = sysvAddress(t);
  Segment.create(mine, { size: 4096 }).close(); // nobody attaches it, but this test process lives
  const removed = sweepSysvLeftovers();
  t.true(removed.includes(leftover));
  t.false(sysvExists(leftover));
  t.true(sysvExists(Number(mine.slice(5))), 'the segment of a live test process stays');
});
