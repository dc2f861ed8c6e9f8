// The task module of the pool scenario for ProcessPool and tinypool (a piscina worker file):
// the tiny task, a Buffer answered with a Buffer of its length, and a task that hangs after
// writing its pid (the crash workload kills that process).
import { writeFileSync } from 'node:fs';
import { move } from 'shmring';

export default function add({ a, b }) {
  return a + b;
}

/** A fresh Buffer of the argument's length: copied back as it is. */
export function echo(bytes) {
  const out = Buffer.allocUnsafeSlow(bytes.byteLength);
  out[0] = bytes[0];
  return out;
}

/** The same, moved back (ProcessPool's move(): no copy of its own). */
export function echoMoved(bytes) {
  return move(echo(bytes));
}

export function hang(file) {
  writeFileSync(file, String(process.pid));
  return new Promise(() => {});
}
