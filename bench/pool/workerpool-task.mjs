// The task module of the pool scenario for workerpool (workerType 'process'): task.mjs's
// tasks, registered as workerpool wants them.
import { writeFileSync } from 'node:fs';
import workerpool from 'workerpool';

workerpool.worker({
  add: ({ a, b }) => a + b,
  echo: (bytes) => {
    const out = Buffer.allocUnsafeSlow(bytes.byteLength);
    out[0] = bytes[0];
    return out;
  },
  hang: (file) => {
    writeFileSync(file, String(process.pid));
    return new Promise(() => {});
  },
});
