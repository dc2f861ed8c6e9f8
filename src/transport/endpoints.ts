// The segment of a channel from either end: making it (header, both rings, READY last),
// joining it (validated, the connector's place claimed, both rings opened), leaving it, and
// removing it once both ends are gone. Every step that fails undoes the earlier ones.
import { typeError } from '../errors.js';
import { Segment } from '../segment/segment.js';
import { channelBytes, claimConnector, pauseForCreator, publishReady, readShape, READY_WAIT_MS, writeHeader, type ChannelShape } from './header.js';
import { CREATOR, HEADER_SIZE, i64Index, ownerOffset } from './layout.js';
import { watchPeer } from './peer-watch.js';
import { SpscRing } from '../ring/spsc/ring.js';

/** One end's view: its segment, the header's shape, and its rings [outbound, inbound]. */
export interface Endpoint {
  segment: Segment;
  address: string;
  shape: ChannelShape;
  rings: [SpscRing, SpscRing];
}

/**
 * Makes a channel's segment at `address` (created, exclusive; none makes an anonymous memfd
 * whose `fd:N` address works in this process's threads and in children that inherit it),
 * then `open` turns it into a Channel before READY is published.
 */
export function makeEndpoint<T>(address: string | undefined, capacity: number, maxMessage: number, open: (end: Endpoint) => T): T {
  if (address !== undefined && typeof address !== 'string') throw typeError('address', address, 'an address string');
  const size = channelBytes(capacity);
  const segment = address === undefined ? Segment.anonymous(size) : Segment.create(address, { size });
  try {
    const { i32, shape } = writeHeader(segment, capacity, maxMessage);
    const out = formatRing(segment, shape.ringA, capacity, 'producer');
    const inbound = formatRing(segment, shape.ringB, capacity, 'consumer');
    const made = open({ segment, address: address ?? `fd:${segment.fd}`, shape, rings: [out, inbound] });
    publishReady(i32);
    return made;
  } catch (err) {
    segment.close();
    if (address !== undefined) unlinkQuietly(address);
    throw err;
  }
}

/** Joins the channel at `address` (waiting up to READY_WAIT_MS for one being made): ENOENT, ERR_SHM_TRUNCATED, ERR_SHM_BAD_HEADER, ERR_ROLE_TAKEN. */
export function joinEndpoint<T>(address: string, open: (end: Endpoint) => T, check?: (segment: Segment) => void): T {
  if (typeof address !== 'string') throw typeError('address', address, 'an address string');
  const deadline = performance.now() + READY_WAIT_MS;
  const segment = openSized(address, deadline);
  try {
    const shape = readShape(segment, address, deadline);
    check?.(segment); // before the connector's place is taken: a refused side never holds it
    claimConnector(segment);
    const inbound = openRing(segment, shape.ringA, shape.capacity, 'consumer');
    const out = openRing(segment, shape.ringB, shape.capacity, 'producer');
    return open({ segment, address, shape, rings: [out, inbound] });
  } catch (err) {
    segment.close();
    throw err;
  }
}

/**
 * Opens the segment at `address` once it has a size: a creator's exclusive open makes the name
 * before it sizes the segment, and a connector that comes between finds 0 bytes
 * (ERR_SHM_TRUNCATED). That is waited out, opening the name again, until `deadline`.
 */
function openSized(address: string, deadline: number): Segment {
  for (;;) {
    try {
      return Segment.open(address);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_SHM_TRUNCATED' || performance.now() > deadline) throw err;
    }
    pauseForCreator();
  }
}

/** Formats the ring of `capacity` at `byteOffset` and takes `role` in it. */
function formatRing(segment: Segment, byteOffset: number, capacity: number, role: 'producer' | 'consumer'): SpscRing {
  return SpscRing.create(segment, { capacity, byteOffset, byteLength: SpscRing.requiredBytes(capacity), role });
}

/** Opens the ring at `byteOffset` (validated by the ring layer) and takes `role` in it. */
function openRing(segment: Segment, byteOffset: number, capacity: number, role: 'producer' | 'consumer'): SpscRing {
  return SpscRing.open(segment, { byteOffset, byteLength: SpscRing.requiredBytes(capacity), role });
}

function unlinkQuietly(address: string): void {
  try {
    Segment.unlink(address);
  } catch {
    // removed by the peer already
  }
}

/** Removes the channel at `address` if it is still the one `creator` made (not a new one by that name). */
function removeIfSame(address: string, creator: bigint): void {
  try {
    const segment = Segment.open(address);
    let same = false;
    try {
      same = segment.size >= HEADER_SIZE && Atomics.load(new BigInt64Array(segment.buffer, 0, HEADER_SIZE / 8), i64Index(ownerOffset(CREATOR))) === creator;
    } finally {
      segment.close();
    }
    if (same) unlinkQuietly(address);
  } catch {
    // gone already
  }
}

/** Whether the channel's segment has a name that must be removed once both ends are gone. */
function named(address: string): boolean {
  return !address.startsWith('fd:');
}

/**
 * Closes this end's rings and segment. A named segment is removed when the peer is gone
 * too; if the peer lives on, it removes it when it closes, and if it is killed first, this
 * process (while it lives) removes it when the peer's pidfd says so.
 */
export function leaveEndpoint(end: Endpoint, peerGone: boolean, peerIdentity: bigint): void {
  let creator = 0n;
  try {
    creator = Atomics.load(new BigInt64Array(end.segment.buffer, 0, HEADER_SIZE / 8), i64Index(ownerOffset(CREATOR)));
    end.rings[0].close();
    end.rings[1].close();
  } finally {
    end.segment.close();
    if (named(end.address)) {
      if (peerGone) unlinkQuietly(end.address);
      else if (peerIdentity !== 0n) watchPeer(peerIdentity, () => removeIfSame(end.address, creator));
    }
  }
}
