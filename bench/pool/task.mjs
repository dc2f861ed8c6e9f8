// The task module of the pool scenario for ProcessPool and tinypool (a piscina worker file):
// the tiny task, a Buffer answered with a Buffer of its length, and a task that hangs after
// writing its pid (the crash workload kills that process).
import { writeFileSync } from 'node:fs';

// ProcessPool's move() marks a value with piscina's registered symbols; written out here so
// that this file loads nothing but node:fs (tinypool's workers load it too, and the crash
// workload times a worker's start).
const move = (bytes) => ({ [Symbol.for('Piscina.transferable')]: bytes.buffer, [Symbol.for('Piscina.valueOf')]: bytes });

export default function add({ a, b }) {
  return a + b;
}

/** A fresh Buffer of the argument's length: copied back as it is. */
export function echo(bytes) {
  const out = Buffer.allocUnsafeSlow(bytes.byteLength);
  out[0] = bytes[0];
  return out;
}

/** The same, moved back (as ProcessPool's move() marks it: no copy of its own). */
export function echoMoved(bytes) {
  return move(echo(bytes));
}

export function hang(file) {
  writeFileSync(file, String(process.pid));
  return new Promise(() => {});
}
