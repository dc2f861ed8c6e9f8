// One lock across test files for the tests that leave abandoned (stale) rings about or run
// `shmring rm --stale` as root: run at the same time in two files, rm --stale removed the
// other file's planted rings under it. Held until the test ends (released at teardown).
import { closeSync, openSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

const LOCK = join(tmpdir(), 'shmring-stale-tests.lock');
/** A lock older than this was left by a killed test run. */
const STALE_MS = 180_000;

export async function staleLock(t: ExecutionContext): Promise<void> {
  for (;;) {
    try {
      closeSync(openSync(LOCK, 'wx'));
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_MS) unlinkSync(LOCK);
      } catch {
        // released meanwhile
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  t.teardown(() => {
    try {
      unlinkSync(LOCK);
    } catch {
      // already gone
    }
  });
}
