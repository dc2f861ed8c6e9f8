// Reading a ring's shared state for humans and tools (shmring inspect, ls): header,
// positions, fill level, role owners and whether they live. Read-only, and as tolerant of
// corrupt bytes as the rings themselves: anything inconsistent is reported, not trusted.
import { identityPid, isAlive } from '../sync/identity.js';
import {
  CONSUMER_OWNER_OFFSET,
  HEADER_SIZE,
  KIND_MPMC,
  KIND_SPSC,
  LOST_OFFSET,
  MAGIC_OFFSET,
  KIND_OFFSET,
  PARAM_A_OFFSET,
  PARAM_B_OFFSET,
  PARAM_C_OFFSET,
  PRODUCER_CLOSED_OFFSET,
  PRODUCER_OWNER_OFFSET,
  RING_MAGIC,
  STATE_OFFSET,
  STATE_READY,
  TOTAL_SIZE_OFFSET,
  VERSION_OFFSET,
} from './header.js';
import { DEQUEUE_OFFSET, ENQUEUE_OFFSET, ENTRY_OWNER_OFFSET, ENTRY_POSITION_OFFSET, ENTRY_STATE_OFFSET, entryOffset, MAX_PARTICIPANTS } from './mpmc-layout.js';
import { HEAD_OFFSET, TAIL_OFFSET } from './spsc-layout.js';

export interface Participant {
  role: string;
  pid: number;
  alive: boolean;
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
    return identity === 0n ? [] : [{ role, pid: identityPid(identity), alive: isAlive(identity) }];
  };
  const base = { version: u32(VERSION_OFFSET), ready: u32(STATE_OFFSET) === STATE_READY, totalSize: u32(TOTAL_SIZE_OFFSET) };
  if (kind === KIND_SPSC) {
    const capacity = u32(PARAM_A_OFFSET);
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
  const slots = u32(PARAM_A_OFFSET);
  const participants = Math.min(u32(PARAM_C_OFFSET), MAX_PARTICIPANTS);
  const enqueue = u32(ENQUEUE_OFFSET);
  const dequeue = u32(DEQUEUE_OFFSET);
  const entries: Participant[] = [];
  for (let i = 0; i < participants && entryOffset(i + 1) <= bytes.byteLength; i++) {
    const at = entryOffset(i);
    const identity = view.getBigInt64(at + ENTRY_OWNER_OFFSET, true);
    if (identity === 0n) continue;
    entries.push({
      role: `entry ${i}`,
      pid: identityPid(identity),
      alive: isAlive(identity),
      state: STATES[view.getInt32(at + ENTRY_STATE_OFFSET, true)] ?? 'corrupt',
      position: u32(at + ENTRY_POSITION_OFFSET),
    });
  }
  return {
    kind: 'MPMC',
    ...base,
    figures: { slots, slotSize: u32(PARAM_B_OFFSET), participants, enqueue, dequeue, messages: Math.max(0, Math.min((enqueue - dequeue) | 0, slots)), lost: view.getInt32(LOST_OFFSET, true) },
    participants: entries,
  };
}
