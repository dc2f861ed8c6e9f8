// The one place the transport reaches into the ring layer: the two SPSC rings of a channel,
// each in its own byte range of the channel's segment.
import type { Segment } from '../segment/segment.js';
import { SpscRing } from '../ring/spsc/ring.js';

export type { SpscRing };
export type { Claim } from '../ring/spsc/claim.js';
/** The magic of a bare ring: a channel's connect names it in its error. */
export { RING_MAGIC } from '../ring/layout/header.js';

/** Bytes a ring of `capacity` data bytes takes in the segment. */
export function ringBytes(capacity: number): number {
  return SpscRing.requiredBytes(capacity);
}

/** Formats a ring at `byteOffset` and takes `role` in it. */
export function formatRing(segment: Segment, byteOffset: number, capacity: number, role: 'producer' | 'consumer'): SpscRing {
  return SpscRing.create(segment, { capacity, byteOffset, byteLength: ringBytes(capacity), role });
}

/** Opens the ring at `byteOffset` (validated by the ring layer) and takes `role` in it. */
export function openRing(segment: Segment, byteOffset: number, capacity: number, role: 'producer' | 'consumer'): SpscRing {
  return SpscRing.open(segment, { byteOffset, byteLength: ringBytes(capacity), role });
}
