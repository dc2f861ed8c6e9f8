// What the transport scenarios (channel.ts, zmq.ts) share about a competitor: its near end
// (a Link), the one-way measure every competitor is put through, and waiting for a peer
// process to end.
import type { ChildProcess } from 'node:child_process';
import { replyCount } from './payloads.js';

/** The near end of a competitor: send (false: wait for room()), messages, and shutdown. */
export interface Link {
  send(m: unknown): boolean;
  room(): Promise<void>;
  onMessage(handler: (m: unknown) => void): void;
  close(): Promise<void>;
}

/** How much a one-way measure may send: a count and a time, whichever ends first. */
export interface OneWayBudget {
  count: number;
  ms: number;
}

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

/** Sends `message` until the count or the time is used up, then the end marker; msgs/s. */
export async function oneWay(link: Link, message: unknown, end: unknown, budget: OneWayBudget): Promise<number> {
  const replies: Array<(m: unknown) => void> = [];
  link.onMessage((m) => replies.shift()?.(m));
  const run = async (count: number, ms: number) => {
    const reply = new Promise((resolve) => replies.push(resolve));
    const start = performance.now();
    let n = 0;
    while (n < count) {
      n++;
      if (!link.send(message)) await link.room();
      if ((n & 63) === 0 && performance.now() - start > ms) break;
    }
    if (!link.send(end)) await link.room();
    const got = replyCount(await reply);
    if (got !== n) throw new Error(`the sink counted ${got} of ${n} messages`);
    return n / ((performance.now() - start) / 1000);
  };
  await run(Math.ceil(budget.count / 10), budget.ms / 5); // warm-up
  return run(budget.count, budget.ms);
}
