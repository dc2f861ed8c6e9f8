// What a shmring segment holds, described for people and tools (shmring inspect, ls,
// rm --stale): a ring (ring/inspect.ts), or a Channel: its two ends (who, alive, closed)
// and the bytes queued in each direction (tail − head of its two SPSC rings). Read-only,
// and as tolerant of corrupt bytes as the rings: a value that disagrees with the rest is
// reported, never used to read elsewhere.
import { describeRing, isStaleRing, type Participant, PROBE_BYTES, type RingDescription, who } from '../ring/inspect.js';
import { HEADER_SIZE as RING_HEADER_SIZE } from '../ring/layout/header.js';
import { spscRingSize } from '../ring/layout/spsc.js';
import type { ReadAt } from '../segment/discovery.js';
import { MAX_CHANNEL_CAPACITY, MIN_CHANNEL_CAPACITY } from '../transport/header.js';
import {
  CAPACITY_OFFSET,
  CHANNEL_MAGIC,
  CHANNEL_VERSION,
  channelLayout,
  closedOffset,
  CONNECTOR,
  CREATOR,
  HEADER_SIZE,
  MAGIC_OFFSET,
  MAX_MESSAGE_OFFSET,
  ownerOffset,
  RING_A_OFFSET_OFFSET,
  RING_B_OFFSET_OFFSET,
  type Side,
  STATE_OFFSET,
  STATE_READY,
  TOTAL_SIZE_OFFSET,
  VERSION_OFFSET,
} from '../transport/layout.js';

export interface ChannelDescription {
  kind: 'Channel';
  version: number;
  ready: boolean;
  totalSize: number;
  /**
   * capacity (of each ring) and maxMessageSize; queuedToConnector and queuedToCreator: bytes
   * published and not yet read in each direction (records with their headers), where the
   * rings could be read.
   */
  figures: Record<string, number>;
  /** The creator, and the connector once one joined. */
  participants: Participant[];
  /** Why figures are missing: the header disagrees with itself or with the segment. */
  problem?: string;
}

export type SegmentDescription = RingDescription | ChannelDescription;

/**
 * Describes what `read` reads: a ring at `offset`, or a channel (at offset 0 only);
 * undefined for anything else.
 */
export function describeSegment(read: ReadAt, offset = 0): SegmentDescription | undefined {
  const head = read(offset, PROBE_BYTES);
  return describeRing(head) ?? (offset === 0 ? describeChannel(head, read) : undefined);
}

/** Whether a segment nobody uses is stale: the rule of rings (isStaleRing), for channel ends too. */
export function isStaleSegment(description: SegmentDescription, users: number): boolean {
  return isStaleRing(description, users);
}

const ROLES = ['creator', 'connector'];

/** Describes the channel whose header starts `head` (bytes from offset 0); `read` reaches its rings. */
export function describeChannel(head: Uint8Array, read: ReadAt): ChannelDescription | undefined {
  if (head.byteLength < HEADER_SIZE) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, HEADER_SIZE);
  const u32 = (offset: number) => view.getUint32(offset, true);
  if (u32(MAGIC_OFFSET) !== CHANNEL_MAGIC) return undefined;
  const version = u32(VERSION_OFFSET);
  const base = { kind: 'Channel' as const, version, ready: u32(STATE_OFFSET) === STATE_READY, totalSize: u32(TOTAL_SIZE_OFFSET) };
  // Another version may place its fields elsewhere: nothing more is read, and with no
  // participants it is never stale.
  if (version !== CHANNEL_VERSION) return { ...base, figures: {}, participants: [], problem: `channel version ${version}; this tool reads version ${CHANNEL_VERSION}` };
  const participants: Participant[] = [];
  for (const side of [CREATOR, CONNECTOR] as Side[]) {
    const identity = view.getBigInt64(ownerOffset(side), true);
    if (identity === 0n) continue;
    participants.push({ role: ROLES[side]!, ...who(identity), ...(u32(closedOffset(side)) === 1 ? { closed: true as const } : {}) });
  }
  const capacity = u32(CAPACITY_OFFSET);
  const figures: Record<string, number> = { capacity, maxMessageSize: u32(MAX_MESSAGE_OFFSET) };
  const problem = queued(view, read, capacity, figures);
  return { ...base, figures, participants, ...(problem === undefined ? {} : { problem }) };
}

/**
 * Adds the bytes queued in each direction to `figures`, read from the rings' own headers at
 * the offsets the channel header gives once they agree with its capacity; or says why not.
 */
function queued(view: DataView, read: ReadAt, capacity: number, figures: Record<string, number>): string | undefined {
  if (capacity < MIN_CHANNEL_CAPACITY || capacity > MAX_CHANNEL_CAPACITY || (capacity & (capacity - 1)) !== 0) return `ring capacity ${capacity} is not a power of two from ${MIN_CHANNEL_CAPACITY} to ${MAX_CHANNEL_CAPACITY}`;
  const layout = channelLayout(spscRingSize(capacity));
  const ringA = view.getUint32(RING_A_OFFSET_OFFSET, true);
  const ringB = view.getUint32(RING_B_OFFSET_OFFSET, true);
  const total = view.getUint32(TOTAL_SIZE_OFFSET, true);
  if (ringA !== layout.ringA || ringB !== layout.ringB || total !== layout.total) return `ring offsets ${ringA}, ${ringB} and size ${total} disagree with capacity ${capacity}`;
  // Ring A carries the creator's messages to the connector, ring B the connector's back.
  for (const [name, offset] of [
    ['queuedToConnector', ringA],
    ['queuedToCreator', ringB],
  ] as const) {
    const ring = describeRing(read(offset, RING_HEADER_SIZE));
    if (ring === undefined) return `no ring header at ${offset} (the segment is shorter than its ${total} bytes?)`;
    if (ring.kind !== 'SPSC' || ring.figures.capacity !== capacity) return `the ring at ${offset} is not an SPSC ring of ${capacity} bytes`;
    figures[name] = ring.figures.usedBytes!;
  }
  return undefined;
}
