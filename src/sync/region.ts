// A fixed-size structure at a byte offset inside a Segment (or a plain SharedArrayBuffer,
// for threads of one process): the checks every shared structure of src/sync/ needs.
import { rangeError, typeError } from '../errors.js';
import { Segment } from '../segment/segment.js';

export type SharedTarget = Segment | SharedArrayBuffer;

export function bufferOf(target: unknown, name = 'segment'): SharedArrayBuffer {
  if (target instanceof Segment) return target.buffer;
  if (target instanceof SharedArrayBuffer) return target;
  throw typeError(name, target, 'a Segment or SharedArrayBuffer');
}

/** Checks that `size` bytes at byteOffset fit in the buffer with the given alignment. */
export function checkRegion(buffer: SharedArrayBuffer, byteOffset: unknown, size: number, align: number): number {
  if (typeof byteOffset !== 'number') throw typeError('byteOffset', byteOffset, 'a number');
  if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % align !== 0 || byteOffset + size > buffer.byteLength) {
    throw rangeError('byteOffset', byteOffset, `a multiple of ${align} from 0 to ${buffer.byteLength - size} (the structure takes ${size} bytes)`);
  }
  return byteOffset;
}
