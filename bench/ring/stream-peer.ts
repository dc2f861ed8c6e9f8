// One side of a byte-stream baseline: length-prefixed frames (u32 length + payload) with
// Node's own streams and backpressure, over a Unix domain socket, TCP on loopback, or a
// pipe (the sender's stdout is the receiver's stdin).
//   stream-peer receiver unix|tcp|pipe SIZE COUNT REPS [PATH]
//   stream-peer sender   unix|tcp|pipe SIZE COUNT REPS [PATH]
// Coordination and timing go through the control block of the segment at fd:3; the
// receiver announces that it listens (and its TCP port) in control word 8.
import { createConnection, createServer, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { Segment } from 'shmring';
import { Control } from '../lib/control.js';

const [role, transport, sizeText, countText, repsText, path] = process.argv.slice(2);
const size = Number(sizeText);
const count = Number(countText);
const reps = Number(repsText);
const seg = Segment.open('fd:3');
const control = new Control(seg.buffer, seg.size);
const LISTENING = 8;
const sleep = () => new Promise((r) => setTimeout(r, 1));

async function waitFor(predicate: () => boolean): Promise<void> {
  while (!predicate()) await sleep();
}

function receive(input: Readable, done: () => void): void {
  let rep = 0;
  let got = 0;
  let pending: Buffer | undefined;
  Atomics.add(control.i32, 0, 1); // ready for rep 0
  input.on('data', (chunk: Buffer) => {
    const data = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (data.length - at >= 4) {
      const length = data.readUInt32LE(at);
      if (data.length - at - 4 < length) break;
      at += 4 + length;
      if (++got === count) {
        control.received(rep, count, count);
        got = 0;
        if (++rep < reps) Atomics.add(control.i32, 0, 1);
      }
    }
    pending = at === data.length ? undefined : data.subarray(at);
  });
  input.on('end', done);
  input.on('close', done);
}

async function send(output: Writable): Promise<void> {
  const frame = Buffer.alloc(4 + size, 7);
  frame.writeUInt32LE(size, 0);
  for (let rep = 0; rep < reps; rep++) {
    await waitFor(() => Atomics.load(control.i32, 0) >= rep + 1);
    Atomics.store(control.i64, 2, process.hrtime.bigint());
    for (let i = 0; i < count; i++) {
      if (!output.write(frame)) await new Promise((r) => output.once('drain', r));
    }
    await waitFor(() => Atomics.load(control.i32, 3) >= rep + 1);
  }
}

if (role === 'receiver') {
  if (transport === 'pipe') {
    receive(process.stdin, () => seg.close());
  } else {
    let closed = false;
    const server = createServer((socket: Socket) =>
      receive(socket, () => {
        if (closed) return;
        closed = true;
        server.close();
        seg.close();
      }),
    );
    const ready = () => {
      const address = server.address();
      Atomics.store(control.i32, LISTENING, typeof address === 'object' && address !== null ? address.port : 1);
    };
    if (transport === 'tcp') server.listen(0, '127.0.0.1', ready);
    else server.listen(path!, ready);
  }
} else {
  let output: Writable;
  if (transport === 'pipe') {
    output = process.stdout;
  } else {
    await waitFor(() => Atomics.load(control.i32, LISTENING) !== 0);
    const socket = transport === 'tcp' ? createConnection(Atomics.load(control.i32, LISTENING), '127.0.0.1') : createConnection(path!);
    await new Promise((r) => socket.once('connect', r));
    output = socket;
  }
  await send(output);
  output.end();
  seg.close();
}
