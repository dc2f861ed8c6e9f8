// A peer that truncates a live ring's segment: the write or read call that meets the fault
// (or the first one after it) throws ERR_SHM_TRUNCATED, on every write and read path of
// both ring kinds, and so does every later call. A write that returned reached the shared
// pages; a message returned was copied from them, not from the zero pages the SIGBUS guard
// put in their place. Each victim is a real process (test/fixtures/truncated-call.ts) and
// the truncation is made by another (truncate(1)). The writes include records held by
// cork() before the cut (uncork() and flush() must not publish what the cut took) and a
// ring in a worker thread over the segment's buffer posted to it.
import test from 'ava';
import { runFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const CALLS = {
  SPSC: {
    writes: ['spsc-tryWrite', 'spsc-write', 'spsc-write-timeout', 'spsc-writeAsync', 'spsc-tryWriteMany', 'spsc-claim', 'spsc-uncork', 'spsc-flush', 'spsc-worker-tryWrite'],
    reads: ['spsc-tryRead', 'spsc-tryReadInto', 'spsc-read', 'spsc-read-timeout', 'spsc-readAsync', 'spsc-drain'],
  },
  MPMC: {
    writes: ['mpmc-tryWrite', 'mpmc-write', 'mpmc-writeAsync', 'mpmc-tryWriteMany', 'mpmc-worker-tryWrite'],
    reads: ['mpmc-tryRead', 'mpmc-read', 'mpmc-read-timeout', 'mpmc-readAsync', 'mpmc-drain'],
  },
};

for (const [kind, { writes, reads }] of Object.entries(CALLS)) {
  for (const [what, calls] of [
    ['write', writes],
    ['read', reads],
  ] as const) {
    test(`${kind}: the first ${what} call after a peer truncated the segment under it throws ERR_SHM_TRUNCATED, and so does the next`, async (t) => {
      const result = await runFixture(t, 'truncated-call', [shmAddress(t), ...calls], { timeoutMs: 60_000 });
      t.is(result.signal, null, `the victim died of ${result.signal}: ${result.stderr}`);
      t.is(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      t.deepEqual(Object.keys(report), calls);
      for (const call of calls) {
        t.deepEqual(report[call], { code: 'ERR_SHM_TRUNCATED', again: { code: 'ERR_SHM_TRUNCATED' } }, `${call}: ${JSON.stringify(report[call])}`);
      }
    });
  }
}
