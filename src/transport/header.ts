// Making and checking a channel's segment: create() formats the header and both rings and
// publishes READY last; connect() validates everything it reads before using it as an
// offset or size, and claims the connector's place with one compareExchange.
import { badHeaderError, shmError } from '../errors.js';
import { Segment } from '../segment/segment.js';
import { knownSchemas, type SchemaIdentity } from './codec.js';
import { identityThread, isAlive, SELF_THREAD } from '../sync/identity.js';
import {
  CAPACITY_OFFSET,
  CHANNEL_MAGIC,
  CHANNEL_VERSION,
  channelLayout,
  closedOffset,
  CONNECTOR,
  CONNECTOR_OFFSET,
  CREATOR,
  CREATOR_OFFSET,
  HEADER_SIZE,
  i32Index,
  i64Index,
  MAGIC_OFFSET,
  MAX_MESSAGE_OFFSET,
  RING_A_OFFSET_OFFSET,
  RING_B_OFFSET_OFFSET,
  SCHEMA_HASH_OFFSET,
  STATE_FORMATTING,
  STATE_OFFSET,
  STATE_READY,
  TOTAL_SIZE_OFFSET,
  VERSION_OFFSET,
} from './layout.js';
import { RING_MAGIC } from '../ring/layout/header.js';
import { SpscRing } from '../ring/spsc/ring.js';

/** Smallest and largest ring capacity of a channel (bytes per direction, a power of two). */
export const MIN_CHANNEL_CAPACITY = 4096;
export const MAX_CHANNEL_CAPACITY = 2 ** 30;
/** Largest message a channel can declare (a frame's length field is 32 bits). */
export const MAX_MESSAGE_LIMIT = 2 ** 32 - 1;
/**
 * How long connect() waits for a channel still being made: its creator's exclusive open comes
 * before the segment is sized (0 bytes), the magic and version are stored after it (zeros), and
 * READY last.
 */
export const READY_WAIT_MS = 500;
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** One short pause of a connector waiting for a channel being made (2 ms, blocking: connect is synchronous). */
export function pauseForCreator(): void {
  Atomics.wait(PAUSE, 0, 0, 2);
}

export interface ChannelShape {
  capacity: number;
  ringA: number;
  ringB: number;
  maxMessage: number;
}

/** Bytes a channel segment needs for rings of `capacity`. */
export function channelBytes(capacity: number): number {
  return channelLayout(SpscRing.requiredBytes(capacity)).total;
}

/** Writes the header fields (everything but READY and the rings) of a new channel. */
export function writeHeader(segment: Segment, capacity: number, maxMessage: number): { i32: Int32Array; shape: ChannelShape } {
  const layout = channelLayout(SpscRing.requiredBytes(capacity));
  const i32 = new Int32Array(segment.buffer, 0, HEADER_SIZE / 4);
  const i64 = new BigInt64Array(segment.buffer, 0, HEADER_SIZE / 8);
  Atomics.store(i32, i32Index(STATE_OFFSET), STATE_FORMATTING);
  i32.fill(0, i32Index(VERSION_OFFSET));
  Atomics.store(i32, i32Index(MAGIC_OFFSET), CHANNEL_MAGIC);
  Atomics.store(i32, i32Index(VERSION_OFFSET), CHANNEL_VERSION);
  Atomics.store(i32, i32Index(CAPACITY_OFFSET), capacity);
  Atomics.store(i32, i32Index(RING_A_OFFSET_OFFSET), layout.ringA);
  Atomics.store(i32, i32Index(RING_B_OFFSET_OFFSET), layout.ringB);
  Atomics.store(i32, i32Index(MAX_MESSAGE_OFFSET), maxMessage | 0);
  Atomics.store(i32, i32Index(TOTAL_SIZE_OFFSET), layout.total);
  Atomics.store(i64, i64Index(CREATOR_OFFSET), SELF_THREAD);
  return { i32, shape: { capacity, ringA: layout.ringA, ringB: layout.ringB, maxMessage } };
}

/** The last store of create(): a connector that sees READY sees the rings formatted. */
export function publishReady(i32: Int32Array): void {
  Atomics.store(i32, i32Index(STATE_OFFSET), STATE_READY);
}

/** Reads and checks the header of an existing channel (waiting until `deadline` for one being made); never writes. */
export function readShape(segment: Segment, address: string, deadline: number): ChannelShape {
  const buffer = segment.buffer;
  if (buffer.byteLength < HEADER_SIZE) throw badHeaderError(`${buffer.byteLength} bytes cannot hold a channel header (${HEADER_SIZE})`, address);
  const i32 = new Int32Array(buffer, 0, HEADER_SIZE / 4);
  // A magic or version of 0 is a channel whose creator has not stored them yet: waited for as
  // the formatting state is (a segment of zeros that nobody makes is refused at the deadline).
  for (;;) {
    const magic = Atomics.load(i32, i32Index(MAGIC_OFFSET));
    if (magic === RING_MAGIC) throw badHeaderError('it is a bare ring, not a channel', address);
    const version = Atomics.load(i32, i32Index(VERSION_OFFSET));
    if (magic === CHANNEL_MAGIC && version !== 0) {
      if (version !== CHANNEL_VERSION) throw badHeaderError(`channel version ${version}, this library reads version ${CHANNEL_VERSION}`, address);
      const state = Atomics.load(i32, i32Index(STATE_OFFSET));
      if (state === STATE_READY) break;
      if (state !== STATE_FORMATTING) throw badHeaderError(`unknown channel state ${state}`, address);
    } else if (magic !== 0 && magic !== CHANNEL_MAGIC) {
      throw badHeaderError('no shmring channel magic', address);
    }
    if (performance.now() > deadline) {
      throw badHeaderError(magic === 0 ? 'no shmring channel magic (zeros: nobody finished making a channel here)' : 'the channel never became ready (its creator died while making it?)', address);
    }
    pauseForCreator();
  }
  const capacity = Atomics.load(i32, i32Index(CAPACITY_OFFSET)) >>> 0;
  if (capacity < MIN_CHANNEL_CAPACITY || capacity > MAX_CHANNEL_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw badHeaderError(`ring capacity ${capacity} is not a power of two from ${MIN_CHANNEL_CAPACITY} to ${MAX_CHANNEL_CAPACITY}`, address);
  }
  const layout = channelLayout(SpscRing.requiredBytes(capacity));
  const ringA = Atomics.load(i32, i32Index(RING_A_OFFSET_OFFSET)) >>> 0;
  const ringB = Atomics.load(i32, i32Index(RING_B_OFFSET_OFFSET)) >>> 0;
  const total = Atomics.load(i32, i32Index(TOTAL_SIZE_OFFSET)) >>> 0;
  if (ringA !== layout.ringA || ringB !== layout.ringB || total !== layout.total) {
    throw badHeaderError(`ring offsets ${ringA}, ${ringB} and size ${total} disagree with capacity ${capacity}`, address);
  }
  if (total > buffer.byteLength) throw badHeaderError(`the channel needs ${total} bytes but the segment holds ${buffer.byteLength} (truncated)`, address);
  const maxMessage = Atomics.load(i32, i32Index(MAX_MESSAGE_OFFSET)) >>> 0;
  if (maxMessage === 0) throw badHeaderError('max message size 0', address);
  return { capacity, ringA, ringB, maxMessage };
}

/** Takes the connector's place, or says why not: ERR_ROLE_TAKEN while a live one holds it. */
export function claimConnector(segment: Segment): void {
  const i64 = new BigInt64Array(segment.buffer, 0, HEADER_SIZE / 8);
  const i32 = new Int32Array(segment.buffer, 0, HEADER_SIZE / 4);
  const previous = Atomics.compareExchange(i64, i64Index(CONNECTOR_OFFSET), 0n, SELF_THREAD);
  if (previous === 0n) return;
  if (isAlive(previous) && Atomics.load(i32, i32Index(closedOffset(CONNECTOR))) === 0) {
    throw shmError('ERR_ROLE_TAKEN', `the channel ${segment.address} already has both ends (connector thread ${identityThread(previous)})`);
  }
  throw shmError('ERR_CLOSED', `the channel ${segment.address} was joined before and its connector is gone`);
}

/** Writes the schema hash of the creator's codec (0: not a schema) before READY. */
export function writeSchemaHash(segment: Segment, identity: SchemaIdentity | undefined): void {
  const i64 = new BigInt64Array(segment.buffer, 0, HEADER_SIZE / 8);
  Atomics.store(i64, i64Index(SCHEMA_HASH_OFFSET), BigInt.asIntN(64, identity?.hash ?? 0n));
}

/** How a mismatch names a schema: its name and canonical form if this process knows it, else its hash. */
function describeSchema(hash: bigint): string {
  if (hash === 0n) return 'no schema';
  const known = knownSchemas.get(hash);
  return `schema ${hash.toString(16).padStart(16, '0')}${known === undefined ? '' : ` (${known})`}`;
}

/**
 * ERR_SCHEMA_MISMATCH unless the channel in `segment` (READY) was created with the schema
 * `identity` (undefined: a codec that is not a schema, which only a channel without one takes).
 */
export function checkSchema(segment: Segment, address: string, identity: SchemaIdentity | undefined): void {
  const i64 = new BigInt64Array(segment.buffer, 0, HEADER_SIZE / 8);
  const theirs = BigInt.asUintN(64, Atomics.load(i64, i64Index(SCHEMA_HASH_OFFSET)));
  const mine = identity?.hash ?? 0n;
  if (theirs === mine) return;
  throw shmError('ERR_SCHEMA_MISMATCH', `channel ${address} was created with ${describeSchema(theirs)}; this side's codec is ${identity === undefined ? 'not a schema' : `schema ${identity.hash.toString(16).padStart(16, '0')} (${identity.name} ${identity.canonical})`}`, { address });
}

