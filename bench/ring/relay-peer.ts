// One side of the file relay: a file read in 1 MiB chunks, sent to another process, and
// written to a file there.
//   relay-peer sender   pipe|shm|stream ADDRESS SOURCE CHUNK   pipe: a 1 MiB file read stream piped to stdout
//   relay-peer receiver pipe|shm|stream ADDRESS TARGET SIZE    pipe: stdin piped to a file write stream
// pipe costs four copies (file → sender → kernel → receiver → file); shm two: the sender
// reads the file straight into a claim in the ring, the receiver writes the ring's view
// straight to the file; stream is what a Node program writes: pipeline() of file streams
// through a Channel's streams (ADDRESS-stream, made by the receiver). The ring is at ADDRESS,
// the control block at the end of it.
import { closeSync, createReadStream, createWriteStream, openSync, readSync, writeSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Channel, createReadStream as channelReader, createWriteStream as channelWriter, Segment, SpscRing } from 'shmring';
import { Control } from '../lib/control.js';

const [role, mode, address, path, numberText] = process.argv.slice(2);
const seg = Segment.open(address!);
const control = new Control(seg.buffer, seg.size);

if (role === 'sender') {
  const chunk = Number(numberText);
  const fd = openSync(path!, 'r');
  while (Atomics.load(control.i32, 0) < 1) Atomics.wait(control.i32, 15, 0, 0.05);
  Atomics.store(control.i64, 2, process.hrtime.bigint());
  if (mode === 'pipe') {
    await pipeline(createReadStream(path!, { fd, highWaterMark: chunk, autoClose: false }), process.stdout);
  } else if (mode === 'stream') {
    const channel = Channel.connect(`${address}-stream`, { codec: 'raw' });
    await pipeline(createReadStream(path!, { fd, highWaterMark: chunk, autoClose: false }), channelWriter(channel));
  } else {
    const ring = SpscRing.open(seg, { role: 'producer' });
    for (;;) {
      const claim = ring.claim(chunk); // waits while the ring is full: the receiver is writing
      const n = readSync(fd, claim.bytes, 0, chunk, null);
      if (n === 0) {
        claim.abort();
        break;
      }
      if (n !== chunk) throw new Error('the source file is a whole number of chunks');
      claim.commit();
    }
    ring.close();
  }
  closeSync(fd);
} else {
  const size = Number(numberText);
  const fd = openSync(path!, 'w');
  const channel = mode === 'stream' ? Channel.create(`${address}-stream`, { codec: 'raw', capacity: 16 << 20 }) : undefined;
  Atomics.add(control.i32, 0, 1);
  let written = 0;
  if (channel !== undefined) {
    await pipeline(channelReader(channel), createWriteStream(path!, { fd, highWaterMark: 1 << 20, autoClose: false }));
    written = size;
  } else if (mode === 'pipe') {
    await pipeline(process.stdin, createWriteStream(path!, { fd, highWaterMark: 1 << 20, autoClose: false }));
    written = size;
  } else {
    const ring = SpscRing.open(seg, { role: 'consumer' });
    const write = (view: Uint8Array) => {
      for (let at = 0; at < view.length; ) at += writeSync(fd, view, at, view.length - at);
      written += view.length;
    };
    while (written < size) {
      // nothing to write yet: a short sleep rather than read(), which would copy
      if (ring.drain(write) === 0) Atomics.wait(control.i32, 15, 0, 0.05);
    }
    ring.close();
  }
  closeSync(fd);
  control.f64[0] = Number(process.hrtime.bigint() - Atomics.load(control.i64, 2));
}
seg.close();
