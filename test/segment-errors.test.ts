// Bad input to the Segment API: each gets a clear error and leaves nothing behind.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { openSync, closeSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_SEGMENT_SIZE, Segment, ShmError } from '../src/index.js';
import { fileAddress, shmAddress, sweep, sysvAddress, tempDir, TEST_PREFIX } from './helpers/resources.js';

test.after.always(sweep);

const malformed = [
  '',
  'shm',
  'shm:',
  'shm:a/b',
  'shm:/lead',
  'shm:..',
  `shm:${'x'.repeat(256)}`,
  `shm:${'é'.repeat(128)}`, // 256 bytes in UTF-8
  'file:relative/path',
  'file:',
  'sysv:',
  'sysv:abc',
  'sysv:0',
  'sysv:0x1ffffffff',
  'sysv:99999999999',
  'sysv:/tmp:0',
  'sysv:/tmp:256',
  'sysv:/tmp',
  'fd:',
  'fd:-1',
  'fd:x',
  'tcp:localhost',
  'shm:a\0b',
];

for (const address of malformed) {
  test(`malformed address ${JSON.stringify(address.length > 40 ? address.slice(0, 40) + '…' : address)} is a TypeError naming it`, (t) => {
    const err = t.throws(() => Segment.open(address), { instanceOf: TypeError });
    t.regex(err!.message, /^address=/);
    t.throws(() => Segment.create(address, { size: 64 }), { instanceOf: TypeError });
  });
}

test('a 255-byte shm name is accepted', (t) => {
  const name = `${TEST_PREFIX}${'n'.repeat(255 - TEST_PREFIX.length)}`;
  const seg = Segment.create(`shm:${name}`, { size: 64 });
  t.teardown(() => Segment.unlink(`shm:${name}`));
  t.is(seg.size, 64);
  seg.close();
});

test('non-string addresses and non-object options are TypeErrors', (t) => {
  t.throws(() => Segment.open(42 as unknown as string), { instanceOf: TypeError, message: /address=42/ });
  t.throws(() => Segment.create(shmAddress(t), 4096 as unknown as { size: number }), { instanceOf: TypeError });
  t.throws(() => Segment.open(shmAddress(t), { readOnly: 'yes' as unknown as boolean }), { instanceOf: TypeError });
});

const badSizes: unknown[] = [0, -1, 1.5, NaN, Infinity, MAX_SEGMENT_SIZE + 1, 2 ** 60];
for (const size of badSizes) {
  test(`size=${String(size)} is a RangeError and creates nothing`, (t) => {
    const address = shmAddress(t);
    t.throws(() => Segment.create(address, { size: size as number }), { instanceOf: RangeError, message: /^size=/ });
    t.throws(() => Segment.open(address), { code: 'ENOENT' });
    t.throws(() => Segment.anonymous(size as number), { instanceOf: RangeError });
  });
}

test('a size that is not a number is a TypeError', (t) => {
  t.throws(() => Segment.create(shmAddress(t), { size: '4096' as unknown as number }), { instanceOf: TypeError, message: /size="4096"/ });
  t.throws(() => Segment.create(shmAddress(t), {} as { size: number }), { instanceOf: TypeError });
});

test('mode out of range is a RangeError', (t) => {
  t.throws(() => Segment.create(shmAddress(t), { size: 64, mode: 0o1777 }), { instanceOf: RangeError, message: /^mode=/ });
});

test('a size larger than memory allows is ENOSPC, and nothing is left', (t) => {
  const address = shmAddress(t);
  const err = t.throws(() => Segment.create(address, { size: 2 ** 39 }), { instanceOf: ShmError });
  t.true(['ENOSPC', 'ENOMEM', 'EFBIG'].includes(err!.code), err!.code);
  t.false(readdirSync('/dev/shm').includes(address.slice(4)));
});

test('opening what does not exist is ENOENT for every kind', (t) => {
  for (const address of [shmAddress(t), fileAddress(t), sysvAddress(t)]) {
    const err = t.throws(() => Segment.open(address), { instanceOf: ShmError });
    t.is(err!.code, 'ENOENT');
    t.is(err!.address, address);
    t.is(typeof err!.errno, 'number');
    t.is(typeof err!.syscall, 'string');
  }
});

test('creating what exists with exclusive (the default) is EEXIST and the original is untouched', (t) => {
  for (const address of [shmAddress(t), fileAddress(t), sysvAddress(t)]) {
    const seg = Segment.create(address, { size: 4096 });
    new Uint8Array(seg.buffer)[0] = 77;
    t.throws(() => Segment.create(address, { size: 4096 }), { instanceOf: ShmError, code: 'EEXIST' });
    const again = Segment.open(address);
    t.is(new Uint8Array(again.buffer)[0], 77);
    again.close();
    seg.close();
  }
});

test('a file shorter than the size asked for on open is ERR_SHM_TRUNCATED', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'short');
  writeFileSync(path, Buffer.alloc(100));
  t.throws(() => Segment.open(`file:${path}`, { size: 4096 }), { instanceOf: ShmError, code: 'ERR_SHM_TRUNCATED' });
  const ok = Segment.open(`file:${path}`, { size: 100 });
  t.is(ok.size, 100);
  ok.close();
});

test('an empty file or shm object cannot be mapped: ERR_SHM_TRUNCATED', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'empty');
  closeSync(openSync(path, 'w'));
  t.throws(() => Segment.open(`file:${path}`), { instanceOf: ShmError, code: 'ERR_SHM_TRUNCATED' });
});

test('a sysv segment smaller than the size asked for on open is ERR_SHM_TRUNCATED', (t) => {
  const address = sysvAddress(t);
  const seg = Segment.create(address, { size: 1000 });
  t.throws(() => Segment.open(address, { size: 2000 }), { instanceOf: ShmError, code: 'ERR_SHM_TRUNCATED' });
  seg.close();
});

test('a file: path in a missing directory is ENOENT; a directory is not mappable', (t) => {
  const dir = tempDir(t);
  t.throws(() => Segment.create(`file:${join(dir, 'no', 'such')}`, { size: 64 }), { code: 'ENOENT' });
  t.throws(() => Segment.open(`file:${dir}`), { instanceOf: ShmError });
});

test('fd: of something that is not a file (a pipe) is EINVAL; a closed descriptor is EBADF', (t) => {
  const result = spawnSync(process.execPath, ['--import=tsx', '-e', `
    import('${new URL('../src/index.ts', import.meta.url).pathname}').then(({ Segment }) => {
      const out = [];
      for (const a of ['fd:0', 'fd:987654']) {
        try { Segment.open(a); out.push('opened'); } catch (e) { out.push(e.code); }
      }
      console.log(out.join(','));
    });`], { stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8', timeout: 20_000 });
  t.is(result.stdout.trim(), 'EINVAL,EBADF', result.stderr);
});

test('fd: addresses cannot be created or unlinked', (t) => {
  t.throws(() => Segment.create('fd:3', { size: 64 }), { instanceOf: TypeError });
  t.throws(() => Segment.unlink('fd:3'), { instanceOf: TypeError });
});

test('unlinking what does not exist is ENOENT', (t) => {
  t.throws(() => Segment.unlink(shmAddress(t)), { code: 'ENOENT' });
  t.throws(() => Segment.unlink(sysvAddress(t)), { code: 'ENOENT' });
});

test('readOnly on a System V segment is refused rather than mapped as a crash trap', (t) => {
  const address = sysvAddress(t);
  const seg = Segment.create(address, { size: 4096 });
  t.throws(() => Segment.open(address, { readOnly: true }), { instanceOf: ShmError, code: 'ERR_NOT_SUPPORTED' });
  seg.close();
});

test('ftok of a path that does not exist is ENOENT', (t) => {
  t.throws(() => Segment.open(`sysv:${join(tempDir(t), 'missing')}:1`), { code: 'ENOENT' });
});
