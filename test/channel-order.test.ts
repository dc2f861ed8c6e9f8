// Node's order of events on a Channel and through fork(): a listener that throws holds back
// no message after its own (each error reaches 'uncaughtException', as from Node's IPC), and
// a reader that a busy peer keeps supplied still gives the event loop its turns, whether it
// listens, iterates or streams (counted by an interval timer in the reading process; the
// control is a reader that takes messages without yielding).
import test from 'ava';
import { finished, startFixture } from './helpers/processes.js';
import { forkWith, IMPLS, within } from './helpers/forks.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

test('a Channel listener that throws on each of ten messages gets all ten, and each error reaches uncaughtException', async (t) => {
  const result = await finished(startFixture(t, 'channel-order', ['throwing'], { timeoutMs: 20_000 }));
  t.is(result.code, 0, result.stderr);
  t.deepEqual(JSON.parse(result.stdout), { got: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], errors: 10 });
});

for (const impl of IMPLS) {
  test(`${impl}: a child whose 'message' listener throws on each of ten messages gets all ten`, async (t) => {
    // (Node's child without tsx: under its loader Node's own child loses the messages after a throw;
    // shmring's child needs it for the preload, which is TypeScript in this tree)
    const forked = forkWith(t, impl, ['throwing'], impl === 'node' ? { execArgv: [] } : {});
    const report = new Promise((resolve) => forked.child.once('message', resolve));
    for (let i = 0; i < 10; i++) forked.child.send(i);
    t.deepEqual(await within(t, report, 20_000, 'report'), { got: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], errors: 10 });
    forked.child.kill();
  });
}

const FLOOD_MS = 1500;

async function turns(t: import('ava').ExecutionContext, kind: string): Promise<{ messages: number; ticks: number }> {
  const result = await finished(startFixture(t, 'channel-order', ['starve', kind, String(FLOOD_MS), shmAddress(t)], { timeoutMs: 60_000 }));
  t.is(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as { messages: number; ticks: number };
}

// A 5 ms interval over a 1.5 s flood could fire about 300 times; a reader that never yields
// lets it fire once or twice (the control below), a budgeted one about 200 times here. The
// bound asks for one turn per 50 ms on average, far from both.
const MIN_TICKS = FLOOD_MS / 50;

for (const kind of ['listener', 'iterator', 'stream']) {
  test(`a ${kind} reader of a channel its peer keeps full gives the event loop its turns`, async (t) => {
    t.timeout(90_000);
    const { messages, ticks } = await turns(t, kind);
    t.true(messages > 1000, `it read (${messages} messages)`);
    t.true(ticks >= MIN_TICKS, `the interval fired ${ticks} times while it read`);
  });
}

test('control: a reader that takes messages without yielding starves the interval (the measure sees it)', async (t) => {
  t.timeout(90_000);
  const { messages, ticks } = await turns(t, 'greedy');
  t.true(messages > 1000, `it read (${messages} messages)`);
  t.true(ticks < MIN_TICKS, `the interval fired ${ticks} times`);
});
