// The transport scenario's messages: the same objects for every competitor.
import { struct } from 'shmring';

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

/** The end marker of a one-way run: the string 'end', or a single byte (for 'raw'), or a schema's end record. */
export const END_TEXT = 'end';
export const END_BYTES = new Uint8Array([0xee]);

// Typed messages (src/schema): the small object as a schema, and a 64-byte fixed record. A
// schema Channel carries only its records, so its end marker and its sink's reply are records
// too: id 2^32 − 1 ('end') and payload 'count' (the count in ts) for Tick, seq −1 and −2 for Record64.
export const SCHEMAS = {
  tick: struct({ id: 'u32', ts: 'f64', payload: 'utf8(40)' }, { name: 'Tick' }),
  record64: struct({ seq: 'f64', ts: 'f64', values: 'f64[6]' }, { name: 'Record64' }),
};
export type SchemaName = keyof typeof SCHEMAS;

/** The 64-byte record of the fixed-record rows (Record64's size is 64). */
export function record64(i: number): { seq: number; ts: number; values: number[] } {
  return { seq: i, ts: 1_700_000_000_000 + i, values: [1, 2, 3, 4, 5, 6] };
}

export const SCHEMA_END = {
  tick: { id: 2 ** 32 - 1, ts: 0, payload: END_TEXT },
  record64: { seq: -1, ts: 0, values: [0, 0, 0, 0, 0, 0] },
};

/** The sink's reply of `count` as a record of `schema`. */
export function schemaCount(schema: SchemaName, count: number): unknown {
  return schema === 'tick' ? { id: 0, ts: count, payload: 'count' } : { seq: -2, ts: count, values: [0, 0, 0, 0, 0, 0] };
}

export function isEnd(m: unknown): boolean {
  if (m === END_TEXT || (m instanceof Uint8Array && m.length === 1 && m[0] === 0xee)) return true;
  const r = m as { id?: number; payload?: string; seq?: number } | null;
  return r !== null && typeof r === 'object' && ((r.id === 2 ** 32 - 1 && r.payload === END_TEXT) || r.seq === -1);
}

/** A sink's reply under 'raw': the count as a float64. */
export function countBytes(count: number): Uint8Array {
  return new Uint8Array(Float64Array.of(count).buffer);
}

/** The count from a sink's reply, any form. */
export function replyCount(m: unknown): number {
  if (m instanceof Uint8Array) return new Float64Array(m.slice().buffer)[0]!;
  const r = m as { count?: number; ts?: number };
  return r.count ?? r.ts!;
}
