// The task module of the pool scenario for piscina: task.mjs's tasks, the Buffer moved back
// with piscina's own move().
import { move } from 'piscina';

export default function add({ a, b }) {
  return a + b;
}

export function echoMoved(bytes) {
  const out = Buffer.allocUnsafeSlow(bytes.byteLength);
  out[0] = bytes[0];
  return move(out);
}
