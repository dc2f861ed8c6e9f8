// Length-prefixed JSON over a byte stream, as the Unix socket competitor frames it:
// a u32 little-endian length, then that many bytes of JSON.

export function jsonFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32LE(body.length);
  return Buffer.concat([head, body]);
}

/** A 'data' listener that calls `onMessage` for each whole frame, keeping partial ones. */
export function jsonFrameReader(onMessage: (message: unknown) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (pending.length - at >= 4) {
      const length = pending.readUInt32LE(at);
      if (pending.length - at - 4 < length) break;
      const message = JSON.parse(pending.toString('utf8', at + 4, at + 4 + length)) as unknown;
      at += 4 + length;
      onMessage(message);
    }
    pending = pending.subarray(at);
  };
}
