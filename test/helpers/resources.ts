// Names for test segments, and their removal even when a test fails: every name handed
// out is registered with the test's teardown, and a file-level sweep catches the rest.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { Segment } from '../../src/index.js';
import { sysvSegments } from '../../src/segment/discovery.js';

export const TEST_PREFIX = `shmring-test-${process.pid}-`;
/** The high byte of every System V key the tests use (see sysvKey). */
const SYSV_PREFIX = 0x5e;
let counter = 0;

// A test process killed from outside (a watchdog, Ctrl-C) cannot run its teardowns: the
// next test process removes what such dead ones left in /dev/shm and System V.
for (const name of readdirSync('/dev/shm')) {
  const pid = /^shmring-test-(\d+)-/.exec(name)?.[1];
  if (pid === undefined || Number(pid) === process.pid) continue;
  try {
    process.kill(Number(pid), 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') quietlyRemove(join('/dev/shm', name));
  }
}

// The same for System V: keys 0x5e______ carry the low 12 bits of the pid of the test
// process that made them (sysvKey); such a segment that nobody attaches, made by a pid
// whose low bits no live process has, is a leftover of a dead test process.
sweepSysvLeftovers();

/** Removes leftover System V test segments (see above); returns the keys it removed. */
export function sweepSysvLeftovers(): number[] {
  const segments = sysvSegments().filter((s) => s.key >>> 24 === SYSV_PREFIX && s.attached === 0);
  if (segments.length === 0) return [];
  const liveBits = new Set<number>();
  for (const entry of readdirSync('/proc')) if (/^\d+$/.test(entry)) liveBits.add(Number(entry) & 0xfff);
  const removed: number[] = [];
  for (const s of segments) {
    if (liveBits.has((s.key >>> 12) & 0xfff)) continue;
    try {
      Segment.unlink(`sysv:${s.key}`);
      removed.push(s.key);
    } catch {
      // someone else removed it
    }
  }
  return removed;
}

function quietlyRemove(path: string): void {
  try {
    rmSync(path);
  } catch {
    // someone else removed it
  }
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // already gone
  }
}

/** A fresh `shm:` address removed at teardown. */
export function shmAddress(t: ExecutionContext): string {
  const address = `shm:${TEST_PREFIX}${counter++}`;
  t.teardown(() => quietly(() => Segment.unlink(address)));
  return address;
}

/** A fresh temporary directory (mode 0755 so other users can traverse it) removed at teardown. */
export function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), TEST_PREFIX));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh `file:` address in its own temporary directory. */
export function fileAddress(t: ExecutionContext): string {
  return `file:${join(tempDir(t), 'segment')}`;
}

const usedKeys = new Set<number>();

/** A System V key unlikely to clash: tests use 0x5e______ with the low bits from the pid and a counter. */
export function sysvKey(t: ExecutionContext): number {
  const key = ((SYSV_PREFIX << 24) | ((process.pid & 0xfff) << 12) | (counter++ & 0xfff)) >>> 0;
  usedKeys.add(key);
  t.teardown(() => quietly(() => Segment.unlink(`sysv:${key}`)));
  return key;
}

export function sysvAddress(t: ExecutionContext): string {
  return `sysv:0x${sysvKey(t).toString(16)}`;
}

/** An ftok-based address over a fresh file; the segment is removed at teardown. */
export function ftokAddress(t: ExecutionContext): string {
  const dir = tempDir(t);
  const address = `sysv:${dir}:7`;
  t.teardown(() => quietly(() => Segment.unlink(address)));
  return address;
}

/** Removes whatever this test process left in /dev/shm or System V, for test.after.always. */
export function sweep(): void {
  for (const name of readdirSync('/dev/shm')) {
    if (name.startsWith(TEST_PREFIX)) quietly(() => rmSync(join('/dev/shm', name)));
  }
  for (const key of usedKeys) quietly(() => Segment.unlink(`sysv:${key}`));
}

/** Lines of `ipcs -m` for a key, to check that nothing is left. */
export function sysvExists(key: number): boolean {
  const out = execFileSync('ipcs', ['-m'], { encoding: 'utf8' });
  const hex = `0x${(key >>> 0).toString(16).padStart(8, '0')}`;
  return out.split('\n').some((line) => line.startsWith(hex));
}
