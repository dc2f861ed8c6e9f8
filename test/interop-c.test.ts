// A C peer (native/include/shmring.h, driven by test/c/ring-peer.c) and Node peers share
// rings in /dev/shm: each direction of each ring kind carries 1,000,000 seeded messages of
// varied lengths (an SPSC ring wraps thousands of times, with padding records), checked byte
// by byte; a C and a Node producer feed one MPMC ring at once. And the C peer refuses or
// detects exactly what the TypeScript rings do on every corruption case of the ring fuzz tests
// (test/c/ring-check.c, built with AddressSanitizer where the compiler has it).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpmcRing, SpscRing } from '../src/index.js';
import { KIND_MPMC, KIND_SPSC } from '../src/ring/layout/header.js';
import { badHeaders, badRecords, corruptedRings, disagreements, encodeCases, garbage, unexpected } from './helpers/corrupt-rings.js';
import { startNodePeer, startPeer, summary } from './helpers/peers.js';
import { shmAddress, sweep } from './helpers/resources.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const INCLUDE = join(ROOT, 'native', 'include');
const COUNT = 1_000_000;
const MAX_LENGTH = 300;

test.after.always(sweep);

/** Builds test/c/NAME.c into a temporary directory; undefined with the reason if there is no compiler. */
function build(name: string, flags: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'shmring-interop-c-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, name);
  execFileSync('cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', ...flags, '-I', INCLUDE, '-o', out, join(ROOT, 'test', 'c', `${name}.c`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

let noCompiler: string | undefined;
try {
  execFileSync('cc', ['--version'], { stdio: 'ignore' });
} catch {
  noCompiler = 'no C compiler (cc) on this machine';
}
const peer = noCompiler === undefined ? build('ring-peer', ['-O2']) : '';
/** The checker with AddressSanitizer and UBSan if the toolchain has them, else plain. */
const checker = (() => {
  if (noCompiler !== undefined) return { path: '', sanitized: false };
  try {
    return { path: build('ring-check', ['-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all']), sanitized: true };
  } catch {
    return { path: build('ring-check', ['-O2']), sanitized: false };
  }
})();

// One at a time: each runs two or three processes flat out, and the machine may have two cores.
const cTest = noCompiler === undefined ? test.serial : test.skip;
if (noCompiler !== undefined) test('C interop', (t) => t.log(`skipped: ${noCompiler}`) ?? t.pass());

const name = (address: string) => address.slice('shm:'.length);

function cPeer(t: Parameters<typeof startPeer>[0], args: string[]) {
  return startPeer(t, [peer, ...args]);
}

for (const direction of ['C → Node', 'Node → C'] as const) {
  cTest(`SPSC ${direction}: ${COUNT.toLocaleString('en')} seeded messages of 0..${MAX_LENGTH} bytes, byte by byte`, async (t) => {
    const address = shmAddress(t);
    SpscRing.create(address, { capacity: 16384 }).close();
    const stream = [String(COUNT), '20261201', String(MAX_LENGTH)];
    const [producer, consumer] =
      direction === 'C → Node'
        ? [cPeer(t, ['spsc-produce', name(address), ...stream]), startNodePeer(t, 'spsc-consume', address, stream)]
        : [startNodePeer(t, 'spsc-produce', address, stream), cPeer(t, ['spsc-consume', name(address), ...stream])];
    const [p, c] = await Promise.all([summary(producer, 'producer'), summary(consumer, 'consumer')]);
    t.like(p, { written: COUNT, exit: 0 });
    t.like(c, { received: COUNT, error: null, exit: 0 });
  });

  cTest(`MPMC ${direction}: ${COUNT.toLocaleString('en')} seeded messages of 8..${MAX_LENGTH} bytes, in order, byte by byte`, async (t) => {
    const address = shmAddress(t);
    MpmcRing.create(address, { slots: 64, slotSize: MAX_LENGTH + 12 }).close();
    const [producer, consumer] =
      direction === 'C → Node'
        ? [cPeer(t, ['mpmc-produce', name(address), '1', String(COUNT), '11', String(MAX_LENGTH)]), startNodePeer(t, 'mpmc-consume', address, [String(MAX_LENGTH), `1:${COUNT}:11`])]
        : [startNodePeer(t, 'mpmc-produce', address, ['1', String(COUNT), '11', String(MAX_LENGTH)]), cPeer(t, ['mpmc-consume', name(address), String(MAX_LENGTH), `1:${COUNT}:11`])];
    const [p, c] = await Promise.all([summary(producer, 'producer'), summary(consumer, 'consumer')]);
    t.like(p, { written: COUNT, exit: 0 });
    t.like(c, { received: COUNT, error: null, exit: 0 });
  });
}

for (const consumerSide of ['Node', 'C'] as const) {
  cTest(`MPMC: a C and a Node producer share one ring (500,000 messages each), a ${consumerSide} consumer gets each one's in order`, async (t) => {
    const address = shmAddress(t);
    MpmcRing.create(address, { slots: 64, slotSize: MAX_LENGTH + 12 }).close();
    const half = String(COUNT / 2);
    const specs = [String(MAX_LENGTH), `1:${half}:21`, `2:${half}:22`];
    const consumer = consumerSide === 'Node' ? startNodePeer(t, 'mpmc-consume', address, specs) : cPeer(t, ['mpmc-consume', name(address), ...specs]);
    const fromC = cPeer(t, ['mpmc-produce', name(address), '1', half, '21', String(MAX_LENGTH)]);
    const fromNode = startNodePeer(t, 'mpmc-produce', address, ['2', half, '22', String(MAX_LENGTH)]);
    const [c, pc, pn] = await Promise.all([summary(consumer, 'consumer'), summary(fromC, 'C producer'), summary(fromNode, 'Node producer')]);
    t.like(pc, { written: COUNT / 2, exit: 0 });
    t.like(pn, { written: COUNT / 2, exit: 0 });
    t.like(c, { received: COUNT, error: null, exit: 0 });
  });
}

cTest('bad input: the C peer refuses or detects exactly what TypeScript does, on named bad headers and records and every corruption case of the ring fuzz tests, without an access out of bounds', (t) => {
  const named = [...badHeaders(), ...badRecords()];
  t.deepEqual(unexpected(named), [], 'the TypeScript rings refuse or detect each named case as expected');
  const cases = [...named, ...corruptedRings(KIND_SPSC, 5000), ...corruptedRings(KIND_MPMC, 5000), ...garbage(500)];
  t.log(`${cases.length} cases, checker ${checker.sanitized ? 'with AddressSanitizer and UBSan' : 'without sanitizers (the compiler has none)'}`);
  const letters = execFileSync(checker.path, { input: encodeCases(cases), encoding: 'utf8', maxBuffer: 1 << 24, timeout: 60_000 }).trim();
  t.deepEqual(disagreements(cases, letters), []);
  t.false(letters.includes('X'), 'a message longer than the ring allows');
  for (const outcome of ['R', 'D', 'U']) t.true(letters.includes(outcome), `some cases end in ${outcome}`);
});
