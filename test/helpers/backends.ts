// The places a ring can live, for conformance suites run once per backend: an in-process
// SharedArrayBuffer and every segment kind, fd:N included. `reopen` maps a segment again:
// the conformance suite's consumer reads through that second mapping.
import type { ExecutionContext } from 'ava';
import { Segment } from '../../src/index.js';
import { fileAddress, ftokAddress, shmAddress, sysvAddress } from './resources.js';

export interface Backend {
  name: string;
  /** A fresh place of `size` bytes and a way to open it again (a second handle). */
  make(t: ExecutionContext, size: number): { target: Segment | SharedArrayBuffer; reopen: () => Segment | SharedArrayBuffer };
}

function segmentBackend(name: string, address: (t: ExecutionContext) => string): Backend {
  return {
    name,
    make(t, size) {
      const a = address(t);
      const seg = Segment.create(a, { size });
      t.teardown(() => seg.close());
      return {
        target: seg,
        reopen: () => {
          const again = Segment.open(a);
          t.teardown(() => again.close());
          return again;
        },
      };
    },
  };
}

export const BACKENDS: Backend[] = [
  {
    name: 'SharedArrayBuffer',
    make(_t, size) {
      const sab = new SharedArrayBuffer(size);
      return { target: sab, reopen: () => sab };
    },
  },
  segmentBackend('shm', shmAddress),
  segmentBackend('file', fileAddress),
  segmentBackend('sysv', sysvAddress),
  segmentBackend('sysv ftok', ftokAddress),
  {
    // An inherited descriptor as a child would open it: fd:N of a memfd, each open a mapping
    // of its own (a dup of the descriptor), so the second handle reads through other pages
    // of this process's address space than the first.
    name: 'fd:N',
    make(t, size) {
      const memfd = Segment.anonymous(size);
      t.teardown(() => memfd.close());
      const open = () => {
        const seg = Segment.open(`fd:${memfd.fd}`);
        t.teardown(() => seg.close());
        return seg;
      };
      return { target: open(), reopen: open };
    },
  },
  {
    name: 'anonymous',
    make(t, size) {
      const seg = Segment.anonymous(size);
      t.teardown(() => seg.close());
      return { target: seg, reopen: () => seg };
    },
  },
];
