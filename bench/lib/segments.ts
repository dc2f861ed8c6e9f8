// Shared memory for the shmring competitors of the benchmark: POSIX shm segments in
// /dev/shm (what users of the library get by default), removed when the run ends, and on
// Ctrl-C (the harness ends then with process.exit, see spawn.ts).
import { Segment } from 'shmring';

let counter = 0;
const live = new Set<string>();

process.on('exit', () => {
  for (const address of live) {
    try {
      Segment.unlink(address);
    } catch {
      // already removed
    }
  }
});

/** Removes `address` when the harness exits, unless `forget()` is called first (it was removed). */
export function removeOnExit(address: string): () => void {
  live.add(address);
  return () => live.delete(address);
}

/** Creates a fresh `shm:` segment of `size` bytes; `release()` unmaps and removes it. */
export function benchSegment(size: number): { segment: Segment; address: string; release(): void } {
  const address = `shm:shmring-bench-${process.pid}-${counter++}`;
  const segment = Segment.create(address, { size });
  live.add(address);
  return {
    segment,
    address,
    release() {
      segment.close();
      try {
        Segment.unlink(address);
      } catch {
        // already removed
      }
      live.delete(address);
    },
  };
}
