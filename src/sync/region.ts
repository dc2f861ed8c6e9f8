// A fixed-size structure at a byte offset inside a Segment (or a plain SharedArrayBuffer,
// for threads of one process): the checks every shared structure of src/sync/ needs, and
// whether the segment under it was closed.
import { closedError, rangeError, type ShmError, typeError } from '../errors.js';
import { onSegmentClose, Segment, segmentOf } from '../segment/segment.js';

/** Where a Mutex or Semaphore lives: a Segment, or a SharedArrayBuffer (one of a segment's, posted to a thread). */
export type SharedTarget = Segment | SharedArrayBuffer;

export function bufferOf(target: unknown, name = 'segment'): SharedArrayBuffer {
  if (target instanceof Segment) return target.buffer;
  if (target instanceof SharedArrayBuffer) return target;
  throw typeError(name, target, 'a Segment or SharedArrayBuffer');
}

/**
 * Checks that `size` bytes at byteOffset fit in the buffer with the given alignment
 * (`what` names the structure in the message). Structures view only these bytes, so the
 * buffer's own length need not be a multiple of anything.
 */
export function checkRegion(buffer: SharedArrayBuffer, byteOffset: unknown, size: number, align: number, what = 'the structure'): number {
  if (typeof byteOffset !== 'number') throw typeError('byteOffset', byteOffset, 'a number');
  const length = buffer.byteLength;
  if (length < size) {
    const holder = segmentOf(buffer) === undefined ? 'buffer.byteLength' : 'segment.size';
    throw rangeError(holder, length, `at least ${size}: ${what} takes ${size} bytes`);
  }
  const last = Math.floor((length - size) / align) * align;
  if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % align !== 0 || byteOffset + size > length) {
    throw rangeError('byteOffset', byteOffset, `a multiple of ${align} from 0 to ${last} (${what} takes ${size} bytes of ${length})`);
  }
  return byteOffset;
}

// Once its segment is closed, a structure's views read and write private zero pages (see
// Segment.close): a lock there would exclude nobody. Each segment's structures share one
// signal, aborted when it closes; checking it costs one property read.
const closings = new WeakMap<Segment, AbortController>();
/** The closing of a buffer no Segment made: never. */
const NEVER = new AbortController().signal;

/**
 * The signal aborted when the segment of `buffer` closes, for a structure (`what`:
 * 'mutex') being made there; ERR_CLOSED if it is closed already.
 */
export function closingOf(buffer: SharedArrayBuffer, what: string): AbortSignal {
  const segment = segmentOf(buffer);
  if (segment === undefined) return NEVER;
  if (segment.closed) throw segmentClosedError(what);
  let closing = closings.get(segment);
  if (closing === undefined) closings.set(segment, (closing = new AbortController()));
  return closing.signal;
}

/** What is closed, in ERR_CLOSED of a structure (`what`: 'mutex') whose segment closed. */
export function closedSegmentOf(what: string): string {
  return `the segment of this ${what}`;
}

/** ERR_CLOSED for a structure (`what`: 'mutex') whose segment was closed. */
export function segmentClosedError(what: string): ShmError {
  return closedError(closedSegmentOf(what));
}

onSegmentClose((segment) => {
  closings.get(segment)?.abort();
  closings.delete(segment);
});
