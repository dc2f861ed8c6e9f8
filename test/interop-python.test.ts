// The Python client (clients/python/shmring, standard library only) and Node peers share rings
// in /dev/shm: each direction of each ring kind carries seeded messages of varied lengths
// (an SPSC ring wraps many times, with padding records), checked byte by byte; a Python and a
// Node producer feed one MPMC ring at once. The client's layout constants agree with
// TypeScript's, and it refuses or detects exactly what TypeScript does on the ring fuzz
// corruption cases and the named bad headers. Skipped, with the reason, without python3.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpmcRing, SpscRing } from '../src/index.js';
import * as header from '../src/ring/layout/header.js';
import { KIND_MPMC, KIND_SPSC } from '../src/ring/layout/header.js';
import * as mpmcLayout from '../src/ring/layout/mpmc.js';
import * as spscLayout from '../src/ring/layout/spsc.js';
import { badHeaders, badRecords, corruptedRings, disagreements, encodeCases, garbage, unexpected } from './helpers/corrupt-rings.js';
import { startNodePeer, startPeer, summary } from './helpers/peers.js';
import { shmAddress, sweep } from './helpers/resources.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PEER = join(ROOT, 'test', 'python', 'ring_peer.py');
const CHECK = join(ROOT, 'test', 'python', 'ring_check.py');
/** Fewer than the C test's 1,000,000: the Python peer moves a few hundred thousand messages a second. */
const COUNT = 200_000;
/**
 * MPMC: 100,000. A Node MPMC producer does not spin (its sleepers are woken through the event
 * word only), so with the slower Python consumer the two trade a futex wake-up per message.
 */
const MPMC_COUNT = 100_000;
const MAX_LENGTH = 300;

test.after.always(sweep);

let noPython: string | undefined;
try {
  execFileSync('python3', ['--version'], { stdio: 'ignore' });
} catch {
  noPython = 'no python3 on this machine';
}
// One at a time: each runs two or three processes flat out, and the machine may have two cores.
const pyTest = noPython === undefined ? test.serial : test.skip;
if (noPython !== undefined) test('Python interop', (t) => t.log(`skipped: ${noPython}`) ?? t.pass());

function pyPeer(t: Parameters<typeof startPeer>[0], args: string[]) {
  return startPeer(t, ['python3', PEER, ...args]);
}

pyTest('the Python layout constants agree with the TypeScript layout files', (t) => {
  const py = JSON.parse(execFileSync('python3', [PEER, 'constants'], { encoding: 'utf8' })) as Record<string, number>;
  const ts: Record<string, unknown> = { ...header, ...spscLayout, ...mpmcLayout };
  const compared = Object.keys(py).filter((k) => k in ts);
  t.true(compared.length >= 50, `${compared.length} constants compared`);
  t.deepEqual(Object.fromEntries(compared.map((k) => [k, py[k]])), Object.fromEntries(compared.map((k) => [k, ts[k]])));
  t.deepEqual(Object.keys(py).filter((k) => !(k in ts)), [], 'every Python constant has a TypeScript twin');
});

for (const direction of ['Python → Node', 'Node → Python'] as const) {
  pyTest(`SPSC ${direction}: ${COUNT.toLocaleString('en')} seeded messages of 0..${MAX_LENGTH} bytes, byte by byte`, async (t) => {
    const address = shmAddress(t);
    SpscRing.create(address, { capacity: 16384 }).close();
    const stream = [String(COUNT), '20261202', String(MAX_LENGTH)];
    const [producer, consumer] =
      direction === 'Python → Node'
        ? [pyPeer(t, ['spsc-produce', address, ...stream]), startNodePeer(t, 'spsc-consume', address, stream)]
        : [startNodePeer(t, 'spsc-produce', address, stream), pyPeer(t, ['spsc-consume', address, ...stream])];
    const [p, c] = await Promise.all([summary(producer, 'producer'), summary(consumer, 'consumer')]);
    t.like(p, { written: COUNT, exit: 0 });
    t.like(c, { received: COUNT, error: null, exit: 0 });
  });

  pyTest(`MPMC ${direction}: ${MPMC_COUNT.toLocaleString('en')} seeded messages of 8..${MAX_LENGTH} bytes, in order, byte by byte`, async (t) => {
    const address = shmAddress(t);
    MpmcRing.create(address, { slots: 64, slotSize: MAX_LENGTH + 12 }).close();
    const [producer, consumer] =
      direction === 'Python → Node'
        ? [pyPeer(t, ['mpmc-produce', address, '1', String(MPMC_COUNT), '12', String(MAX_LENGTH)]), startNodePeer(t, 'mpmc-consume', address, [String(MAX_LENGTH), `1:${MPMC_COUNT}:12`])]
        : [startNodePeer(t, 'mpmc-produce', address, ['1', String(MPMC_COUNT), '12', String(MAX_LENGTH)]), pyPeer(t, ['mpmc-consume', address, String(MAX_LENGTH), `1:${MPMC_COUNT}:12`])];
    const [p, c] = await Promise.all([summary(producer, 'producer'), summary(consumer, 'consumer')]);
    t.like(p, { written: MPMC_COUNT, exit: 0 });
    t.like(c, { received: MPMC_COUNT, error: null, exit: 0 });
  });
}

pyTest(`MPMC: a Python and a Node producer share one ring (${(MPMC_COUNT / 2).toLocaleString('en')} messages each), a Node consumer gets each one's in order`, async (t) => {
  const address = shmAddress(t);
  MpmcRing.create(address, { slots: 64, slotSize: MAX_LENGTH + 12 }).close();
  const half = String(MPMC_COUNT / 2);
  const consumer = startNodePeer(t, 'mpmc-consume', address, [String(MAX_LENGTH), `1:${half}:31`, `2:${half}:32`]);
  const fromPython = pyPeer(t, ['mpmc-produce', address, '1', half, '31', String(MAX_LENGTH)]);
  const fromNode = startNodePeer(t, 'mpmc-produce', address, ['2', half, '32', String(MAX_LENGTH)]);
  const [c, pp, pn] = await Promise.all([summary(consumer, 'consumer'), summary(fromPython, 'Python producer'), summary(fromNode, 'Node producer')]);
  t.like(pp, { written: MPMC_COUNT / 2, exit: 0 });
  t.like(pn, { written: MPMC_COUNT / 2, exit: 0 });
  t.like(c, { received: MPMC_COUNT, error: null, exit: 0 });
});

pyTest('bad input: the Python client refuses or detects exactly what TypeScript does, on the named bad headers and records and the ring fuzz corruption cases', (t) => {
  const named = [...badHeaders(), ...badRecords()];
  t.deepEqual(unexpected(named), [], 'the TypeScript rings refuse or detect each named case as expected');
  const cases = [...named, ...corruptedRings(KIND_SPSC, 2000), ...corruptedRings(KIND_MPMC, 2000), ...garbage(200)];
  const letters = execFileSync('python3', [CHECK], { input: encodeCases(cases), encoding: 'utf8', maxBuffer: 1 << 24, timeout: 120_000 }).trim();
  t.deepEqual(disagreements(cases, letters), []);
  t.false(/[XE]/.test(letters), 'a message longer than the ring allows, or an error of another kind');
  for (const outcome of ['R', 'D', 'U']) t.true(letters.includes(outcome), `some cases end in ${outcome}`);
});
