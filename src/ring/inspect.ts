// Reading a ring's shared state for humans and tools (shmring inspect, ls): header,
// positions, fill level, role owners and whether they live, and the stale verdict.
// Read-only, and as tolerant of corrupt bytes as the rings themselves: anything
// inconsistent is reported, not trusted. Give it the bytes from the ring's byteOffset.
import { identityProcess, identityThread, isAlive, isForeign } from '../sync/identity.js';
import {
  CONSUMER_OWNER_OFFSET,
  HEADER_SIZE,
  KIND_MPMC,
  KIND_SPSC,
  LOST_OFFSET,
  MAGIC_OFFSET,
  KIND_OFFSET,
  PRODUCER_CLOSED_OFFSET,
  PRODUCER_OWNER_OFFSET,
  RING_MAGIC,
  STATE_OFFSET,
  STATE_READY,
  TOTAL_SIZE_OFFSET,
  VERSION_OFFSET,
} from './layout/header.js';
import {
  DEQUEUE_OFFSET,
  ENQUEUE_OFFSET,
  entryOffset,
  entryOwnerOffset,
  entryPositionOffset,
  entryStateOffset,
  MAX_PARTICIPANTS,
  PARTICIPANTS_OFFSET,
  SLOT_SIZE_OFFSET,
  SLOTS_OFFSET,
} from './layout/mpmc.js';
import { CAPACITY_OFFSET, HEAD_OFFSET, TAIL_OFFSET } from './layout/spsc.js';

/** How many bytes of a segment describe its ring (header and the largest MPMC registry). */
export const PROBE_BYTES = entryOffset(MAX_PARTICIPANTS);

export interface Participant {
  role: string;
  /** The process (in the participant's own PID namespace when `foreignNamespace`). */
  pid: number;
  /** The worker thread's OS id, when the participant is not its process's main thread. */
  thread?: number;
  /** Recorded in another PID namespace: its ids mean nothing here and it counts as alive. */
  foreignNamespace?: true;
  alive: boolean;
  /** A channel end that closed its side (it may still live). */
  closed?: true;
  state?: string;
  position?: number;
}

export interface RingDescription {
  kind: 'SPSC' | 'MPMC';
  version: number;
  ready: boolean;
  totalSize: number;
  /** SPSC: capacity, tail, head, used bytes; MPMC: slots, slot size, positions, messages. */
  figures: Record<string, number>;
  participants: Participant[];
  producerClosed?: boolean;
}

const STATES = ['idle', 'producing', 'consuming'];

/** Process, thread, namespace and liveness of an identity, for people. */
export function who(identity: bigint): Pick<Participant, 'pid' | 'thread' | 'foreignNamespace' | 'alive'> {
  const thread = identityThread(identity);
  const pid = identityProcess(identity);
  return { pid, ...(thread === pid ? {} : { thread }), ...(isForeign(identity) ? { foreignNamespace: true as const } : {}), alive: isAlive(identity) };
}

/** Describes the ring in `bytes` (a copy or a live view), or undefined if it is not one. */
export function describeRing(bytes: Uint8Array): RingDescription | undefined {
  if (bytes.byteLength < HEADER_SIZE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (offset: number) => view.getUint32(offset, true);
  if (u32(MAGIC_OFFSET) !== RING_MAGIC) return undefined;
  const kind = u32(KIND_OFFSET);
  if (kind !== KIND_SPSC && kind !== KIND_MPMC) return undefined;
  const owner = (offset: number, role: string): Participant[] => {
    const identity = view.getBigInt64(offset, true);
    return identity === 0n ? [] : [{ role, ...who(identity) }];
  };
  const base = { version: u32(VERSION_OFFSET), ready: u32(STATE_OFFSET) === STATE_READY, totalSize: u32(TOTAL_SIZE_OFFSET) };
  if (kind === KIND_SPSC) {
    const capacity = u32(CAPACITY_OFFSET);
    const tail = u32(TAIL_OFFSET);
    const head = u32(HEAD_OFFSET);
    return {
      kind: 'SPSC',
      ...base,
      figures: { capacity, tail, head, usedBytes: (tail - head) >>> 0 },
      participants: [...owner(PRODUCER_OWNER_OFFSET, 'producer'), ...owner(CONSUMER_OWNER_OFFSET, 'consumer')],
      producerClosed: u32(PRODUCER_CLOSED_OFFSET) === 1,
    };
  }
  const slots = u32(SLOTS_OFFSET);
  const participants = Math.min(u32(PARTICIPANTS_OFFSET), MAX_PARTICIPANTS);
  const enqueue = u32(ENQUEUE_OFFSET);
  const dequeue = u32(DEQUEUE_OFFSET);
  const entries: Participant[] = [];
  for (let i = 0; i < participants && entryOffset(i + 1) <= bytes.byteLength; i++) {
    const identity = view.getBigInt64(entryOwnerOffset(i), true);
    if (identity === 0n) continue;
    entries.push({
      role: `entry ${i}`,
      ...who(identity),
      state: STATES[view.getInt32(entryStateOffset(i), true)] ?? 'corrupt',
      position: u32(entryPositionOffset(i)),
    });
  }
  return {
    kind: 'MPMC',
    ...base,
    figures: { slots, slotSize: u32(SLOT_SIZE_OFFSET), participants, enqueue, dequeue, messages: Math.max(0, Math.min((enqueue - dequeue) | 0, slots)), lost: view.getInt32(LOST_OFFSET, true) },
    participants: entries,
  };
}

/**
 * Whether a ring nobody uses is stale: no process maps it (`users`), its header records at
 * least one participant, and every one of them is dead. A mapped segment is never stale,
 * whatever its header says; neither is one whose participants all closed cleanly (a
 * persistent queue waiting for its next reader).
 */
export function isStaleRing(ring: Pick<RingDescription, 'participants'>, users: number): boolean {
  return users === 0 && ring.participants.length > 0 && ring.participants.every((p) => !p.alive);
}
