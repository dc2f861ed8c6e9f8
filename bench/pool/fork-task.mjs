// The child of the hand-written child_process.fork pool: [id, name, arg] in, [id, result] out.
import { writeFileSync } from 'node:fs';

const tasks = {
  add: ({ a, b }) => a + b,
  echo: (bytes) => {
    const out = Buffer.allocUnsafeSlow(bytes.byteLength);
    out[0] = bytes[0];
    return out;
  },
  hang: (file) => {
    writeFileSync(file, String(process.pid));
    return undefined; // never answered
  },
};

process.on('message', ([id, name, arg]) => {
  const result = tasks[name](arg);
  if (name !== 'hang') process.send([id, result]);
});
