// Hostile names: what another local user can plant where a segment is about to be created
// or opened. A symlink or a FIFO at the name is refused without touching what it points
// at; an object squatted by another user (or wider than the mode asked) is refused unless
// the caller opts in with trustForeign; an object too large to map sanely is refused
// unless the caller raises maxSize.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { MAX_SEGMENT_SIZE, Segment, ShmError, SpscRing } from '../src/index.js';
import { runFixture } from './helpers/processes.js';
import { shmAddress, sweep, sysvAddress, tempDir, TEST_PREFIX } from './helpers/resources.js';
import { cannotRunAsNobody, NOBODY } from './helpers/users.js';

test.after.always(sweep);

interface Outcome {
  ok: boolean;
  code?: string;
  name?: string;
  message?: string;
  size?: number;
}

/** Runs one Segment call in a child (watchdog: a call that blocks is killed, and fails the test). */
async function callInChild(t: ExecutionContext, op: 'create' | 'open', address: string, options: object, prefix?: string[]): Promise<Outcome> {
  const result = await runFixture(t, 'segment-call', [op, address, JSON.stringify(options)], { prefix, timeoutMs: 20_000 });
  t.is(result.signal, null, `the child was killed (it blocked): ${result.stderr}`);
  t.is(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim()) as Outcome;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    const value = fn() as { close?: () => void };
    value.close?.();
    return undefined;
  } catch (err) {
    if (!(err instanceof ShmError)) throw err;
    return err.code;
  }
}

// ---- item: links and special files at the name ----

test('file: a symlink planted at the name is refused (ELOOP) and its target is untouched', (t) => {
  const dir = tempDir(t);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious contents');
  const link = join(dir, 'segment');
  symlinkSync(victim, link);
  const address = `file:${link}`;
  t.is(codeOf(() => Segment.create(address, { size: 65536, exclusive: false })), 'ELOOP');
  t.is(codeOf(() => Segment.open(address)), 'ELOOP');
  t.is(codeOf(() => SpscRing.create(Segment.create(address, { size: 65536, exclusive: false }), { capacity: 4096 })), 'ELOOP');
  t.is(readFileSync(victim, 'utf8'), 'precious contents');
  t.is(statSync(victim).size, 'precious contents'.length);
});

test('shm: a symlink planted in /dev/shm is refused and its target is untouched', (t) => {
  const dir = tempDir(t);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious contents');
  const address = shmAddress(t);
  const path = join('/dev/shm', address.slice('shm:'.length));
  symlinkSync(victim, path);
  t.teardown(() => rmSync(path, { force: true }));
  t.is(codeOf(() => Segment.create(address, { size: 65536, exclusive: false })), 'ELOOP');
  t.is(codeOf(() => Segment.open(address)), 'ELOOP');
  t.is(readFileSync(victim, 'utf8'), 'precious contents');
});

for (const readOnly of [false, true]) {
  test(`file: a FIFO at the name is refused without blocking (open, readOnly=${readOnly})`, async (t) => {
    const fifo = join(tempDir(t), 'segment');
    execFileSync('mkfifo', [fifo]);
    const outcome = await callInChild(t, 'open', `file:${fifo}`, { readOnly });
    t.like(outcome, { ok: false, name: 'ShmError', code: 'EINVAL' });
  });
}

test('file: a FIFO at the name is refused by a non-exclusive create, not written to', async (t) => {
  const fifo = join(tempDir(t), 'segment');
  execFileSync('mkfifo', [fifo]);
  const outcome = await callInChild(t, 'create', `file:${fifo}`, { size: 4096, exclusive: false });
  t.like(outcome, { ok: false, name: 'ShmError', code: 'EINVAL' });
  t.regex(outcome.message ?? '', /not a shared memory object or regular file/);
});

// ---- item: objects squatted by another user, or wider than asked ----

const reason = cannotRunAsNobody();
if (reason !== undefined) console.log(`segment-hostile: squatting tests skipped: ${reason}`);
const asNobody = reason === undefined ? test : test.skip;

/** A directory where user nobody can create files (sticky, like /tmp). */
function sharedDir(t: ExecutionContext): string {
  const dir = tempDir(t);
  chmodSync(dir, 0o1777);
  return dir;
}

for (const [kind, make] of [
  ['shm', shmAddress],
  ['file', (t: ExecutionContext) => `file:${join(sharedDir(t), 'segment')}`],
  ['sysv', sysvAddress],
] as const) {
  asNobody(`${kind}: an object another user squatted (mode 0666) is refused with ERR_SHM_NOT_TRUSTED`, async (t) => {
    const address = make(t);
    const squat = await callInChild(t, 'create', address, { size: 4096, mode: 0o666 }, NOBODY);
    t.true(squat.ok, JSON.stringify(squat));
    t.is(codeOf(() => Segment.create(address, { size: 4096, exclusive: false })), 'ERR_SHM_NOT_TRUSTED');
    t.is(codeOf(() => Segment.open(address)), 'ERR_SHM_NOT_TRUSTED');
    t.is(codeOf(() => SpscRing.open(address)), 'ERR_SHM_NOT_TRUSTED');
    // The explicit opt-out adopts it.
    const seg = Segment.open(address, { trustForeign: true });
    t.is(seg.size, 4096);
    seg.close();
    const again = Segment.create(address, { size: 4096, exclusive: false, trustForeign: true });
    again.close();
  });

  asNobody(`${kind}: another user may open an object of root (mode 0666) as before`, async (t) => {
    const address = make(t);
    const seg = Segment.create(address, { size: 4096, mode: 0o666 });
    t.teardown(() => seg.close());
    t.like(await callInChild(t, 'open', address, {}, NOBODY), { ok: true });
  });
}

for (const [kind, make] of [
  ['shm', shmAddress],
  ['file', (t: ExecutionContext) => `file:${join(tempDir(t), 'segment')}`],
  ['sysv', sysvAddress],
] as const) {
  test(`${kind}: a non-exclusive create refuses an existing object wider than the mode asked`, (t) => {
    const address = make(t);
    const wide = Segment.create(address, { size: 4096, mode: 0o666 });
    t.teardown(() => wide.close());
    t.is(codeOf(() => Segment.create(address, { size: 4096, exclusive: false })), 'ERR_SHM_NOT_TRUSTED');
    t.is(codeOf(() => Segment.create(address, { size: 4096, exclusive: false, mode: 0o644 })), 'ERR_SHM_NOT_TRUSTED');
    t.is(codeOf(() => Segment.create(address, { size: 4096, exclusive: false, mode: 0o666 })), undefined);
    t.is(codeOf(() => Segment.create(address, { size: 4096, exclusive: false, trustForeign: true })), undefined);
    t.is(codeOf(() => Segment.open(address)), undefined); // our own object: open asks no mode
  });
}

test('trustForeign must be a boolean', (t) => {
  t.throws(() => Segment.open('shm:x', { trustForeign: 1 as unknown as boolean }), { instanceOf: TypeError, message: /trustForeign=1/ });
  t.throws(() => Segment.create('shm:x', { size: 1, trustForeign: 'yes' as unknown as boolean }), { instanceOf: TypeError, message: /trustForeign="yes"/ });
});

// ---- item: sizes ----

test('file: open refuses a sparse object larger than maxSize (default 1 TiB); a raised maxSize maps it', (t) => {
  const path = join(tempDir(t), 'segment');
  writeFileSync(path, '', { mode: 0o600 });
  truncateSync(path, 2 * 2 ** 40);
  const address = `file:${path}`;
  t.is(codeOf(() => Segment.open(address)), 'ERR_SHM_TOO_LARGE');
  t.is(codeOf(() => Segment.create(address, { size: 4096, exclusive: false })), 'ERR_SHM_TOO_LARGE');
  const err = t.throws(() => Segment.open(address, { readOnly: true }), { instanceOf: ShmError });
  t.regex(err!.message, /2199023255552 bytes, more than maxSize=1099511627776/);
  const seg = Segment.open(address, { maxSize: 4 * 2 ** 40 });
  t.is(seg.size, 2 * 2 ** 40);
  seg.close();
});

test('shm: open refuses an object whose size a number cannot hold exactly, whatever maxSize says', (t) => {
  const address = shmAddress(t);
  const path = join('/dev/shm', address.slice('shm:'.length));
  writeFileSync(path, '', { mode: 0o600 });
  execFileSync('truncate', ['-s', String(2n ** 62n), path]); // beyond what fs.truncateSync takes
  t.is(codeOf(() => Segment.open(address)), 'ERR_SHM_TOO_LARGE');
  t.is(codeOf(() => Segment.open(address, { maxSize: Number.MAX_SAFE_INTEGER })), 'ERR_SHM_TOO_LARGE');
});

test('maxSize is checked as an argument', (t) => {
  t.is(MAX_SEGMENT_SIZE, 2 ** 40);
  t.throws(() => Segment.open('shm:x', { maxSize: 0 }), { instanceOf: RangeError, message: /maxSize=0/ });
  t.throws(() => Segment.open('shm:x', { maxSize: 2 ** 53 }), { instanceOf: RangeError, message: /maxSize=9007199254740992/ });
  t.throws(() => Segment.create('shm:x', { size: 4096, maxSize: 1.5 }), { instanceOf: RangeError, message: /maxSize=1.5/ });
  t.throws(() => Segment.create(`shm:${TEST_PREFIX}never`, { size: 8192, maxSize: 4096 }), { instanceOf: RangeError, message: /size=8192/ });
});
