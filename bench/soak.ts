// Soak test for people (`npm run soak [-- --trials N --transport-trials N --load-seconds S
// --progress-every N --startup-kill-every N --sample-every N]`): thousands of SIGKILL trials
// of ring participants, then of transport peers (Channel ends and fork() children,
// soak-transport.ts), then a longer multi-producer load, reporting trials, messages, losses,
// problems, and memory and descriptors every thousand trials. Exit code 1 if any problem.
// SIGINT or SIGTERM stops it: its peers are killed and its segments removed. The summary is
// read before the rings close (a closed ring's pages may be gone), and it never reports
// fewer losses than a progress line did (test/soak.test.ts).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpmcRing, Segment, SpscRing } from 'shmring';
import { transportTrials } from './soak-transport.js';

const PEER = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'fault-peer.mjs');
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  const value = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) {
    console.error(`usage: npm run soak -- [--trials N] [--transport-trials N] [--load-seconds S] [--progress-every N] [--startup-kill-every N] [--sample-every N]`);
    process.exit(2);
  }
  return value;
};
const TRIALS = option('--trials', 2000);
const TRANSPORT_TRIALS = option('--transport-trials', 1000);
const LOAD_SECONDS = option('--load-seconds', 30);
const PROGRESS_EVERY = Math.max(1, option('--progress-every', 100));
/** Every Nth transport trial whose channel the soak makes (its Channel.create, or fork's) kills the peer as it starts; 0: never. */
const STARTUP_KILL_EVERY = option('--startup-kill-every', 8);
/** Memory and descriptors are sampled every N trials (ring and transport trials counted together). */
const SAMPLE_EVERY = Math.max(1, option('--sample-every', 1000));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seed = 20261122;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);

const peers = new Set<{ kill(signal: NodeJS.Signals): unknown }>();

function start(argv: string[]) {
  const child = spawn(process.execPath, [PEER, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  peers.add(child);
  child.on('exit', () => peers.delete(child));
  let ready = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (ready ||= d.includes('ready')));
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  return {
    async ready() {
      while (!ready) {
        if (child.exitCode !== null) throw new Error(`peer ${argv[0]} exited`);
        await sleep(1);
      }
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const seq = (m: Uint8Array) => new DataView(m.buffer, m.byteOffset).getUint32(4, true);
const prefix = `shmring-soak-${process.pid}-`;
const names = [`shm:${prefix}a`, `shm:${prefix}b`, `shm:${prefix}n`, `shm:${prefix}ch`];
process.on('exit', () => {
  for (const child of peers) child.kill('SIGKILL');
  for (const n of names) {
    try {
      Segment.unlink(n);
    } catch {
      // gone
    }
  }
});
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const samples: Array<{ trials: number; rssMiB: number; fds: number }> = [];
let trialsDone = 0;
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
const openFds = () => readdirSync('/proc/self/fd').length;
/** Descriptors the transport trials may leave open for good (opened once, on first use). */
const FD_SLACK = 4;

/** Processes other than this one that carry the soak's names in their arguments (its peers, orphaned). */
function strayProcesses(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(prefix);
      } catch {
        return false; // gone
      }
    })
    .map(Number);
}

function trialDone(): void {
  if (++trialsDone % SAMPLE_EVERY === 0) samples.push({ trials: trialsDone, rssMiB: mib(process.memoryUsage().rss), fds: openFds() });
}

const rssBefore = process.memoryUsage().rss;
const spsc = SpscRing.create(names[0]!, { capacity: 4096, role: 'consumer' });
const mpmc = MpmcRing.create(names[1]!, { slots: 64, slotSize: 16, repairDelayMs: 20 });
let messages = 0;
let problems = 0;
const startedAt = Date.now();
for (let trial = 0; trial < TRIALS; trial++) {
  const useSpsc = trial % 2 === 0;
  const victim = start([useSpsc ? 'spsc-producer' : 'mpmc-producer', useSpsc ? names[0]! : names[1]!, String(trial)]);
  await victim.ready();
  const seen: number[] = [];
  const until = Date.now() + (random() % 20);
  const drain = () => {
    for (let m = useSpsc ? spsc.tryRead() : mpmc.tryRead(); m !== null; m = useSpsc ? spsc.tryRead() : mpmc.tryRead()) seen.push(seq(m));
  };
  do {
    drain();
    await sleep(0);
  } while (Date.now() < until);
  const lostBefore = mpmc.stats.lost;
  await victim.kill();
  await sleep(useSpsc ? 0 : 60); // MPMC: past the repair delay
  drain();
  drain();
  const lost = useSpsc ? 0 : mpmc.stats.lost - lostBefore;
  const inOrder = seen.every((s, i) => (useSpsc ? s === i : i === 0 || s > seen[i - 1]!));
  const gaps = useSpsc ? 0 : seen.length === 0 ? 0 : seen[seen.length - 1]! + 1 - seen.length;
  if (!inOrder || lost > 1 || gaps > lost) problems++;
  messages += seen.length;
  trialDone();
  if ((trial + 1) % PROGRESS_EVERY === 0) process.stderr.write(`  … ${trial + 1}/${TRIALS} trials, ${messages} messages, ${mpmc.stats.lost} lost, ${problems} problems\n`);
}
const trialsSeconds = (Date.now() - startedAt) / 1000;

// Transport trials: Channel ends and fork() children killed at random moments.
const fdsBefore = openFds();
const transport = await transportTrials({
  trials: TRANSPORT_TRIALS,
  progressEvery: PROGRESS_EVERY,
  startupKillEvery: STARTUP_KILL_EVERY,
  random,
  countsAddress: names[2]!,
  channelAddress: names[3]!,
  peers,
  trialDone,
});
problems += transport.problems;
// Every trial closes what it opened (pidfds, doorbells, memfds, pipes): a few descriptors
// opened once (a first fork's, the loop's) are all the growth allowed.
const fdsAfter = openFds();
if (fdsAfter > fdsBefore + FD_SLACK) {
  problems++;
  process.stderr.write(`  ! ${fdsAfter - fdsBefore} more descriptors open after the transport trials (${fdsBefore} → ${fdsAfter})\n`);
}

// Multi-producer load: three producers and this consumer on the MPMC ring.
const producers = [0, 1, 2].map((i) => start(['mpmc-producer', names[1]!, String(100_000 + i)]));
for (const p of producers) await p.ready();
const last = new Map<number, number>();
let loadMessages = 0;
const loadUntil = Date.now() + LOAD_SECONDS * 1000;
while (Date.now() < loadUntil) {
  for (let m = mpmc.tryRead(); m !== null; m = mpmc.tryRead()) {
    const id = new DataView(m.buffer, m.byteOffset).getUint32(0, true);
    if (id >= 100_000) {
      if ((last.get(id) ?? -1) >= seq(m)) problems++;
      last.set(id, seq(m));
      loadMessages++;
    }
  }
  await sleep(0);
}
for (const p of producers) await p.kill();
// Read before close(): the pages of a ring's segment may be gone once it is closed.
const lost = mpmc.stats.lost;
spsc.close();
mpmc.close();
const rssAfter = process.memoryUsage().rss;
const stray = strayProcesses();
if (stray.length > 0) {
  problems++;
  process.stderr.write(`  ! processes of the soak still running: ${stray.join(', ')}\n`);
}
if (samples.at(-1)?.trials !== trialsDone) samples.push({ trials: trialsDone, rssMiB: mib(rssAfter), fds: openFds() });
console.log(
  JSON.stringify(
    {
      trials: TRIALS,
      trialSeconds: Math.round(trialsSeconds),
      trialMessages: messages,
      lost,
      loadSeconds: LOAD_SECONDS,
      loadMessages,
      problems,
      transport,
      fdsBefore,
      fdsAfter,
      rssBeforeMiB: mib(rssBefore),
      rssAfterMiB: mib(rssAfter),
      // every SAMPLE_EVERY trials (ring, then transport), and at the end (after the load)
      sampleEvery: SAMPLE_EVERY,
      memorySamples: samples,
    },
    null,
    2,
  ),
);
process.exitCode = problems === 0 ? 0 : 1;
