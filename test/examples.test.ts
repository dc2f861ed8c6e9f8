// Every program in examples/ runs as a user would run it (`node examples/...`, importing the
// built package by its name; a TypeScript one through tsx, as `npx tsx` would) and ends with
// its "ok" line, so the examples never rot.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const EXAMPLES = ['two-process-queue.mjs', 'fork/parent.mjs', 'worker-channel.mjs', 'file-stream.mjs', 'named-channel.ts', 'work-queue.mjs'];

/** Kills the example and every process it started (its own process group). */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // the group is gone
  }
}

for (const example of EXAMPLES) {
  test(`examples/${example} runs and says ok`, async (t) => {
    const loader = example.endsWith('.ts') ? ['--import=tsx'] : [];
    // A process group of its own: an example that fails while a process it started lives on
    // (which holds our pipes open) is ended whole, at the watchdog or at teardown.
    const child = spawn(process.execPath, [...loader, join(ROOT, 'examples', example)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const timer = setTimeout(() => killGroup(child), 90_000);
    t.teardown(() => {
      clearTimeout(timer);
      killGroup(child);
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    t.is(code, 0, out);
    t.regex(out, /^ok: /m);
  });
}
