// Tools for exclusion tests across processes, shared by the tests and their fixtures.
//
// A start barrier makes the children's loops overlap (without it, 10,000 increments take a
// few ms and four children started one after another never run at the same time), and a
// gauge held open inside the critical section makes an overlap visible for certain instead
// of for a few nanoseconds: a child stays inside until it sees another one there or until
// `holdMs` passes. A control group runs the same harness without the lock (or without the
// wait) and must see the overlap; the real run must not.
import { futex } from '../../src/index.js';

/** Child side: counts itself in at `ready`, then sleeps until the word `go` becomes non-zero. */
export function arrive(i32: Int32Array, ready: number, go: number): void {
  Atomics.add(i32, ready, 1);
  while (Atomics.load(i32, go) === 0) futex.wait(i32, go, 0, 1000);
}

/** Test side: once `count` children wait at the barrier, lets them all go at once. */
export async function release(i32: Int32Array, ready: number, go: number, count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Atomics.load(i32, ready) < count) {
    if (Date.now() > deadline) throw new Error(`only ${Atomics.load(i32, ready)} of ${count} children reached the barrier`);
    await new Promise((r) => setTimeout(r, 5));
  }
  Atomics.store(i32, go, 1);
  futex.wake(i32, go);
}

/**
 * Inside a critical section that admits `limit` at a time: counts this process in at
 * `gauge`, records the highest count at `peak`, and stays until more than `limit` are
 * inside (a violation, seen by both) or `holdMs` passed; then counts itself out.
 */
export function occupy(i32: Int32Array, gauge: number, peak: number, limit: number, holdMs: number): void {
  const now = Atomics.add(i32, gauge, 1) + 1;
  raise(i32, peak, now);
  const until = Date.now() + holdMs;
  while (Date.now() < until) {
    const inside = Atomics.load(i32, gauge);
    raise(i32, peak, inside);
    if (inside > limit) break;
  }
  Atomics.sub(i32, gauge, 1);
}

function raise(i32: Int32Array, peak: number, value: number): void {
  for (let seen = Atomics.load(i32, peak); value > seen; seen = Atomics.load(i32, peak)) {
    if (Atomics.compareExchange(i32, peak, seen, value) === seen) break;
  }
}
