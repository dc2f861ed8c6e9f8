// Soak test for people (`npm run soak [-- --trials N --load-seconds S --progress-every N]`):
// thousands of SIGKILL trials of ring participants, then a longer multi-producer load,
// reporting trials, messages, losses, problems and memory before and after. Exit code 1 if
// any problem. SIGINT or SIGTERM stops it: its peers are killed and its segments removed.
// The summary is read before the rings close (a closed ring's pages may be gone), and it
// never reports fewer losses than a progress line did (test/soak.test.ts).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpmcRing, Segment, SpscRing } from 'shmring';

const PEER = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'fault-peer.mjs');
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  const value = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) {
    console.error(`usage: npm run soak -- [--trials N] [--load-seconds S] [--progress-every N]`);
    process.exit(2);
  }
  return value;
};
const TRIALS = option('--trials', 2000);
const LOAD_SECONDS = option('--load-seconds', 30);
const PROGRESS_EVERY = Math.max(1, option('--progress-every', 100));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seed = 20261122;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);

const peers = new Set<ReturnType<typeof spawn>>();

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
const names = [`shm:shmring-soak-${process.pid}-a`, `shm:shmring-soak-${process.pid}-b`];
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
  if ((trial + 1) % PROGRESS_EVERY === 0) process.stderr.write(`  … ${trial + 1}/${TRIALS} trials, ${messages} messages, ${mpmc.stats.lost} lost, ${problems} problems\n`);
}
const trialsSeconds = (Date.now() - startedAt) / 1000;

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
      rssBeforeMiB: Math.round(rssBefore / 2 ** 20),
      rssAfterMiB: Math.round(rssAfter / 2 ** 20),
    },
    null,
    2,
  ),
);
process.exitCode = problems === 0 ? 0 : 1;
