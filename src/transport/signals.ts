// How the two sides of a channel wake each other: the words of the wake lines and closed
// flags (layout.ts) and the rules over them. Each side owns its own line; the peer only
// reads it and swaps its words back to 0.
//
// Per direction: the receiver stores 1 in its `armed` word, then looks at the ring once
// more before it lets the loop sleep; the sender publishes, then swaps `armed` to 0 and
// rings only if it was 1. Both are sequentially consistent, so at least one of the two
// sees the other's store: a message is never left unnoticed. `need room` works the same
// way the other way round, for a sender whose queue waits for a full ring. While traffic
// is dense the receiver does not arm at all (it looks again on the next turn of its loop),
// so a busy sender rings nobody.
import { ARMED, closedOffset, i32Index, NEED_ROOM, wakeOffset, wakeWordIndex, type Side } from './layout.js';
import { readBell, type Bell } from './wake.js';

export class Signals {
  readonly #i32: Int32Array;
  readonly #peerLine: number;
  readonly #myArmed: number;
  readonly #myNeedRoom: number;
  readonly #myClosed: number;
  readonly #peerArmed: number;
  readonly #peerNeedRoom: number;
  readonly #peerClosed: number;
  #bell: Bell | undefined;

  /** `i32` views the channel header; `side` is this end, `peer` the other. */
  constructor(i32: Int32Array, side: Side, peer: Side) {
    this.#i32 = i32;
    const mine = wakeOffset(side);
    this.#peerLine = wakeOffset(peer);
    this.#myArmed = wakeWordIndex(mine, ARMED);
    this.#myNeedRoom = wakeWordIndex(mine, NEED_ROOM);
    this.#myClosed = i32Index(closedOffset(side));
    this.#peerArmed = wakeWordIndex(this.#peerLine, ARMED);
    this.#peerNeedRoom = wakeWordIndex(this.#peerLine, NEED_ROOM);
    this.#peerClosed = i32Index(closedOffset(peer));
  }

  /** This side's loop is about to wait for data (then look once more). */
  arm(): void {
    Atomics.store(this.#i32, this.#myArmed, 1);
  }

  disarm(): void {
    Atomics.store(this.#i32, this.#myArmed, 0);
  }

  /** This side waits for room in a full ring (then looks once more). */
  askForRoom(): void {
    Atomics.store(this.#i32, this.#myNeedRoom, 1);
  }

  /** After publishing: rings the peer if it waits for data. */
  published(): void {
    if (Atomics.load(this.#i32, this.#peerArmed) !== 0 && Atomics.exchange(this.#i32, this.#peerArmed, 0) === 1) this.ring();
  }

  /** After freeing room: rings the peer if it waits for room. */
  freed(): void {
    if (Atomics.load(this.#i32, this.#peerNeedRoom) !== 0 && Atomics.exchange(this.#i32, this.#peerNeedRoom, 0) === 1) this.ring();
  }

  /** Rings the peer's doorbell (once the peer has written its wake line). */
  ring(): void {
    this.#bell ??= readBell(this.#i32, this.#peerLine);
    this.#bell?.ring();
  }

  /** Reads the peer's wake line now, if it has written it (it connected). */
  learnBell(): void {
    this.#bell ??= readBell(this.#i32, this.#peerLine);
  }

  /** Whether the peer closed its end (after its last publication). */
  get peerClosed(): boolean {
    return Atomics.load(this.#i32, this.#peerClosed) !== 0;
  }

  /** Marks this end closed; the caller publishes everything first. */
  markClosed(): void {
    Atomics.store(this.#i32, this.#myClosed, 1);
  }
}
