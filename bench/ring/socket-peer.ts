// One side of the Unix-socket baseline: length-prefixed frames (u32 length + payload)
// over a Unix domain socket, with Node's own streams and backpressure.
//   socket-peer receiver PATH SIZE COUNT REPS
//   socket-peer sender PATH SIZE COUNT REPS
// Coordination and timing go through the control block of the segment at fd:3.
import { createConnection, createServer, type Socket } from 'node:net';
import { Segment } from 'shmring';
import { Control } from '../lib/control.js';

const [role, path, sizeText, countText, repsText] = process.argv.slice(2);
const size = Number(sizeText);
const count = Number(countText);
const reps = Number(repsText);
const seg = Segment.open('fd:3');
const control = new Control(seg.buffer, seg.size);
const sleep = () => new Promise((r) => setTimeout(r, 1));

async function waitFor(predicate: () => boolean): Promise<void> {
  while (!predicate()) await sleep();
}

if (role === 'receiver') {
  const server = createServer((socket: Socket) => {
    let rep = 0;
    let got = 0;
    let pending: Buffer | undefined;
    Atomics.add(control.i32, 0, 1); // ready for rep 0
    socket.on('data', (chunk: Buffer) => {
      const data = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      while (data.length - at >= 4) {
        const length = data.readUInt32LE(at);
        if (data.length - at - 4 < length) break;
        at += 4 + length;
        got++;
        if (got === count) {
          control.received(rep, count, count);
          got = 0;
          rep++;
          if (rep < reps) Atomics.add(control.i32, 0, 1);
        }
      }
      pending = at === data.length ? undefined : data.subarray(at);
    });
    socket.on('close', () => {
      server.close();
      seg.close();
    });
  });
  server.listen(path!, () => console.log('listening'));
} else {
  const socket = createConnection(path!);
  await new Promise((r) => socket.once('connect', r));
  const frame = Buffer.alloc(4 + size, 7);
  frame.writeUInt32LE(size, 0);
  for (let rep = 0; rep < reps; rep++) {
    await waitFor(() => Atomics.load(control.i32, 0) >= rep + 1);
    Atomics.store(control.i64, 2, process.hrtime.bigint());
    for (let i = 0; i < count; i++) {
      if (!socket.write(frame)) await new Promise((r) => socket.once('drain', r));
    }
    await waitFor(() => Atomics.load(control.i32, 3) >= rep + 1);
  }
  socket.end();
  seg.close();
}
