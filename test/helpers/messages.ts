// Seeded message streams for cross-process ring tests: producer and verifier regenerate
// the same lengths and bytes from (seed, index), so nothing needs to be sent aside.

export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

/** Byte j of message i. */
export function byteAt(i: number, j: number): number {
  return (i * 31 + j * 7 + (i >>> 8)) & 0xff;
}

export function fill(target: Uint8Array, i: number): void {
  for (let j = 0; j < target.length; j++) target[j] = byteAt(i, j);
}

/** Index of the first wrong byte of message i, or -1. */
export function check(view: Uint8Array, i: number): number {
  for (let j = 0; j < view.length; j++) if (view[j] !== byteAt(i, j)) return j;
  return -1;
}
