// Waiting for a Channel's events in tests, for either transport (shared memory or ZeroMQ):
// the next event of a kind, or the next `n` messages.
import type { EventEmitter } from 'node:events';

/** Anything that emits a Channel's 'message' events. */
interface MessageSource {
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** The first argument of the next `event` (a message by default). */
export function next(ch: object, event: 'message' | 'messageerror' | 'close' | 'drain' | 'connect' | 'error' = 'message'): Promise<unknown> {
  return new Promise((resolve) => (ch as EventEmitter).once(event, resolve));
}

/** The next `n` messages, in order. */
export function take(ch: MessageSource, n: number): Promise<unknown[]> {
  const got: unknown[] = [];
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (got.push(m) === n) {
        ch.off('message', on);
        resolve(got);
      }
    };
    ch.on('message', on);
  });
}
