// A child_process.fork program moved to shared memory by changing one import:
//   - import { fork } from 'node:child_process';
//   + import { fork } from 'shmring';
// The child (child.mjs) is unchanged. Run: node examples/fork/parent.mjs
import { fork } from 'shmring';

const child = fork(new URL('./child.mjs', import.meta.url).pathname);
let replies = 0;
child.on('message', (reply) => {
  if (++replies === 1000) {
    console.log(`ok: 1000 replies, the last ${JSON.stringify(reply)}`);
    child.disconnect();
  }
});
for (let i = 0; i < 1000; i++) child.send({ n: i });
