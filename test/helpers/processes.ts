// Real child processes for cross-process tests: each runs a TypeScript fixture under
// tsx, is killed (with whatever it started) if it outlives its watchdog, and at teardown.
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const live = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of live) killGroup(child);
});

/**
 * Kills a fixture and every process it started: each fixture leads a process group of its own,
 * so one that a watchdog ends cannot leave a grandchild behind that holds its pipes open (its
 * 'close' would never come).
 */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL'); // the group is gone (or it never started)
  }
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdio?: StdioOptions;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Run the command through this prefix, e.g. ['setpriv', '--reuid=65534', ...]. */
  prefix?: string[];
}

/** Starts a fixture (test/fixtures/NAME.ts) and returns the process; see `finished`. */
export function startFixture(t: ExecutionContext, name: string, args: string[], options: RunOptions = {}): ChildProcess {
  const command = [...(options.prefix ?? []), process.execPath, '--import=tsx', join(FIXTURES, `${name}.ts`), ...args];
  const child = spawn(command[0]!, command.slice(1), {
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    detached: true,
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  const timer = setTimeout(() => killGroup(child), options.timeoutMs ?? 30_000);
  child.on('exit', () => clearTimeout(timer));
  t.teardown(() => {
    clearTimeout(timer);
    killGroup(child);
  });
  return child;
}

/** Resolves when the child has exited, with everything it printed. */
export function finished(child: ChildProcess): Promise<ChildResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export async function runFixture(t: ExecutionContext, name: string, args: string[], options: RunOptions = {}): Promise<ChildResult> {
  return finished(startFixture(t, name, args, options));
}

/** Resolves with the first line a child prints that matches `pattern`. */
export function lineFrom(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (d: Buffer | string) => {
      buffered += d.toString();
      for (const line of buffered.split('\n')) {
        if (pattern.test(line)) {
          child.stdout?.off('data', onData);
          resolve(line);
          return;
        }
      }
    };
    child.stdout?.on('data', onData);
    // 'close', not 'exit': the last lines can arrive after 'exit'.
    child.on('close', (code) => reject(new Error(`child exited (${code}) before printing ${pattern}`)));
  });
}
