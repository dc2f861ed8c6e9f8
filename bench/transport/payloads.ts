// The transport scenario's messages: the same objects for every competitor.
export type PayloadName = 'small' | 'array' | '64 KiB' | '1 MiB';

export const PAYLOADS: PayloadName[] = ['small', 'array', '64 KiB', '1 MiB'];

function small(i: number): { id: number; ts: number; payload: string } {
  return { id: i, ts: 1_700_000_000_000 + i, payload: 'x'.repeat(40) };
}

/** One message of each kind; Buffers for the byte payloads. */
export function payload(name: PayloadName): unknown {
  switch (name) {
    case 'small':
      return small(1);
    case 'array':
      return Array.from({ length: 1000 }, (_, i) => small(i));
    case '64 KiB':
      return Buffer.alloc(65536, 7);
    case '1 MiB':
      return Buffer.alloc(1 << 20, 7);
  }
}

export function isBytes(name: PayloadName): boolean {
  return name === '64 KiB' || name === '1 MiB';
}

/** The end marker of a one-way run: the string 'end', or a single byte (for 'raw'). */
export const END_TEXT = 'end';
export const END_BYTES = new Uint8Array([0xee]);

export function isEnd(m: unknown): boolean {
  return m === END_TEXT || (m instanceof Uint8Array && m.length === 1 && m[0] === 0xee);
}

/** A sink's reply under 'raw': the count as a float64. */
export function countBytes(count: number): Uint8Array {
  return new Uint8Array(Float64Array.of(count).buffer);
}

/** The count from a sink's reply, either form. */
export function replyCount(m: unknown): number {
  return m instanceof Uint8Array ? new Float64Array(m.slice().buffer)[0]! : (m as { count: number }).count;
}
