// Round trip of 64 bytes through a pair of pipes, Node streams on both ends: the ping
// process starts the pong process with piped stdio and times each round trip.
//   pipe-rtt-peer ping ROUNDS      prints median, p99 and mean in µs
//   pipe-rtt-peer pong             echoes what it reads
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { summarize } from '../lib/stats.js';

const [role, roundsText] = process.argv.slice(2);

if (role === 'pong') {
  process.stdin.on('data', (chunk: Buffer) => process.stdout.write(chunk));
} else {
  const rounds = Number(roundsText);
  const warmup = Math.floor(rounds / 10);
  const pong = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'pong'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const message = Buffer.alloc(64, 7);
  const samples = new Float64Array(rounds);
  let k = 0;
  let received = 0;
  let t0 = 0;
  const send = () => {
    t0 = performance.now();
    pong.stdin.write(message);
  };
  pong.stdout.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received < 64) return;
    received -= 64;
    if (k >= warmup) samples[k - warmup] = (performance.now() - t0) * 1000;
    if (++k < warmup + rounds) send();
    else {
      console.log(JSON.stringify(summarize(samples)));
      pong.kill();
    }
  });
  send();
}
