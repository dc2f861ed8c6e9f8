// One side of a message-queue baseline: POSIX (mq_send/mq_receive) or System V
// (msgsnd/msgrcv), blocking calls, one message of SIZE bytes per call.
//   queue-peer sender|receiver posix|sysv NAME|KEY SIZE COUNT REPS    (control block at fd:3)
import { posixQueue, sysvQueue } from '#queues';
import { Segment } from 'shmring';
import { Control } from '../lib/control.js';

const [role, kind, name, sizeText, countText, repsText] = process.argv.slice(2);
const size = Number(sizeText);
const count = Number(countText);
const reps = Number(repsText);
const seg = Segment.open('fd:3');
const control = new Control(seg.buffer, seg.size);
const queue = kind === 'posix' ? posixQueue.open(name!) : sysvQueue.open(Number(name));
const send = kind === 'posix' ? posixQueue.send : sysvQueue.send;
const receive = kind === 'posix' ? posixQueue.receive : sysvQueue.receive;

if (role === 'sender') {
  const message = new Uint8Array(size).fill(7);
  for (let rep = 0; rep < reps; rep++) {
    control.begin(rep, 1);
    for (let i = 0; i < count; i++) send(queue, message);
    control.waitDone(rep);
  }
} else {
  const into = new Uint8Array(8192);
  for (let rep = 0; rep < reps; rep++) {
    control.ready(rep);
    for (let i = 0; i < count; i++) receive(queue, into);
    control.received(rep, count, count);
  }
}
if (kind === 'posix') posixQueue.close(queue);
seg.close();
