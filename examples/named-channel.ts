// A Channel between two unrelated processes that find each other by name, in TypeScript.
//   node examples/named-channel.ts serve    (a greeter: answers until Ctrl-C, then cleans up)
//   node examples/named-channel.ts ask Ada  (connects by the name, asks, prints, leaves)
//   node examples/named-channel.ts          (both: starts the greeter as its own process, asks, stops it with Ctrl-C's signal)
// Node 22.18+ runs TypeScript as it is; on Node 20, `npx tsx examples/named-channel.ts`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Channel } from 'shmring';

interface Question { name: string }
interface Answer { greeting: string; servedBy: number }

const ADDRESS = 'shm:example-greeter';

function serve(): void {
  // create() is exclusive: EEXIST if a greeter already runs (or one was SIGKILLed: `npx shmring rm --stale`).
  const channel = Channel.create<Question, Answer>(ADDRESS);
  channel.on('message', (question) => {
    const answer: Answer = { greeting: `hello, ${question.name}`, servedBy: process.pid };
    channel.postMessage(answer);
  });
  // One peer at a time: when it leaves, the segment goes with the channel; open the next one.
  channel.once('close', () => {
    if (!stopping) serve();
  });
  current = channel;
  console.log(`greeter: waiting on ${ADDRESS}`);
}

let current: Channel<Question, Answer> | undefined;
let stopping = false;
// Ctrl-C (and `kill`): close the channel, which removes its segment, and let the process end.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopping = true;
    current?.close();
    console.log('greeter: closed');
  });
}

async function ask(name: string): Promise<Answer> {
  const channel = Channel.connect<Answer, Question>(ADDRESS);
  channel.postMessage({ name });
  // A Channel is async-iterable: the first message is the answer.
  for await (const answer of channel) {
    channel.close();
    return answer;
  }
  throw new Error('the greeter left without answering');
}

/** Polls `check` every 10 ms for up to `ms`. */
async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 10));
  return check();
}

const [mode = 'both', name = 'Ada'] = process.argv.slice(2);
if (mode === 'serve') {
  serve();
} else if (mode === 'ask') {
  console.log((await ask(name)).greeting);
} else {
  const greeter = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'serve'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((resolve) => greeter.once('exit', resolve));
  try {
    // connect() needs the greeter's channel to exist (ENOENT before): wait for its name, or its death.
    const started = await waitFor(() => existsSync('/dev/shm/example-greeter') || greeter.exitCode !== null, 60_000);
    if (!started || greeter.exitCode !== null) throw new Error('the greeter did not start');
    const answer = await ask(name);
    console.log(`${answer.greeting} (from process ${answer.servedBy})`);
  } finally {
    greeter.kill('SIGINT'); // whatever happened above: the greeter closes its channel and exits
    await exited;
  }
  if (existsSync('/dev/shm/example-greeter')) throw new Error('the greeter left its segment behind');
  console.log('ok: a named channel between two processes, cleaned up on SIGINT');
}
