// A role held in one 64-bit owner word in shared memory (for example the producer or the
// consumer of an SPSC ring): take it, give it back, and tell whether its holder died.
// Owns no layout: callers give the word's BigInt64Array and index. Slow paths only.
import { shmError } from '../errors.js';
import { identityThread, isAlive, SELF_THREAD } from './identity.js';

export class Role {
  readonly #owners: BigInt64Array;
  readonly #index: number;
  readonly name: string;
  #held = false;

  constructor(owners: BigInt64Array, index: number, name: string) {
    this.#owners = owners;
    this.#index = index;
    this.name = name;
  }

  get held(): boolean {
    return this.#held;
  }

  /** Takes the role; returns true if it was taken over from a dead holder. ERR_ROLE_TAKEN if a live one has it. */
  take(): boolean {
    if (this.#held) return false;
    const previous = Atomics.compareExchange(this.#owners, this.#index, 0n, SELF_THREAD);
    if (previous === 0n) {
      this.#held = true;
      return false;
    }
    if (previous === SELF_THREAD) throw shmError('ERR_ROLE_TAKEN', `the ${this.name} role is held by another handle in this thread`);
    if (isAlive(previous)) throw shmError('ERR_ROLE_TAKEN', `the ${this.name} role is held by live thread ${identityThread(previous)} (a process's main thread has its pid)`);
    if (Atomics.compareExchange(this.#owners, this.#index, previous, SELF_THREAD) !== previous) {
      throw shmError('ERR_ROLE_TAKEN', `another process took over the ${this.name} role first`);
    }
    this.#held = true;
    return true;
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    Atomics.compareExchange(this.#owners, this.#index, SELF_THREAD, 0n);
  }

  /** Whether the holder of the role in word `index` is known to be dead (0 = nobody yet: not dead). */
  static holderDead(owners: BigInt64Array, index: number): boolean {
    const owner = Atomics.load(owners, index);
    return owner !== 0n && !isAlive(owner);
  }
}
