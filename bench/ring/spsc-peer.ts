// One side of a shmring SPSC throughput run over the segment at ADDRESS.
//   spsc-peer producer ADDRESS SIZE COUNT REPS copy|claim|batch|cork|task
//   spsc-peer consumer ADDRESS SIZE COUNT REPS copy|into|drain|task
// copy and claim publish each message before the call returns (the default); batch
// (tryWriteMany), cork (cork(), 64 tryWrite, uncork()) and task (opened with
// batching: 'task', a tryWrite loop) publish once per 4 KiB of records. A task consumer
// reads copies with tryRead, opened with batching: 'task' too: the pair is what
// 'copy per message' measured before writes published each message by default.
// Each repetition's loop is a function of its own, as an application's would be: V8
// optimizes a function for its next call, whereas a loop at the top level of a module only
// gets optimized code by on-stack replacement, which came two or three repetitions late.
import { Segment, SpscRing } from 'shmring';
import { Control } from '../lib/control.js';

const [role, address, sizeText, countText, repsText, mode] = process.argv.slice(2);
const size = Number(sizeText);
const count = Number(countText);
const reps = Number(repsText);
const seg = Segment.open(address!);
const control = new Control(seg.buffer, seg.size);
const ring = SpscRing.open(seg, { role: role as 'producer' | 'consumer', batching: mode === 'task' ? 'task' : 'none' });
const BATCH = 64;

const message = new Uint8Array(size).fill(7);
const batch = Array.from({ length: BATCH }, () => message);

function writeBatched(): void {
  for (let sent = 0; sent < count; ) {
    const n = ring.tryWriteMany(count - sent >= BATCH ? batch : batch.slice(0, count - sent));
    if (n === 0) ring.write(message);
    sent += n === 0 ? 1 : n;
  }
}

function writeClaimed(): void {
  for (let i = 0; i < count; i++) {
    const claim = ring.tryClaim(size) ?? ring.claim(size);
    claim.bytes[0] = i & 0xff; // the application produces its data in place
    claim.commit();
  }
}

function writeCorked(): void {
  for (let sent = 0; sent < count; ) {
    const n = Math.min(BATCH, count - sent);
    ring.cork();
    for (let i = 0; i < n; i++) if (!ring.tryWrite(message)) ring.write(message);
    ring.uncork();
    sent += n;
  }
}

function writeCopies(): void {
  for (let i = 0; i < count; i++) if (!ring.tryWrite(message)) ring.write(message);
}

let sink = 0;
const touch = (view: Uint8Array) => {
  sink += view[0]!;
};
const target = new Uint8Array(size); // readInto's reused buffer

function readDrained(): void {
  for (let got = 0; got < count; ) {
    const n = ring.drain(touch, count - got);
    if (n > 0) got += n;
    else ring.waitReadable(); // blocks without taking (and so without copying) a message
  }
}

function readInto(): void {
  for (let got = 0; got < count; got++) {
    const length = ring.tryReadInto(target);
    sink += length >= 0 ? length : ring.readInto(target);
  }
}

function readCopies(): void {
  for (let got = 0; got < count; got++) {
    const m = ring.tryRead() ?? ring.read();
    sink += m.length;
  }
}

if (role === 'producer') {
  const write = mode === 'batch' ? writeBatched : mode === 'claim' ? writeClaimed : mode === 'cork' ? writeCorked : writeCopies;
  for (let rep = 0; rep < reps; rep++) {
    control.begin(rep, 1);
    write();
    ring.flush(); // the wait below is not shmring's: publish the tail of the burst first
    control.waitDone(rep);
  }
} else {
  const read = mode === 'drain' ? readDrained : mode === 'into' ? readInto : readCopies;
  for (let rep = 0; rep < reps; rep++) {
    control.ready(rep);
    read();
    ring.flush();
    control.received(rep, count, count);
  }
  if (sink < 0) console.log(sink);
}
ring.close();
seg.close();
