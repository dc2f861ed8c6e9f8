// Rules of the source tree that review keeps: layout offsets only in layout files, every
// code thrown in ShmErrorCode, every file saying what it owns, and the emitted
// declarations of the public classes show no internal member.
import test from 'ava';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHM_ERROR_CODES } from '../src/errors.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

function sources(dir = SRC): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The files that own a shared-memory layout: the ring layouts, the channel's (its header
 * and its frame header), and the mutex and the semaphore, whose few bytes are laid out at
 * the top of their own file.
 */
const LAYOUT_OWNERS = /^src\/(ring\/layout\/[^/]+|transport\/layout|sync\/mutex|sync\/semaphore)\.ts$/;

test('layout offsets are computed only in layout files', (t) => {
  const offenders: string[] = [];
  for (const file of sources()) {
    const name = relative(ROOT, file);
    if (LAYOUT_OWNERS.test(name)) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '');
        // arithmetic on a named offset (X_OFFSET + 8, at + Y_OFFSET, Z_OFFSET >> 2), or an
        // offset accessor turned into an index by hand (entryOffset(i) >> 3)
        if (/\b[A-Z][A-Z0-9_]*_OFFSET\b\s*[-+*/>]|[-+*/]\s*[A-Z][A-Z0-9_]*_OFFSET\b|[a-z]\w*Offset\([^)]*\)\s*(>>|\+|-)/.test(code)) {
          offenders.push(`${name}:${i + 1}: ${line.trim()}`);
        }
      });
  }
  t.deepEqual(offenders, []);
});

test('every code thrown in src/ is in SHM_ERROR_CODES (and so in ShmErrorCode)', (t) => {
  const thrown = new Set<string>();
  for (const file of sources()) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:shmError|new ShmError)\(\s*'([A-Z_]+)'/g)) thrown.add(m[1]!);
  }
  t.true(thrown.size >= 10, `found ${[...thrown].join(', ')}`);
  t.deepEqual([...thrown].filter((code) => !(SHM_ERROR_CODES as readonly string[]).includes(code)), []);
  // The codes added with the ring-layer review, listed: they were thrown before but missing.
  for (const code of ['ERR_CLAIM_PENDING', 'ERR_CLAIM_DONE', 'ERR_TOO_MANY_PARTICIPANTS', 'EDEADLK']) t.true(thrown.has(code) && SHM_ERROR_CODES.includes(code as never), code);
});

test('every file in src/ opens with a comment on what it owns (a file holds one concept; its size follows it)', (t) => {
  const bare = sources()
    .filter((file) => !readFileSync(file, 'utf8').startsWith('//'))
    .map((file) => relative(ROOT, file));
  t.deepEqual(bare, []);
});

test('the emitted declarations of every public class expose no internal member', (t) => {
  // Each exported class and what its .d.ts may show: a member not listed here is either new
  // public API (add it, and to the README or docs) or an internal that leaked (hide it).
  const expected: Record<string, string[]> = {
    'errors.d.ts': ['ShmError', 'code', 'errno', 'syscall', 'address'],
    'segment/segment.d.ts': ['Segment', 'address', 'size', 'readOnly', 'create', 'open', 'anonymous', 'unlink', 'buffer', 'truncated', 'fd', 'closed', 'flush', 'close'],
    'sync/wait-strategy.d.ts': ['WaitStrategy', 'spinUs', 'yieldUs', 'catchUpUs'],
    'sync/semaphore.d.ts': ['Semaphore', 'create', 'open', 'value', 'max', 'tryAcquire', 'acquire', 'acquireAsync', 'release'],
    'sync/mutex.d.ts': ['Mutex', 'create', 'open', 'locked', 'tryLock', 'lock', 'lockAsync', 'unlock'],
    'transport/channel.d.ts': ['Channel', 'address', 'create', 'connect', 'postMessage', 'claim', 'afterWritten', 'flushSync', 'queuedBytes', 'receiveMessage', 'ref', 'unref', 'hasRef', 'closed', 'close'],
    'transport/zmq/channel.d.ts': ['ZmqChannel', 'address', 'create', 'connect', 'postMessage', 'queuedBytes', 'receiveMessage', 'ref', 'unref', 'hasRef', 'closed', 'close'],
    'schema/struct.d.ts': ['Schema', 'name', 'size', 'align', 'canonical', 'hash', 'hashBigInt', 'direct', 'identity', 'fields', 'encodedLength', 'encodeInto', 'encode', 'decode', 'view', 'tryWrite', 'write', 'tryRead', 'read', 'drain', 'toC', 'toPython'],
    'pool/pool.d.ts': ['ProcessPool', 'run', 'close', 'destroy', 'options', 'minWorkers', 'maxWorkers', 'workers', 'idleWorkers', 'queueSize', 'completed', 'needsDrain', 'histogram', 'duration', 'utilization'],
    'pool/task.d.ts': ['AbortError', 'name'],
    'ring/spsc/ring.d.ts': ['SpscRing', 'capacity', 'maxMessageSize', 'address', 'requiredBytes', 'create', 'open', 'role', 'tryWrite', 'tryWriteMany', 'write', 'writeAsync', 'tryClaim', 'claim', 'claimAsync', 'tryRead', 'tryReadInto', 'drain', 'read', 'readAsync', 'readInto', 'waitReadable', 'waitReadableAsync', 'cork', 'uncork', 'corked', 'stats', 'usedBytes', 'closed', 'flush', 'close'],
    'ring/mpmc/ring.d.ts': ['MpmcRing', 'slots', 'slotSize', 'participants', 'maxMessageSize', 'address', 'requiredBytes', 'create', 'open', 'tryWrite', 'tryWriteMany', 'tryRead', 'drain', 'write', 'writeAsync', 'read', 'readAsync', 'stats', 'size', 'closed', 'close'],
  };
  const dist = join(ROOT, 'dist');
  if (!existsSync(join(dist, 'index.d.ts'))) {
    t.pass('no dist/ (npm test builds it first)');
    return;
  }
  for (const [file, members] of Object.entries(expected)) {
    const text = readFileSync(join(dist, file), 'utf8');
    const start = text.indexOf(`export declare class ${members[0]!}`);
    t.true(start >= 0, `${file} declares ${members[0]!}`);
    const body = text.slice(start, text.indexOf('\n}', start));
    const declared = new Set<string>();
    for (const m of body.matchAll(/^ {4}(?:static |readonly |get |set |private |protected |public |async )*(#?[\w]+|\[Symbol\.\w+\])[(<?:]/gm)) declared.add(m[1]!);
    declared.add(members[0]!);
    t.deepEqual([...declared].filter((name) => name !== '#private' && name !== 'constructor' && !name.startsWith('[') && !members.includes(name)), [], file);
    t.false(/flushDeferredWork|^ {4}(?:static )?(?:readonly )?private (?!constructor\(\))|^ {4}(?:static )?protected /m.test(body), `${file} declares no private or protected member by name`);
  }
  const index = readFileSync(join(dist, 'index.d.ts'), 'utf8');
  for (const internal of ['RingHandle', 'Producer', 'Consumer', 'Payload', 'Registry', 'Slots', 'flushDeferred', 'locate']) t.false(new RegExp(`\\b${internal}\\b`).test(index), internal);
});
