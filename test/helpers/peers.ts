// Peers in other languages for the interop tests: a command run as a child process with a
// watchdog, killed at teardown if it is still alive; its exit and what it printed. And the
// Node side of the same streams (test/fixtures/spsc-*.ts, interop-mpmc.ts) started the same way.
import { type ChildProcess, spawn } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { finished, startFixture, type ChildResult } from './processes.js';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `command` (argv); killed after timeoutMs or at teardown. */
export function startPeer(t: ExecutionContext, command: readonly string[], timeoutMs = 60_000): ChildProcess {
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.on('exit', () => {
    live.delete(child);
    clearTimeout(timer);
  });
  t.teardown(() => {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** What a peer printed as its last line of JSON, with its exit; throws with everything it printed otherwise. */
export async function summary(child: ChildProcess, who: string): Promise<Record<string, unknown>> {
  const r: ChildResult = await finished(child);
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    const parsed = JSON.parse(last) as Record<string, unknown>;
    return { ...parsed, exit: r.code ?? r.signal };
  } catch {
    throw new Error(`${who} exited ${r.code ?? r.signal} without a summary: ${r.stdout}${r.stderr}`);
  }
}

/** A Node peer on the same streams: 'spsc-produce' | 'spsc-consume' | 'mpmc-produce' | 'mpmc-consume'. */
export function startNodePeer(t: ExecutionContext, mode: string, address: string, args: readonly string[]): ChildProcess {
  if (mode === 'spsc-produce') return startFixture(t, 'spsc-producer', [address, ...args, 'write'], { timeoutMs: 60_000 });
  if (mode === 'spsc-consume') return startFixture(t, 'spsc-consumer', [address, ...args, 'read'], { timeoutMs: 60_000 });
  return startFixture(t, 'interop-mpmc', [mode.slice(5), address, ...args], { timeoutMs: 60_000 });
}
