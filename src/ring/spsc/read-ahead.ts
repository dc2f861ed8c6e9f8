// The SPSC consumer's read-ahead copy: small messages are copied out of the ring many
// records at a time into a private chunk (one memmove) and handed out as views of that
// chunk. The bytes belong to the caller, and record headers are parsed from the private
// copy, out of a hostile writer's reach. Owns the chunk; never reads the ring's positions.
import { CHUNK_BYTES, type Payload } from '../payload.js';
import { payloadOffset, RECORD_HEADER_SIZE, recordLengthIndex, recordSize, recordTypeIndex, TYPE_MESSAGE } from '../layout/spsc.js';

/** Most bytes copied ahead at once. */
export const READ_AHEAD_BYTES = 8192;

export class ReadAhead {
  // Ring positions #pos.. of #len bytes sit at #base in the current chunk; chunk bytes from
  // #free on were never handed out.
  #buffer: ArrayBuffer = new ArrayBuffer(0);
  #chunk = new Uint8Array(0);
  #i32 = new Int32Array(0);
  #pos = 0;
  #base = 0;
  #len = 0;
  #free = CHUNK_BYTES;
  /** Payload length of the message take() returned last. */
  length = 0;

  /**
   * The message at ring position `head` if the copy holds it whole, else null. Positions
   * and lengths are multiples of 8: a record that starts inside the copy has its header in it.
   */
  take(head: number): Uint8Array | null {
    const rel = (head - this.#pos) >>> 0;
    if (rel >= this.#len) return null;
    const left = this.#len - rel;
    const o = this.#base + rel;
    const length = this.#i32[recordLengthIndex(o)]!;
    // An unsigned compare also refuses a negative length.
    if (this.#i32[recordTypeIndex(o)] !== TYPE_MESSAGE || length >>> 0 > left - RECORD_HEADER_SIZE) return null;
    this.length = length;
    this.#free = o + recordSize(length); // fits in `left`: both are multiples of 8
    return new Uint8Array(this.#buffer, payloadOffset(o), length);
  }

  /**
   * Copies up to `n` published ring bytes at byte offset `at` (ring position `head`, a
   * record of `size` bytes checked by the consumer) into the chunk, in a new chunk if that
   * record does not fit the rest of this one.
   */
  fill(payload: Payload, at: number, n: number, head: number, size: number): void {
    let start = this.#free;
    if (CHUNK_BYTES - start < size) {
      const buffer = new ArrayBuffer(CHUNK_BYTES);
      this.#buffer = buffer;
      this.#chunk = new Uint8Array(buffer);
      this.#i32 = new Int32Array(buffer);
      start = 0;
    }
    n = Math.min(n, CHUNK_BYTES - start);
    this.#chunk.set(payload.view(at, n), start);
    this.#pos = head;
    this.#base = start;
    this.#len = n;
    this.#free = start;
  }

  /**
   * Forgets the copy. Positions wrap at 2^32: a copy left behind while reads went on from
   * the ring itself could otherwise be taken for the same positions of a later lap.
   */
  drop(): void {
    this.#len = 0;
  }
}
