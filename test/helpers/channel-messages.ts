// Seeded mixed messages for Channel tests: both ends regenerate message i of a seed, so the
// receiver checks every message without anything sent aside. Sizes range from a few bytes
// to 200 KiB (past one ring record of a 64 KiB ring, so pieces are reassembled too).
import { xorshift } from './messages.js';

export function seededMessage(seed: number, i: number): unknown {
  const next = xorshift((seed * 2654435761 + i * 40503 + 1) >>> 0);
  const r = next();
  switch (r % 5) {
    case 0:
      return { i, ts: r, payload: 'x'.repeat(r % 64) };
    case 1: {
      const bytes = new Uint8Array(r % 4096);
      for (let j = 0; j < bytes.length; j++) bytes[j] = (i + j * 7) & 0xff;
      return { i, bytes };
    }
    case 2:
      return [i, r, 'y'.repeat(r % 300), { nested: [i, null, true] }];
    case 3:
      return { i, map: new Map([[i, 'v']]), big: BigInt(r) * 12345678901234567890n, when: new Date(r) };
    default: {
      const bytes = new Uint8Array(r % 97 === 0 ? 200_000 + (r % 1000) : r % 256);
      for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 3 + j) & 0xff;
      return { i, bytes };
    }
  }
}
