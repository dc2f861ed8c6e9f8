// A peer that truncates a segment's object under our mapping must not kill us with SIGBUS.
// The memfds shmring makes are sealed against it; for shm:, file: and fd: mappings the
// addon's SIGBUS guard swaps in zero pages and the next operation reports
// ERR_SHM_TRUNCATED. Each victim runs as its own process (test/fixtures/sigbus-victim.ts)
// while a real child process truncates the object, so a SIGBUS that is not survived shows
// as that process's death, not the test runner's.
import { spawnSync } from 'node:child_process';
import { fstatSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { Segment, SpscRing } from '../src/index.js';
import { runFixture } from './helpers/processes.js';
import { fileAddress, shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

async function victim(t: ExecutionContext, scenario: string, address: string): Promise<Record<string, unknown>> {
  const result = await runFixture(t, 'sigbus-victim', [scenario, address], { timeoutMs: 60_000 });
  t.is(result.signal, null, `the victim died of ${result.signal}: ${result.stderr}`);
  t.is(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

test('memfd: Segment.anonymous() is sealed, so a child handed its fd cannot shrink (or grow) it', async (t) => {
  const seg = Segment.anonymous(65536);
  t.teardown(() => seg.close());
  const bytes = new Uint8Array(seg.buffer);
  bytes[65535] = 42;
  const stdio = ['ignore', 'pipe', 'pipe', seg.fd!] as const;
  const shrink = spawnSync('sh', ['-c', 'truncate -s 0 /proc/self/fd/3'], { stdio: [...stdio], encoding: 'utf8', timeout: 20_000 });
  t.not(shrink.status, 0);
  t.regex(shrink.stderr, /Operation not permitted/);
  const grow = spawnSync('sh', ['-c', 'truncate -s 1M /proc/self/fd/3'], { stdio: [...stdio], encoding: 'utf8', timeout: 20_000 });
  t.regex(grow.stderr, /Operation not permitted/);
  t.is(fstatSync(seg.fd!).size, 65536);
  t.is(bytes[65535], 42); // still mapped, no SIGBUS
  t.false(seg.truncated);
  // A ring over it keeps working after the attempts.
  const producer = SpscRing.create(seg, { capacity: 4096 });
  const consumer = SpscRing.open(seg);
  t.true(producer.tryWrite(new Uint8Array([1, 2, 3])));
  t.deepEqual(consumer.tryRead(), new Uint8Array([1, 2, 3]));
  producer.close();
  consumer.close();
});

for (const [kind, make] of [
  ['shm', shmAddress],
  ['file', fileAddress],
] as const) {
  test(`${kind}: a producer whose object is truncated under it survives and gets ERR_SHM_TRUNCATED`, async (t) => {
    const outcome = await victim(t, 'write', make(t));
    t.like(outcome, {
      writeCode: 'ERR_SHM_TRUNCATED',
      readCode: 'ERR_SHM_TRUNCATED',
      truncated: true,
      bufferCode: 'ERR_SHM_TRUNCATED',
      reopenCode: 'ERR_SHM_TRUNCATED',
      blockingCode: 'ERR_SHM_TRUNCATED',
    });
  });
}

for (const call of ['read', 'readAsync']) {
  test(`shm: a consumer parked in ${call}() while the object is truncated survives and gets ERR_SHM_TRUNCATED`, async (t) => {
    const outcome = await victim(t, call, shmAddress(t));
    t.like(outcome, { childCode: 0, readCode: 'ERR_SHM_TRUNCATED', againCode: 'ERR_SHM_TRUNCATED', truncated: true });
    t.true((outcome.blockedMs as number) >= 400, `${call}() returned after ${outcome.blockedMs} ms, before the truncation`);
  });
}

test('fd: an unsealed memfd handed to us and truncated by a child: we survive and get ERR_SHM_TRUNCATED', async (t) => {
  const outcome = await victim(t, 'memfd', 'fd:0');
  t.like(outcome, { writeCode: 'ERR_SHM_TRUNCATED', readCode: 'ERR_SHM_TRUNCATED', truncated: true });
});

test('shm: a plain load of a truncated page reads zero; the next futex wait says ERR_SHM_TRUNCATED', async (t) => {
  const outcome = await victim(t, 'wait', shmAddress(t));
  t.like(outcome, { value: 0, waitCode: 'ERR_SHM_TRUNCATED', truncated: true });
});

test('a SIGBUS that is not a fault in a segment keeps its default action', async (t) => {
  const result = await runFixture(t, 'sigbus-victim', ['kill', shmAddress(t)], { timeoutMs: 60_000 });
  t.is(result.signal, 'SIGBUS', result.stdout + result.stderr);
});
