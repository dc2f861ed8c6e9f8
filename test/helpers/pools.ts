// ProcessPools for tests: each made through pool() is destroyed at teardown (even when the
// test fails), and helpers that wait do so under a timeout.
import { readdirSync, readFileSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { ProcessPool, type ProcessPoolOptions } from '../../src/index.js';

export const POOL_FIXTURES = new URL('../fixtures/pool/', import.meta.url);

export function fixture(name: string): URL {
  return new URL(name, POOL_FIXTURES);
}

/** A pool over test/fixtures/pool/<file>, destroyed at teardown. */
export function pool<T = any, R = any>(t: ExecutionContext, file: string, options: ProcessPoolOptions = {}): ProcessPool<T, R> {
  const p = new ProcessPool<T, R>({ filename: fixture(file), ...options });
  t.teardown(() => p.destroy());
  return p;
}

/** `promise`, or a rejection naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Whether process `pid` exists and is not a zombie (an orphan waits for its reaper, which may be slow in a container). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Resolves once `pid` is gone; rejects after `ms`. */
export async function gone(pid: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) throw new Error(`process ${pid} still alive after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves once `check()` holds; rejects naming `what` after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what}: not after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function shmEntries(): Set<string> {
  return new Set(readdirSync('/dev/shm'));
}

/**
 * Entries in /dev/shm that were not there before, but for those of the test files and
 * benchmarks that run beside this one: the examples' and samples' own names (no shmring-
 * prefix) and shmring-test-PID-, shmring-bench-PID- or shmring-soak-PID- of another process.
 */
export function newShmEntries(before: Set<string>): string[] {
  return [...shmEntries()].filter((name) => {
    if (before.has(name) || !name.startsWith('shmring-')) return false;
    const owner = /^shmring-(?:test|bench|soak)-(\d+)-/.exec(name)?.[1];
    return owner === undefined || owner === String(process.pid);
  });
}
