// Round trip of 64 bytes through a pair of pipes, Node streams on both ends: the ping
// process starts the pong process with piped stdio and times each round trip.
//   pipe-rtt-peer ping ROUNDS WARMUP_MS MEASURE_MS   prints median, p99, mean in µs and the rounds measured
//   pipe-rtt-peer pong                               echoes what it reads
// The warm-up (ROUNDS / 10 round trips) and the measurement (ROUNDS) each also end after
// their time in ms, so that a busy machine gives fewer round trips rather than a watchdog kill.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { summarize } from '../lib/stats.js';

const [role, roundsText, warmupMsText, measureMsText] = process.argv.slice(2);

if (role === 'pong') {
  process.stdin.on('data', (chunk: Buffer) => process.stdout.write(chunk));
} else {
  const rounds = Number(roundsText);
  const warmup = Math.floor(rounds / 10);
  const pong = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'pong'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const message = Buffer.alloc(64, 7);
  const samples = new Float64Array(rounds);
  const warmupMs = Number(warmupMsText ?? Infinity);
  const measureMs = Number(measureMsText ?? Infinity);
  let warming = warmup > 0;
  let warm = 0;
  let measured = 0;
  let received = 0;
  let t0 = performance.now();
  let until = t0 + (warming ? warmupMs : measureMs);
  const send = () => {
    t0 = performance.now();
    pong.stdin.write(message);
  };
  pong.stdout.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received < 64) return;
    received -= 64;
    const t1 = performance.now();
    if (warming) {
      if (++warm >= warmup || t1 > until) {
        warming = false;
        until = t1 + measureMs;
      }
    } else {
      samples[measured++] = (t1 - t0) * 1000;
      if (measured === rounds || t1 > until) {
        console.log(JSON.stringify({ ...summarize(samples.subarray(0, measured)), rounds: measured }));
        pong.kill();
        return;
      }
    }
    send();
  });
  send();
}
