// The far end of the zmq scenario (zmq.ts), in its own process:
//   zmq-peer channel ADDRESS CODEC   a Channel over ZeroMQ (Channel.connect of a tcp:// address)
//   zmq-peer pull PULL_ADDRESS PUSH_ADDRESS   raw zeromq.js: a PULL connected to the harness's
//                                    PUSH, and a PUSH back to its PULL for the count
// Both are sinks: they count messages until the end marker (the string 'end', or one byte
// 0xee), then reply with the count ({ count }, or 8 bytes for 'raw' and the raw sockets).
import { createRequire } from 'node:module';
import { Channel } from 'shmring';
import { countBytes, isEnd } from './payloads.js';

const [kind, address, codecOrBack] = process.argv.slice(2) as [string, `tcp://${string}`, string];

if (kind === 'channel') {
  const ch = Channel.connect(address, { codec: codecOrBack as 'raw' });
  let count = 0;
  ch.on('message', (m) => {
    if (!isEnd(m)) count++;
    else {
      ch.postMessage(codecOrBack === 'raw' ? countBytes(count) : { count });
      count = 0;
    }
  });
  ch.on('close', () => process.exit(0));
} else if (kind === 'pull') {
  const zmq = createRequire(import.meta.url)('zeromq') as typeof import('zeromq');
  const pull = new zmq.Pull({ receiveHighWaterMark: 1000 });
  const push = new zmq.Push({ linger: 0 });
  pull.connect(address);
  push.connect(codecOrBack);
  void (async () => {
    let count = 0;
    for await (const [m] of pull) {
      if (m!.length === 1 && m![0] === 0xee) {
        await push.send(countBytes(count));
        count = 0;
      } else count++;
    }
  })();
  process.on('SIGTERM', () => {
    pull.close();
    push.close();
    process.exit(0);
  });
} else {
  throw new Error(`unknown peer kind ${kind}`);
}
