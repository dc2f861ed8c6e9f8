// The shmring command against a hostile or crowded machine: names that try to drive the
// terminal, `rm --stale` run by a user who cannot see every process's mappings, removal
// racing with re-creation, and System V segments of other applications (probed read-only).
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpmcRing, Segment, SpscRing } from '../src/index.js';
import { findSegments, removeStale } from '../src/admin/stale.js';
import { PRODUCER_OWNER_OFFSET } from '../src/ring/layout/header.js';
import { sysvSegments } from '../src/segment/discovery.js';
import { packIdentity, processStartTime } from '../src/sync/identity.js';
import { finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, sweep, sysvAddress, TEST_PREFIX } from './helpers/resources.js';
import { cannotRunAsNobody, NOBODY } from './helpers/users.js';
import { staleLock } from './helpers/stale-lock.js';

test.after.always(sweep);
// Serial: `rm --stale` run by one test would remove what another planted.
const serial = test.serial;

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'shmring.js');
const RING_BYTES = 512 + 1024;
/** A second unprivileged user, the neighbour whose processes `nobody` cannot see. */
const NEIGHBOUR = ['setpriv', '--reuid=4242', '--regid=4242', '--clear-groups'];

function cli(args: string[], prefix: string[] = []) {
  const command = [...prefix, process.execPath, BIN, ...args];
  return spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 60_000 });
}

/** The bytes of an SPSC ring whose only participant, its producer, is dead (a reused pid's old owner). */
function staleRing(): Uint8Array {
  const sab = new SharedArrayBuffer(RING_BYTES);
  SpscRing.create(sab, { capacity: 1024 }).close();
  new BigInt64Array(sab)[PRODUCER_OWNER_OFFSET / 8] = packIdentity(process.pid, processStartTime(process.pid)! - 1);
  return new Uint8Array(sab).slice();
}

/** A stale ring in /dev/shm under `name`, owned by `uid` with `mode`; removed at teardown. */
function plantShm(t: ExecutionContext, name: string, uid = 0, mode = 0o600): string {
  const path = `/dev/shm/${name}`;
  writeFileSync(path, staleRing(), { mode });
  chownSync(path, uid, uid);
  chmodSync(path, mode); // writeFileSync's mode is narrowed by the umask
  t.teardown(() => rmSync(path, { force: true }));
  return path;
}

/** A stale ring in a System V segment of the given mode. */
function plantSysv(t: ExecutionContext, mode = 0o600): string {
  const address = sysvAddress(t);
  const seg = Segment.create(address, { size: RING_BYTES, mode });
  new Uint8Array(seg.buffer).set(staleRing());
  seg.close();
  return address;
}

const attachCount = (address: string) => sysvSegments().find((s) => s.address === address)?.attached;

serial('a /dev/shm name holding a newline and an escape sequence is printed escaped; --json keeps it raw', async (t) => {
  await staleLock(t);
  const name = `${TEST_PREFIX}evil\n\x1b[2Jremoved shm:forged`;
  const path = plantShm(t, name);
  const escaped = `shm:${TEST_PREFIX}evil\\n\\x1b[2Jremoved shm:forged`;
  const listed = cli(['ls']);
  t.is(listed.status, 0, listed.stderr);
  t.false(listed.stdout.includes('\x1b'), 'no escape character reaches the terminal');
  t.false(listed.stdout.split('\n').some((line) => line.startsWith('removed shm:forged')), 'no forged line');
  t.true(listed.stdout.includes(escaped), listed.stdout);
  const json = cli(['ls', '--json']);
  t.false(json.stdout.includes('\x1b'));
  t.true((JSON.parse(json.stdout) as Array<{ address: string }>).some((s) => s.address === `shm:${name}`), 'the raw name in JSON');
  const removed = cli(['rm', '--stale']);
  t.is(removed.status, 0, removed.stderr);
  t.false(removed.stdout.includes('\x1b'));
  t.false(removed.stdout.split('\n').some((line) => line.startsWith('removed shm:forged')), 'no forged line');
  t.true(removed.stdout.split('\n').includes(`removed ${escaped}`), removed.stdout);
  t.false(existsSync(path));
  const missing = cli(['rm', `shm:${TEST_PREFIX}\x1b[31mred`]);
  t.is(missing.status, 1);
  t.false(missing.stderr.includes('\x1b'), 'an error that quotes the name is escaped too');
  t.true(missing.stderr.includes('\\x1b[31mred'), missing.stderr);
});

serial('rm --stale removes the probed objects: a name or key made again since is left alone, and an error on one segment does not stop the rest', async (t) => {
  await staleLock(t);
  const again = plantSysv(t);
  const replaced = shmAddress(t);
  plantShm(t, replaced.slice('shm:'.length));
  const plain = shmAddress(t);
  const plainPath = plantShm(t, plain.slice('shm:'.length));
  const ours = new Set([again, replaced, plain]);
  const found = findSegments().filter((s) => ours.has(s.address));
  t.deepEqual(found.map((s) => s.stale), [true, true, true]);
  // Between the probe and the removal, both names are removed and made again, live.
  Segment.unlink(again);
  const liveSysv = MpmcRing.create(again, { slots: 8, slotSize: 32 });
  t.teardown(() => liveSysv.close());
  Segment.unlink(replaced);
  const liveShm = SpscRing.create(replaced, { capacity: 1024, role: 'producer' });
  t.teardown(() => liveShm.close());
  const report = new Map(removeStale(found).map((r) => [r.address, r]));
  t.like(report.get(again), { outcome: 'failed' }, 'the probed shmid is gone: an error, reported');
  t.like(report.get(replaced), { outcome: 'kept' });
  t.like(report.get(plain), { outcome: 'removed' }, 'the error before it did not stop the run');
  t.true(liveSysv.tryWrite(new Uint8Array([1])));
  t.true((attachCount(again) ?? 0) >= 1, 'the new System V segment is still there');
  t.true(existsSync(`/dev/shm/${replaced.slice('shm:'.length)}`), 'the new /dev/shm object is still there');
  t.false(existsSync(plainPath));
});

const asNobody = cannotRunAsNobody();
const nobodyTest = asNobody === undefined ? serial : test.skip;
if (asNobody !== undefined) console.warn(`cli-hostile: tests as user nobody skipped: ${asNobody}`);

nobodyTest('rm --stale run by a user who cannot read another user\'s maps keeps what that user may map ("unknown"), removes its own', async (t) => {
  await staleLock(t);
  t.timeout(60_000);
  const shared = shmAddress(t);
  const sharedPath = plantShm(t, shared.slice('shm:'.length), 65534, 0o666);
  const own = shmAddress(t);
  const ownPath = plantShm(t, own.slice('shm:'.length), 65534, 0o600);
  const rootOwned = shmAddress(t);
  const rootPath = plantShm(t, rootOwned.slice('shm:'.length), 0, 0o644);
  // The neighbour maps the shared segment; nobody cannot read its /proc/PID/maps.
  const mapper = startFixture(t, 'segment-hold', [shared], { prefix: NEIGHBOUR });
  const exited = finished(mapper);
  t.teardown(async () => {
    mapper.kill('SIGKILL');
    await exited;
  });
  await lineFrom(mapper, /mapped/);
  const listed = cli(['ls', '--json'], NOBODY);
  t.is(listed.status, 0, listed.stderr);
  t.like((JSON.parse(listed.stdout) as Array<{ address: string }>).find((s) => s.address === shared), { usersKnown: false, stale: false });
  const r = cli(['rm', '--stale'], NOBODY);
  t.is(r.status, 0, r.stderr);
  t.true(existsSync(sharedPath), `a segment another user maps is never removed: ${r.stdout}`);
  t.regex(r.stdout, new RegExp(`kept ${shared}: unknown`));
  t.false(existsSync(ownPath), 'its own stale segment, which nobody else may open, is removed');
  t.regex(r.stdout, new RegExp(`removed ${own}`));
  t.true(existsSync(rootPath));
  t.regex(r.stdout, new RegExp(`kept ${rootOwned}: owned by uid 0`));
});

nobodyTest('ls run by a user who may only read a System V segment lists it (read-only attach) and leaves its attach count as it was', async (t) => {
  await staleLock(t);
  const address = plantSysv(t, 0o644);
  t.is(attachCount(address), 0);
  const listed = cli(['ls', '--json'], NOBODY);
  t.is(listed.status, 0, listed.stderr);
  const entry = (JSON.parse(listed.stdout) as Array<{ address: string }>).find((s) => s.address === address);
  t.like(entry, { stale: true, users: 0 }, 'listed through a read-only attachment');
  t.is(attachCount(address), 0, 'detached at once');
  const inspected = cli(['inspect', address, '--json'], NOBODY);
  t.is(inspected.status, 0, inspected.stderr);
  t.like(JSON.parse(inspected.stdout), { kind: 'SPSC', address });
  const r = cli(['rm', '--stale'], NOBODY);
  t.is(r.status, 0, r.stderr);
  t.is(attachCount(address), 0, 'another user\'s segment is not removed by nobody');
});

test.after.always('nothing planted is left in /dev/shm', () => {
  for (const name of readdirSync('/dev/shm')) if (name.startsWith(`${TEST_PREFIX}evil`)) rmSync(`/dev/shm/${name}`, { force: true });
});
