// The child_process IPC baseline: a receiver process forks the sender, which sends COUNT
// messages per repetition with process.send (json: a string of SIZE characters; advanced:
// a Uint8Array of SIZE bytes), waiting for the channel every 256 messages.
//   ipc-peer receiver json|advanced SIZE COUNT REPS      (control block at fd:3)
//   ipc-peer sender   json|advanced SIZE COUNT REPS      (control block at fd:4)
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Segment } from 'shmring';
import { Control } from '../lib/control.js';

const [role, serialization, sizeText, countText, repsText] = process.argv.slice(2);
const size = Number(sizeText);
const count = Number(countText);
const reps = Number(repsText);
const seg = Segment.open(role === 'receiver' ? 'fd:3' : 'fd:4');
const control = new Control(seg.buffer, seg.size);
const sleep = () => new Promise((r) => setTimeout(r, 1));

if (role === 'receiver') {
  const sender = fork(fileURLToPath(import.meta.url), ['sender', serialization!, String(size), String(count), String(reps)], {
    serialization: serialization as 'json' | 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', 3],
  });
  let rep = 0;
  let got = 0;
  Atomics.add(control.i32, 0, 1);
  sender.on('message', () => {
    if (++got === count) {
      control.received(rep, count, count);
      got = 0;
      if (++rep < reps) Atomics.add(control.i32, 0, 1);
    }
  });
  sender.on('exit', () => seg.close());
} else {
  const message = serialization === 'json' ? 'x'.repeat(size) : new Uint8Array(size).fill(7);
  const send = process.send!.bind(process);
  for (let rep = 0; rep < reps; rep++) {
    while (Atomics.load(control.i32, 0) < rep + 1) await sleep();
    Atomics.store(control.i64, 2, process.hrtime.bigint());
    for (let i = 0; i < count; i++) {
      if ((i & 255) === 255) await new Promise((r) => send(message, undefined, {}, r));
      else send(message);
    }
    while (Atomics.load(control.i32, 3) < rep + 1) await sleep();
  }
  seg.close();
  process.disconnect();
}
