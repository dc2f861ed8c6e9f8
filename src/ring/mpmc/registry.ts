// The participant registry of an MPMC ring: each handle holds one entry, announces there
// the position it is about to claim (before its CAS on the shared position) and goes back
// to idle once it has published or freed the slot. Peers read it to tell a dead producer
// or consumer from a slow one, and to repair a slot a dead participant left claimed.
// Owns the registry lines (layout/mpmc.ts); touches a slot only through Slots.repairSlot.
import { shmError } from '../../errors.js';
import { isAlive, SELF_THREAD } from '../../sync/identity.js';
import type { RingHandle } from '../handle.js';
import { LOST_OFFSET, i32Index } from '../layout/header.js';
import { entryOwnerIndex, entryPositionIndex, entryRolesIndex, entryStateIndex, ROLE_PRODUCER, STATE_IDLE } from '../layout/mpmc.js';

/** Default time a slot may stay stuck before its dead claimer is looked for, in ms. */
export const DEFAULT_REPAIR_DELAY_MS = 200;

export class Registry {
  readonly #h: RingHandle;
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;
  readonly #participants: number;
  readonly #repairDelayMs: number;
  /** This handle's entry, and the Int32Array indices of its state and position, or -1. */
  #entry = -1;
  #stateIndex = -1;
  #positionIndex = -1;
  /** ROLE_* bits this handle has recorded in its entry. */
  #roles = 0;
  /** A stuck slot being watched before repair: its position and since when (ms). */
  #stuckPosition = -1;
  #stuckSince = 0;

  constructor(h: RingHandle, i32: Int32Array, i64: BigInt64Array, participants: number, repairDelayMs: number) {
    this.#h = h;
    this.#i32 = i32;
    this.#i64 = i64;
    this.#participants = participants;
    this.#repairDelayMs = repairDelayMs;
  }

  /** Takes an entry (once): a free one, or one whose dead owner left it idle; then records `role` once. */
  enter(role: number): void {
    if (this.#entry < 0) this.#register();
    if ((this.#roles & role) !== 0) return;
    // Blocked peers look for live holders of the other role.
    this.#roles |= role;
    Atomics.store(this.#i32, entryRolesIndex(this.#entry), this.#roles);
  }

  #register(): void {
    for (let i = 0; i < this.#participants; i++) {
      const ownerIndex = entryOwnerIndex(i);
      const stateIndex = entryStateIndex(i);
      const owner = Atomics.load(this.#i64, ownerIndex);
      // A dead owner's entry is reusable once nothing in it awaits repair.
      if (owner !== 0n && (Atomics.load(this.#i32, stateIndex) !== STATE_IDLE || isAlive(owner))) continue;
      if (Atomics.compareExchange(this.#i64, ownerIndex, owner, SELF_THREAD) !== owner) continue;
      Atomics.store(this.#i32, stateIndex, STATE_IDLE);
      Atomics.store(this.#i32, entryRolesIndex(i), 0);
      this.#entry = i;
      this.#stateIndex = stateIndex;
      this.#positionIndex = entryPositionIndex(i);
      return;
    }
    throw shmError('ERR_TOO_MANY_PARTICIPANTS', `all ${this.#participants} participant entries of ring ${this.#h.address} are held by live handles`);
  }

  /** Says which position this handle is about to claim: written before the CAS that claims it. */
  announce(state: number, position: number): void {
    this.#i32[this.#positionIndex] = position | 0;
    // Fenced store: the position and state are visible before the claiming CAS.
    Atomics.store(this.#i32, this.#stateIndex, state);
  }

  /** After the slot was published (or freed): a plain store, never a false "dead claimer" since it comes after. */
  idle(): void {
    this.#i32[this.#stateIndex] = STATE_IDLE;
  }

  /**
   * For a blocked reader (or writer): ERR_PEER_DEAD if every handle that ever wrote (read)
   * and has not closed is dead. While no such handle was ever seen, waiting goes on: a
   * peer may still come.
   */
  checkPeers(role: number): void {
    this.#h.checkOpen();
    let dead = 0;
    for (let i = 0; i < this.#participants; i++) {
      const owner = Atomics.load(this.#i64, entryOwnerIndex(i));
      if (owner === 0n || (Atomics.load(this.#i32, entryRolesIndex(i)) & role) === 0) continue;
      if (isAlive(owner)) return;
      dead++;
    }
    if (dead > 0) throw shmError('ERR_PEER_DEAD', `every ${role === ROLE_PRODUCER ? 'producer' : 'consumer'} of ring ${this.#h.address} has died`);
  }

  /**
   * Watches a slot that is claimed but not moving; once stuck for the repair delay, looks
   * for its claimer: if a dead participant holds `position` in `state` and no live one
   * does, `repair()` fixes the slot (true if it did, or another handle did meanwhile), one
   * message is counted lost and the dead entry becomes reusable. True if repaired.
   */
  stuck(position: number, state: number, repair: () => boolean): boolean {
    const now = performance.now();
    if (this.#stuckPosition !== position) {
      this.#stuckPosition = position;
      this.#stuckSince = now;
      return false;
    }
    if (now - this.#stuckSince < this.#repairDelayMs) return false;
    this.#stuckSince = now; // look again only after another delay
    let deadEntry = -1;
    for (let i = 0; i < this.#participants; i++) {
      if (Atomics.load(this.#i32, entryStateIndex(i)) !== state) continue;
      if (Atomics.load(this.#i32, entryPositionIndex(i)) !== (position | 0)) continue;
      const owner = Atomics.load(this.#i64, entryOwnerIndex(i));
      if (owner !== 0n && isAlive(owner)) return false; // slow, not dead: never repaired over
      deadEntry = i;
    }
    if (deadEntry < 0) return false;
    if (repair()) {
      Atomics.add(this.#i32, i32Index(LOST_OFFSET), 1);
      // The dead entry no longer holds anything: it may be reused.
      Atomics.compareExchange(this.#i32, entryStateIndex(deadEntry), state, STATE_IDLE);
    }
    return true;
  }

  /** The count of lost messages as of close(): the pages may be unmapped afterwards. */
  #lostAtClose = -1;

  /** Messages lost on this ring (all handles) to repairs: now, or as of close(). */
  get lost(): number {
    return this.#lostAtClose >= 0 ? this.#lostAtClose : Atomics.load(this.#i32, i32Index(LOST_OFFSET));
  }

  /** For close(), while the pages are mapped: keeps the lost count, gives the entry back (`sound`: the ring is not broken). */
  leave(sound: boolean): void {
    this.#lostAtClose = Atomics.load(this.#i32, i32Index(LOST_OFFSET));
    if (this.#entry < 0 || !sound) return;
    Atomics.store(this.#i32, this.#stateIndex, STATE_IDLE);
    Atomics.compareExchange(this.#i64, entryOwnerIndex(this.#entry), SELF_THREAD, 0n);
  }
}
