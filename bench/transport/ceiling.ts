// The JS ceiling of the transport scenario: the least JavaScript can do to carry an object to
// another process over shmring, and so the bar for the Channel and fork(). The sender encodes
// (msgpackr with the options of the Channel's default codec, or JSON) and writes the bytes
// into an SpscRing, waiting with writeAsync when it is full; the receiver drains the ring,
// decodes each record in place and counts, waiting with waitReadableAsync when it is empty.
// Nothing else: no framing, no outbox, no events, no peer watch. For Buffers ('bytes') the
// least is the ring's own zero-copy path, the bar for the Channel's claim(): the sender claims
// room and writes in place, the receiver looks at each record where it lies. Both ends' rings
// and codecs live here; channel.ts starts the far end (peer.ts 'ceiling') and measures it as
// the others.
import { Packr, Unpackr } from 'msgpackr';
import { type Segment, SpscRing } from 'shmring';
import { countBytes, isEnd } from './payloads.js';

export type CeilingCodec = 'msgpackr' | 'json' | 'bytes';

/** Data bytes of the forward ring: the capacity the scenario gives its Channels. */
const CAPACITY = 4 << 20;
/** Data bytes of the reply ring, which carries one { count } per run. */
const REPLY_CAPACITY = 4096;
/** Where the reply ring starts in the segment: after the forward ring, on a 128-byte boundary (a ring region's alignment). */
const REPLY_OFFSET = Math.ceil(SpscRing.requiredBytes(CAPACITY) / 128) * 128;
/** Segment bytes both rings need. */
export const CEILING_BYTES = REPLY_OFFSET + SpscRing.requiredBytes(REPLY_CAPACITY);

/** The options of the Channel's default codec (msgpackOptions() in src/transport/codec.ts); fresh each time, as msgpackr keeps its record shapes in them. */
const msgpackOptions = () => ({ structuredClone: true, sequential: true, useBigIntExtension: true, copyBuffers: true });

/** One end's codec: encode for what it sends, decode for what it receives (each direction keeps its own msgpackr record state). */
export interface Coder {
  encode(value: unknown): Uint8Array;
  decode(view: Uint8Array): unknown;
}

export function coder(codec: CeilingCodec): Coder {
  if (codec === 'bytes') {
    return {
      // Uint8Arrays as they are; the sink's { count } as 8 bytes, as a 'raw' Channel's sink replies
      encode: (value) => (value instanceof Uint8Array ? value : countBytes((value as { count: number }).count)),
      decode: (view) => view,
    };
  }
  if (codec === 'json') {
    return {
      encode: (value) => Buffer.from(JSON.stringify(value)),
      // decoded where it lies in the ring, as the Channel's 'json' codec does
      decode: (view) => JSON.parse(Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString()),
    };
  }
  const packr = new Packr(msgpackOptions());
  const unpackr = new Unpackr(msgpackOptions());
  return { encode: (value) => packr.pack(value), decode: (view) => unpackr.unpack(view) };
}

/** The two rings of a ceiling run, seen from one end: what it writes and what it reads. */
export interface CeilingRings {
  out: SpscRing;
  in: SpscRing;
}

/** The near end (the sender) formats both rings of `segment`: it produces on the forward ring, consumes replies. */
export function createRings(segment: Segment): CeilingRings {
  return {
    out: SpscRing.create(segment, { capacity: CAPACITY, byteLength: REPLY_OFFSET, role: 'producer' }),
    in: SpscRing.create(segment, { capacity: REPLY_CAPACITY, byteOffset: REPLY_OFFSET, role: 'consumer' }),
  };
}

function openRings(segment: Segment): CeilingRings {
  return {
    in: SpscRing.open(segment, { byteLength: REPLY_OFFSET, role: 'consumer' }),
    out: SpscRing.open(segment, { byteOffset: REPLY_OFFSET, role: 'producer' }),
  };
}

const closed = (err: unknown) => (err as { code?: string }).code === 'ERR_CLOSED';

/**
 * The far end: counts messages until the end marker, then replies { count }; returns when
 * the sender closes its ring.
 */
export async function sink(segment: Segment, codec: CeilingCodec): Promise<void> {
  const rings = openRings(segment);
  const { encode, decode } = coder(codec);
  let count = 0;
  const take = (view: Uint8Array) => {
    if (!isEnd(decode(view))) {
      count++;
      return;
    }
    const reply = encode({ count });
    count = 0;
    if (!rings.out.tryWrite(reply)) void rings.out.writeAsync(reply);
  };
  try {
    for (;;) {
      if (rings.in.drain(take) === 0) await rings.in.waitReadableAsync();
    }
  } catch (err) {
    if (!closed(err)) throw err;
  } finally {
    rings.in.close();
    rings.out.close();
  }
}

/**
 * Reads the replies of the near end's `ring` until it closes, and hands each to `deliver`.
 * Any other failure (the peer died) is handed over too, so that the run waiting for a
 * count fails at once instead of waiting for it forever.
 */
export async function readReplies(ring: SpscRing, decode: Coder['decode'], deliver: (m: unknown) => void): Promise<void> {
  for (;;) {
    let bytes: Uint8Array;
    try {
      bytes = await ring.readAsync();
    } catch (err) {
      if (!closed(err)) deliver(err);
      return;
    }
    deliver(decode(bytes));
  }
}
