// The zero-copy claim of an SPSC producer: room for one record in the ring, filled in place
// through `bytes`, then committed (published like a write) or aborted. One claim object
// per producer, reused; it holds where the record is and whether it is still open, and
// leaves the record's header and the tail to the producer.

/** A zero-copy write: fill `bytes`, then commit() to publish it or abort() to drop it. */
export interface Claim {
  readonly bytes: Uint8Array;
  commit(): void;
  abort(): void;
}

export class SpscClaim implements Claim {
  bytes: Uint8Array = new Uint8Array(0);
  /** Byte offset of the claimed record from the ring's start, and its payload length. */
  at = 0;
  length = 0;
  /** Not yet committed or aborted. */
  live = false;
  /** The tag the record is committed with (0 unless commitTagged). */
  tag = 0;
  readonly #finish: (claim: SpscClaim, commit: boolean) => void;

  constructor(finish: (claim: SpscClaim, commit: boolean) => void) {
    this.#finish = finish;
  }

  commit(): void {
    this.tag = 0;
    this.#finish(this, true);
  }

  /** Commits the record with `tag` (an integer 0..255, unchecked: for the transport) in its type word. */
  commitTagged(tag: number): void {
    this.tag = tag;
    this.#finish(this, true);
  }

  abort(): void {
    this.#finish(this, false);
  }
}
