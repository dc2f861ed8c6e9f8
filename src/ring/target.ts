// Where a ring lives: its target (a Segment, an address, or a plain SharedArrayBuffer),
// the region of it the ring may use (byteOffset, byteLength), the segment a ring creates
// at an address (over a stale one only when asked to), and the rings of each Segment,
// closed with it. Owns no ring bytes; never reads or writes inside the region.
import { rangeError, ShmError, typeError } from '../errors.js';
import { parseAddress } from '../segment/address.js';
import { peekSysv, usersOf } from '../segment/discovery.js';
import { checkTrusted } from '../segment/trust.js';
import { onSegmentClose, plainAlias, Segment, segmentOf } from '../segment/segment.js';
import { describeRing, isStaleRing, PROBE_BYTES } from './inspect.js';
import { LINE } from './layout/header.js';

/**
 * Where a ring lives: a Segment, a SharedArrayBuffer, or an address whose segment the ring opens
 * (and closes with itself).
 */
export type RingTarget = Segment | SharedArrayBuffer | string;

export interface Located {
  buffer: SharedArrayBuffer;
  address: string;
  /** A segment the ring opened itself from an address, closed with the ring. */
  owned: Segment | undefined;
  /** A plain mapping of the same bytes for payload copies, where the target is a Segment. */
  plain: ArrayBuffer | undefined;
  /** The Segment the ring lives in, given or owned (none for a bare SharedArrayBuffer). */
  segment: Segment | undefined;
  /** Where the ring's region starts in `buffer`: every offset of the ring is relative to it. */
  byteOffset: number;
  /** Bytes of the region: the ring never reads or writes past byteOffset + byteLength. */
  byteLength: number;
}

/** A ring region starts on a 128-byte line, so its header lines stay one writer's each. */
export const REGION_ALIGN = LINE;

/** The region options of create() and open(): where in its target a ring lives. */
export interface RegionOptions {
  /** Where the ring starts in its target, a multiple of 128; default 0. */
  byteOffset?: number;
  /** Bytes of the target the ring may use from byteOffset; default: the rest of the target. */
  byteLength?: number;
}

export interface Region {
  byteOffset: number;
  byteLength: number | undefined;
}

/** Checks the region options (their types and alignment; their fit once the target is known). */
export function checkRegionOptions(o: RegionOptions): Region {
  const { byteOffset = 0, byteLength } = o;
  if (typeof byteOffset !== 'number') throw typeError('byteOffset', byteOffset, 'a number');
  if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % REGION_ALIGN !== 0) {
    throw rangeError('byteOffset', byteOffset, `an integer >= 0 and a multiple of ${REGION_ALIGN}`);
  }
  if (byteLength !== undefined) {
    if (typeof byteLength !== 'number') throw typeError('byteLength', byteLength, 'a number');
    if (!Number.isInteger(byteLength) || byteLength < 0) throw rangeError('byteLength', byteLength, 'an integer >= 0');
  }
  return { byteOffset, byteLength };
}

/**
 * Finds the target's buffer and the ring's region in it. `create` (for an address) makes
 * the segment, sized to end where the region does. Nothing is left open on a throw.
 */
export function locate(target: unknown, region: Region, create: { size: number; replaceStale?: boolean } | undefined): Located {
  let found: Omit<Located, 'byteOffset' | 'byteLength'>;
  if (typeof target === 'string') {
    const size = create === undefined ? 0 : region.byteOffset + Math.max(create.size, region.byteLength ?? 0);
    const segment = create === undefined ? Segment.open(target) : createSegment(target, size, create.replaceStale === true);
    found = { buffer: segment.buffer, address: segment.address, owned: segment, plain: plainAlias(segment), segment };
  } else if (target instanceof Segment) {
    found = { buffer: target.buffer, address: target.address, owned: undefined, plain: plainAlias(target), segment: target };
  } else if (target instanceof SharedArrayBuffer) {
    // A segment's own buffer passed bare still closes the ring with the segment.
    found = { buffer: target, address: 'SharedArrayBuffer', owned: undefined, plain: undefined, segment: segmentOf(target) };
  } else {
    throw typeError('target', target, 'a Segment, an address string or a SharedArrayBuffer');
  }
  const total = found.buffer.byteLength;
  const { byteOffset } = region;
  try {
    if (byteOffset > total) throw rangeError('byteOffset', byteOffset, `at most the ${total} bytes of the target`);
    const byteLength = region.byteLength ?? total - byteOffset;
    if (byteOffset + byteLength > total) {
      throw rangeError('byteLength', byteLength, `at most ${total - byteOffset} (the target holds ${total} bytes, the region starts at ${byteOffset})`);
    }
    return { ...found, byteOffset, byteLength };
  } catch (err) {
    found.owned?.close();
    throw err;
  }
}

// The open rings of each Segment of this thread. Closing a segment closes its rings first,
// while the pages are still mapped: they publish what they wrote, give their roles back
// and settle pending waits with ERR_CLOSED. (Afterwards the pages read as zeros and
// nothing written reaches the shared memory: a ring left open would hold its role for
// good and report its zeroed header as corruption.)
const ringsOf = new WeakMap<Segment, Set<{ close(): void }>>();

/** Closes `ring` when `segment` closes (see ringsOf); forgetRing undoes it. */
export function closeWithSegment(segment: Segment | undefined, ring: { close(): void }): void {
  if (segment === undefined) return;
  let rings = ringsOf.get(segment);
  if (rings === undefined) ringsOf.set(segment, (rings = new Set()));
  rings.add(ring);
}

export function forgetRing(segment: Segment | undefined, ring: { close(): void }): void {
  if (segment !== undefined) ringsOf.get(segment)?.delete(ring);
}

onSegmentClose((segment) => {
  const rings = ringsOf.get(segment);
  if (rings === undefined) return;
  ringsOf.delete(segment);
  let first: unknown;
  for (const ring of rings) {
    try {
      ring.close();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
});

/**
 * Whether the segment at `address` holds a stale ring (see isStaleRing). Looks at this one
 * address only: its mappers or attachments, and its header.
 */
function isStale(address: string): boolean {
  const users = usersOf(address);
  if (users === undefined || users > 0) return false;
  let segment: Segment | undefined;
  try {
    // A private view, or for System V (which has none) a copy through a read-only attachment:
    // the probe never writes, and a segment of another user is refused (not stale to us).
    const kind = parseAddress(address).kind;
    let head: Uint8Array;
    if (kind === 'sysv' || kind === 'sysv-ftok') {
      const peeked = peekSysv(address, PROBE_BYTES);
      checkTrusted(address, peeked.owners, peeked.mode, undefined);
      head = peeked.bytes;
    } else {
      segment = Segment.open(address, { readOnly: true });
      head = new Uint8Array(segment.buffer, 0, Math.min(segment.size, PROBE_BYTES)).slice();
    }
    const ring = describeRing(head);
    return ring !== undefined && isStaleRing(ring, users);
  } catch {
    return false; // gone, or not ours to read
  } finally {
    segment?.close();
  }
}

/** Creates the segment of a new ring; over a stale one (see isStale) only when asked to. */
function createSegment(address: string, size: number, replaceStale: boolean): Segment {
  try {
    return Segment.create(address, { size });
  } catch (err) {
    if (!replaceStale || !(err instanceof ShmError) || err.code !== 'EEXIST' || !isStale(address)) throw err;
    Segment.unlink(address);
    return Segment.create(address, { size });
  }
}
