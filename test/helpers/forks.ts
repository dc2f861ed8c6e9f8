// Running the fork tests against both implementations: Node's child_process.fork and
// shmring's fork(), on the same child program (test/fixtures/fork-child.cjs). Every child is
// killed at teardown; every wait has a deadline.
import * as childProcess from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { fork as shmFork } from '../../src/index.js';
import { FIXTURES } from './processes.js';

export const CHILD = join(FIXTURES, 'fork-child.cjs');
export type Impl = 'node' | 'shmring';
export const IMPLS: Impl[] = ['node', 'shmring'];

export interface Forked {
  child: ChildProcess;
  /** 'disconnect', 'exit <code> <signal>', 'close', 'error <code>' and 'message', in order. */
  events: string[];
  messages: unknown[];
  stdout: () => string;
  /** On 'exit'. */
  exited: Promise<void>;
  /** 'exit' and the end of stdout (which may come after 'exit'), then 300 ms for a 'close'
   * (Node emits none after a disconnect()). Read stdout() only after this. */
  settled: Promise<void>;
}

export function forkWith(t: ExecutionContext, impl: Impl, args: string[], options: childProcess.ForkOptions & Record<string, unknown> = {}): Forked {
  const make = impl === 'node' ? childProcess.fork : shmFork;
  const child = make(CHILD, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], ...options } as never);
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const events: string[] = [];
  const messages: unknown[] = [];
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.on('message', (m) => {
    events.push('message');
    messages.push(m);
  });
  child.on('disconnect', () => events.push('disconnect'));
  child.on('error', (e: NodeJS.ErrnoException) => events.push(`error ${e.code}`));
  child.on('close', () => events.push('close'));
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      events.push(`exit ${code} ${signal}`);
      resolve();
    });
  });
  const outputEnded = new Promise<void>((resolve) => (child.stdout ? child.stdout.on('close', () => resolve()) : resolve()));
  const settled = Promise.all([exited, outputEnded]).then(() => new Promise<void>((resolve) => setTimeout(resolve, 300)));
  return { child, events, messages, stdout: () => out, exited, settled };
}

/** Resolves when `p` does, or fails the test after `ms` (the children are killed at teardown). */
export async function within<T>(t: ExecutionContext, p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The next `count` messages of a forked child. */
export function nextMessages(f: Forked, count: number): Promise<unknown[]> {
  const start = f.messages.length;
  return new Promise((resolve) => {
    const check = (): void => {
      if (f.messages.length - start < count) return;
      f.child.off('message', check);
      resolve(f.messages.slice(start, start + count));
    };
    f.child.on('message', check);
    check();
  });
}
