// One process of a shmring MPMC throughput run over the segment at ADDRESS.
//   mpmc-peer producer ADDRESS SIZE COUNT REPS PRODUCERS CONSUMERS   (COUNT per producer)
//   mpmc-peer consumer ADDRESS SIZE COUNT REPS PRODUCERS CONSUMERS
import { MpmcRing, Segment } from 'shmring';
import { Control } from '../lib/control.js';

const [role, address, sizeText, countText, repsText, producersText, consumersText] = process.argv.slice(2);
const size = Number(sizeText);
const count = Number(countText);
const reps = Number(repsText);
const producers = Number(producersText);
const consumers = Number(consumersText);
const total = count * producers;
const seg = Segment.open(address!);
const control = new Control(seg.buffer, seg.size);
const ring = MpmcRing.open(seg);

// Each repetition's loop is a function, optimized for its next call (see spsc-peer.ts).
const message = new Uint8Array(size).fill(7);

function produce(): void {
  for (let i = 0; i < count; i++) if (!ring.tryWrite(message)) ring.write(message);
}

function consume(rep: number): void {
  while (Atomics.load(control.i32, 3) <= rep) {
    let m = ring.tryRead();
    if (m === null) {
      try {
        m = ring.read({ timeout: 5 });
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_TIMEOUT') throw err;
        continue; // timed out: check whether the repetition is over
      }
    }
    if (m.length !== size) throw new Error('wrong size');
    control.received(rep, 1, total);
  }
}

if (role === 'producer') {
  for (let rep = 0; rep < reps; rep++) {
    control.begin(rep, consumers);
    produce();
    control.waitDone(rep);
  }
} else {
  for (let rep = 0; rep < reps; rep++) {
    control.ready(rep);
    consume(rep);
  }
}
ring.close();
seg.close();
