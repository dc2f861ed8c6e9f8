// Interop with plain C: a C program using only the standard calls shares a struct array
// with the library, in both directions, for shm:, file: and sysv:/path:PROJ.
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Segment } from '../src/index.js';
import { fileAddress, ftokAddress, shmAddress, sweep } from './helpers/resources.js';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'c', 'interop.c');
const BUILD = mkdtempSync(join(tmpdir(), 'shmring-interop-'));
const BINARY = join(BUILD, 'interop');
const COUNT = 1000;
const RECORD = 32; // struct record in interop.c: int32 id, uint32 flags, double value, char tag[16]

test.before(() => {
  execFileSync('cc', ['-O2', '-Wall', '-o', BINARY, SOURCE, '-lrt']);
});
test.after.always(() => {
  rmSync(BUILD, { recursive: true, force: true });
  sweep();
});

function cArgs(address: string): string[] {
  if (address.startsWith('shm:')) return ['shm', address.slice(4)];
  if (address.startsWith('file:')) return ['file', address.slice(5)];
  const [, path, proj] = /^sysv:(.*):(\d+)$/.exec(address)!;
  return ['sysv', path!, proj!];
}

function runC(mode: 'write' | 'read', address: string) {
  return spawnSync(BINARY, [mode, ...cArgs(address), String(COUNT)], { encoding: 'utf8', timeout: 20_000 });
}

function writeRecords(seg: Segment): void {
  const view = new DataView(seg.buffer);
  const bytes = new Uint8Array(seg.buffer);
  for (let i = 0; i < COUNT; i++) {
    const at = i * RECORD;
    view.setInt32(at, i, true);
    view.setUint32(at + 4, i * 3, true);
    view.setFloat64(at + 8, i * 0.5, true);
    bytes.fill(0, at + 16, at + 32);
    bytes.set(Buffer.from(`rec-${i}`), at + 16);
  }
}

function checkRecords(t: ExecutionContext, seg: Segment): void {
  const view = new DataView(seg.buffer);
  const bytes = Buffer.from(seg.buffer);
  for (let i = 0; i < COUNT; i++) {
    const at = i * RECORD;
    const tag = bytes.subarray(at + 16, at + 32).toString('latin1').replace(/\0+$/, '');
    if (view.getInt32(at, true) !== i || view.getUint32(at + 4, true) !== i * 3 || view.getFloat64(at + 8, true) !== i * 0.5 || tag !== `rec-${i}`) {
      t.fail(`record ${i} differs`);
      return;
    }
  }
  t.pass();
}

for (const [kind, make] of [
  ['shm', shmAddress],
  ['file', fileAddress],
  ['sysv ftok', ftokAddress],
] as const) {
  test(`${kind}: C writes a struct array, the library reads it`, (t) => {
    const address = make(t);
    const c = runC('write', address);
    t.is(c.status, 0, c.stderr);
    const seg = Segment.open(address, { size: COUNT * RECORD });
    checkRecords(t, seg);
    seg.close();
  });

  test(`${kind}: the library writes a struct array, C reads it`, (t) => {
    const address = make(t);
    const seg = Segment.create(address, { size: COUNT * RECORD });
    writeRecords(seg);
    const c = runC('read', address);
    t.is(c.stdout.trim(), `ok ${COUNT}`, c.stderr);
    seg.close();
  });
}
