// Scenario: one-way throughput between two processes for 64 B, 1 KiB, 64 KiB and 1 MiB
// messages. Competitors, each a setup of its own: single-core memcpy (the limit), the C reference ring (fenced and
// release publication, per message and batched), shmring SPSC publishing each message before
// the call returns (its default: copy, readInto, zero-copy claim), each against the C ring that
// publishes each message with a fenced store as Atomics.store does, and batched on request
// (tryWriteMany, cork()/uncork(), batching: 'task'), each against the batched C ring,
// shmring MPMC (1→1, 2→2); Node byte streams with length-prefix framing (Unix socket, TCP
// loopback, pipe); POSIX and System V message queues; child_process IPC (json, advanced); a
// worker_threads MessagePort; a piscina pool. Each JS
// figure is paired with the C figure measured next to it; ratios are medians over rounds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpmcRing, Segment, SpscRing } from 'shmring';
import { posixQueue, sysvQueue } from '#queues';
import { buildC } from '../lib/available.js';
import { benchSegment } from '../lib/segments.js';
import { CONTROL_BYTES, Control } from '../lib/control.js';
import { byMode, type Row, type RunSettings, type Scenario } from '../lib/scenario.js';
import { peer, peerFile, run, spawnPeer } from '../lib/spawn.js';
import { missing } from '../lib/available.js';
import { median } from '../lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SIZES = [64, 1024, 65536, 1048576];

function label(size: number): string {
  return size >= 1048576 ? `${size / 1048576} MiB` : size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
}

/** Messages per repetition: about `bytes` of payload, at least a few. */
export function countFor(size: number, mode: RunSettings['mode']): number {
  const bytes = byMode(mode, { tiny: 4 * 2 ** 20, quick: 8 * 2 ** 20, standard: 64 * 2 ** 20, full: 512 * 2 ** 20 });
  const cap = byMode(mode, { tiny: 20_000, quick: 50_000, standard: 500_000, full: 4_000_000 });
  return Math.max(16, Math.min(cap, Math.floor(bytes / size)));
}

function capacityFor(size: number): number {
  let capacity = 2 ** 20;
  while (size + 8 > capacity / 2) capacity *= 2;
  return capacity;
}

/** Repetitions of one measure: the first `warm` ones only warm it up, and are not counted. */
export interface Reps {
  warm: number;
  measured: number;
}

/**
 * Messages every measure sends before its measured repetitions, in whole repetitions (at
 * most MAX_WARM_REPS). V8 compiles a JS peer's loop and the ring's methods within the first
 * tens of milliseconds, and on two cores each compile job takes the CPU of one of the
 * peers meanwhile. Measured with the peers of this file: 1 KiB messages reached their
 * steady rate after 130,000–200,000 messages (0.5–0.7 µs a message before, 0.1–0.2 after);
 * 64 KiB messages after 3,000–4,000 (8–18 µs before, 2–6 after); 1 MiB messages after
 * 300–400. C and JS measures alike get the same warm-up.
 */
const WARM_MESSAGES = 200_000;
const MAX_WARM_REPS = 8;

export function repsFor(count: number, mode: RunSettings['mode']): Reps {
  if (mode === 'tiny') return { warm: 1, measured: 1 };
  // A quick run warms up as the others do: a cold peer's figure is several times too slow,
  // and the warm-up costs milliseconds where starting the peers costs a tenth of a second.
  return { warm: Math.min(MAX_WARM_REPS, Math.ceil(WARM_MESSAGES / count)), measured: mode === 'quick' ? 2 : 3 };
}

const total = (reps: Reps) => reps.warm + reps.measured;

/** Median ns per measured repetition. */
function repTime(durations: number[], reps: Reps): number {
  return median(durations.slice(reps.warm));
}

async function cRing(size: number, count: number, reps: Reps, publish: 'fenced' | 'release', batch: number): Promise<number> {
  const binary = buildC(join(HERE, 'cring.c'));
  const out = await run([binary, String(size), String(count), String(total(reps)), publish, String(batch)]);
  return repTime(JSON.parse(out.stdout) as number[], reps);
}

/** Single-core memcpy of the same blocks: the physical limit, in ns for `count` blocks. */
async function memcpy(size: number, count: number): Promise<number> {
  const binary = buildC(join(HERE, 'memcpy.c'));
  const out = await run([binary, String(size), String(count)]);
  return (JSON.parse(out.stdout) as { seconds: number }).seconds * 1e9;
}

async function spsc(size: number, count: number, reps: Reps, producerMode: string, consumerMode: string): Promise<number> {
  const capacity = capacityFor(size);
  const { segment: seg, address, release } = benchSegment(SpscRing.requiredBytes(capacity) + CONTROL_BYTES);
  try {
    SpscRing.create(seg, { capacity }).close();
    const control = new Control(seg.buffer, seg.size);
    const file = peerFile(HERE, 'spsc-peer');
    await Promise.all([
      run(peer(file, ['consumer', address, size, count, total(reps), consumerMode])),
      run(peer(file, ['producer', address, size, count, total(reps), producerMode])),
    ]);
    return repTime(control.durations(total(reps)), reps);
  } finally {
    release();
  }
}

async function mpmc(size: number, count: number, reps: Reps, producers: number, consumers: number): Promise<number> {
  const slotSize = Math.max(16, (size + 8 + 7) & ~7);
  const slots = Math.max(2, 2 ** Math.floor(Math.log2(Math.max(2, capacityFor(size) / slotSize))));
  const { segment: seg, address, release } = benchSegment(MpmcRing.requiredBytes(slots, slotSize) + CONTROL_BYTES);
  try {
    MpmcRing.create(seg, { slots, slotSize }).close();
    const control = new Control(seg.buffer, seg.size);
    const file = peerFile(HERE, 'mpmc-peer');
    const perProducer = Math.floor(count / producers);
    const args = (role: string) => [role, address, size, perProducer, total(reps), producers, consumers];
    await Promise.all([
      ...Array.from({ length: consumers }, () => run(peer(file, args('consumer')))),
      ...Array.from({ length: producers }, () => run(peer(file, args('producer')))),
    ]);
    return repTime(control.durations(total(reps)), reps) * (count / (perProducer * producers));
  } finally {
    release();
  }
}

async function stream(transport: 'unix' | 'tcp' | 'pipe', size: number, count: number, reps: Reps): Promise<number> {
  const seg = Segment.anonymous(CONTROL_BYTES);
  const dir = mkdtempSync(join(tmpdir(), 'shmring-bench-sock-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', cleanup); // Ctrl-C ends the harness with process.exit
  try {
    const control = new Control(seg.buffer, seg.size);
    const file = peerFile(HERE, 'stream-peer');
    const args = (role: string) => [role, transport, size, count, total(reps), join(dir, 'socket')];
    if (transport === 'pipe') {
      // the sender's stdout is the receiver's stdin
      const sender = spawnPeer(peer(file, args('sender')), ['ignore', 'pipe', 'pipe', seg.fd!], 120_000, true);
      const receiver = run(peer(file, args('receiver')), [sender.child.stdout!, 'pipe', 'pipe', seg.fd!]);
      sender.child.stdout!.destroy(); // the receiver holds the read end now
      await Promise.all([receiver, sender.done]);
    } else {
      const stdio = ['ignore', 'pipe', 'pipe', seg.fd!] as const;
      await Promise.all([run(peer(file, args('receiver')), [...stdio]), run(peer(file, args('sender')), [...stdio])]);
    }
    return repTime(control.durations(total(reps)), reps);
  } finally {
    seg.close();
    cleanup();
    process.off('exit', cleanup);
  }
}

/** The queue limits of this machine class: messages of at most 8 KiB (POSIX and System V). */
const QUEUE_MESSAGE_LIMIT = 8192;

async function queue(kind: 'posix' | 'sysv', size: number, count: number, reps: Reps): Promise<number> {
  if (size > QUEUE_MESSAGE_LIMIT) throw new Error(`skipped: ${size}-byte messages are over the ${QUEUE_MESSAGE_LIMIT}-byte queue limit`);
  const seg = Segment.anonymous(CONTROL_BYTES);
  const name = kind === 'posix' ? `/shmring-bench-${process.pid}` : String(0x5b000000 | (process.pid & 0xffffff));
  const id = kind === 'posix' ? posixQueue.create(name, 10, QUEUE_MESSAGE_LIMIT) : sysvQueue.create(Number(name));
  const remove = () => {
    try {
      if (kind === 'posix') {
        posixQueue.close(id);
        posixQueue.unlink(name);
      } else {
        sysvQueue.remove(id);
      }
    } catch {
      // already removed
    }
  };
  process.on('exit', remove); // Ctrl-C ends the harness with process.exit
  try {
    const control = new Control(seg.buffer, seg.size);
    const stdio = ['ignore', 'pipe', 'pipe', seg.fd!] as const;
    const file = peerFile(HERE, 'queue-peer');
    const args = (role: string) => [role, kind, name, size, count, total(reps)];
    await Promise.all([run(peer(file, args('receiver')), [...stdio]), run(peer(file, args('sender')), [...stdio])]);
    return repTime(control.durations(total(reps)), reps);
  } finally {
    seg.close();
    remove();
    process.off('exit', remove);
  }
}

/** The message-passing baselines whose messages are objects on the heap: capped in count. */
const HEAP_MESSAGES = 100_000;
/** piscina runs tens of thousands of tasks a second: fewer of them keep the run short. */
const PISCINA_TASKS = 20_000;

/**
 * Runs a one-process peer (it forks or starts its own other side) that sends `sent` of the
 * `count` messages, with the control block at fd:3; the time is scaled back to `count`.
 */
async function onePeer(file: string, args: Array<string | number>, sent: number, count: number, reps: Reps): Promise<number> {
  const seg = Segment.anonymous(CONTROL_BYTES);
  try {
    const control = new Control(seg.buffer, seg.size);
    await run(peer(peerFile(HERE, file), args), ['ignore', 'pipe', 'pipe', seg.fd!]);
    return (repTime(control.durations(total(reps)), reps) * count) / sent;
  } finally {
    seg.close();
  }
}

function ipc(serialization: 'json' | 'advanced', size: number, count: number, reps: Reps): Promise<number> {
  const sent = Math.min(count, HEAP_MESSAGES);
  return onePeer('ipc-peer', ['receiver', serialization, size, sent, total(reps)], sent, count, reps);
}

function piscina(size: number, count: number, reps: Reps): Promise<number> {
  const absent = missing('piscina');
  if (absent !== undefined) return Promise.reject(new Error(absent));
  const sent = Math.min(count, PISCINA_TASKS);
  return onePeer('piscina-peer', [size, sent, total(reps)], sent, count, reps);
}

function port(size: number, count: number, reps: Reps): Promise<number> {
  const sent = Math.min(count, HEAP_MESSAGES);
  return onePeer('port-peer', [size, sent, total(reps)], sent, count, reps);
}

interface Measure {
  competitor: string;
  setup: string;
  /** The baseline this figure is divided by (a key of the same round), if any. */
  versus?: string[];
  sizes?: number[];
  run: (size: number, count: number, reps: Reps) => Promise<number>;
}

export const MEASURES: Measure[] = [
  { competitor: 'memcpy', setup: 'one core, the physical limit', run: (s, c) => memcpy(s, c) },
  { competitor: 'C ring', setup: 'per message, fenced publish', run: (s, c, r) => cRing(s, c, r, 'fenced', 1) },
  { competitor: 'C ring', setup: 'per message, release publish', run: (s, c, r) => cRing(s, c, r, 'release', 1) },
  { competitor: 'C ring', setup: 'batched 64, release publish', run: (s, c, r) => cRing(s, c, r, 'release', 64) },
  { competitor: 'shmring SPSC', setup: 'copy per message', versus: ['C ring/per message, fenced publish', 'Unix socket/length-prefixed frames', 'pipe/length-prefixed frames', 'POSIX mq/mq_send / mq_receive (10 messages, 8 KiB limit)', 'System V msgq/msgsnd / msgrcv (16 KiB queue, 8 KiB limit)', 'TCP loopback/length-prefixed frames', 'child_process IPC/advanced (Uint8Array)', 'worker_threads/MessagePort (Uint8Array, one process)', 'piscina/pool.run(Uint8Array), one worker thread'], run: (s, c, r) => spsc(s, c, r, 'copy', 'copy') },
  { competitor: 'shmring SPSC', setup: 'copy into a reused buffer (readInto)', versus: ['C ring/per message, fenced publish'], run: (s, c, r) => spsc(s, c, r, 'copy', 'into') },
  { competitor: 'shmring SPSC', setup: 'batched 64 + drain', versus: ['C ring/batched 64, release publish'], run: (s, c, r) => spsc(s, c, r, 'batch', 'drain') },
  { competitor: 'shmring SPSC', setup: 'cork 64 / uncork + drain', versus: ['C ring/batched 64, release publish'], run: (s, c, r) => spsc(s, c, r, 'cork', 'drain') },
  // The setup 'copy per message' had before writes published each message by default.
  { competitor: 'shmring SPSC', setup: "copy, batching: 'task' (tryRead)", versus: ['C ring/batched 64, release publish'], run: (s, c, r) => spsc(s, c, r, 'task', 'task') },
  { competitor: 'shmring SPSC', setup: 'zero-copy claim + drain', versus: ['C ring/per message, fenced publish'], run: (s, c, r) => spsc(s, c, r, 'claim', 'drain') },
  { competitor: 'shmring MPMC', setup: '1 → 1', versus: ['C ring/per message, fenced publish'], sizes: [64, 1024, 65536], run: (s, c, r) => mpmc(s, c, r, 1, 1) },
  { competitor: 'shmring MPMC', setup: '2 → 2', versus: ['C ring/per message, fenced publish'], sizes: [64, 1024, 65536], run: (s, c, r) => mpmc(s, c, r, 2, 2) },
  { competitor: 'Unix socket', setup: 'length-prefixed frames', run: (s, c, r) => stream('unix', s, c, r) },
  { competitor: 'TCP loopback', setup: 'length-prefixed frames', run: (s, c, r) => stream('tcp', s, c, r) },
  { competitor: 'pipe', setup: 'length-prefixed frames', run: (s, c, r) => stream('pipe', s, c, r) },
  { competitor: 'POSIX mq', setup: 'mq_send / mq_receive (10 messages, 8 KiB limit)', sizes: [64, 1024], run: (s, c, r) => queue('posix', s, c, r) },
  { competitor: 'System V msgq', setup: 'msgsnd / msgrcv (16 KiB queue, 8 KiB limit)', sizes: [64, 1024], run: (s, c, r) => queue('sysv', s, c, r) },
  { competitor: 'child_process IPC', setup: 'json (string payload)', run: (s, c, r) => ipc('json', s, c, r) },
  { competitor: 'child_process IPC', setup: 'advanced (Uint8Array)', run: (s, c, r) => ipc('advanced', s, c, r) },
  { competitor: 'worker_threads', setup: 'MessagePort (Uint8Array, one process)', run: port },
  { competitor: 'piscina', setup: 'pool.run(Uint8Array), one worker thread', run: piscina },
];

export const scenario: Scenario = {
  name: 'throughput',
  description: 'one-way throughput between two processes, by message size',
  async run(settings: RunSettings): Promise<Row[]> {
    const rounds = settings.mode === 'full' ? 3 : 1; // each run has its own warm-up and repetitions
    const rows: Row[] = [];
    // A quick run measures the two ends (64 B and 1 MiB): starting the peers of each measure
    // costs a few tenths of a second, and a size is twenty measures.
    for (const size of settings.mode === 'quick' ? [SIZES[0]!, SIZES[SIZES.length - 1]!] : SIZES) {
      const count = countFor(size, settings.mode);
      const reps = repsFor(count, settings.mode);
      const perRound: Array<Map<string, number>> = [];
      const reasons = new Map<string, string>();
      for (let round = 0; round < rounds; round++) {
        const times = new Map<string, number>();
        const failed = new Map<string, string>();
        for (const m of MEASURES) {
          if (m.sizes !== undefined && !m.sizes.includes(size)) continue;
          const key = `${m.competitor}/${m.setup}`;
          settings.progress(`throughput ${label(size)}: ${key} (round ${round + 1}/${rounds})`);
          try {
            times.set(key, await m.run(size, count, reps));
          } catch (err) {
            failed.set(key, (err as Error).message);
            settings.progress(`  skipped: ${(err as Error).message}`);
          }
        }
        perRound.push(times);
        for (const [key, reason] of failed) reasons.set(key, reason);
      }
      for (const m of MEASURES) {
        const key = `${m.competitor}/${m.setup}`;
        const ns = perRound.map((t) => t.get(key)).filter((x): x is number => x !== undefined);
        if (m.sizes !== undefined && !m.sizes.includes(size)) continue;
        if (ns.length === 0) {
          rows.push({ scenario: 'throughput', competitor: m.competitor, setup: `${m.setup}, ${label(size)}`, figures: {}, skipped: reasons.get(key) ?? 'failed to run (see progress output)' });
          continue;
        }
        const seconds = median(ns) / 1e9;
        const ratios: Record<string, number> = {};
        for (const base of m.versus ?? []) {
          const paired = perRound.filter((t) => t.has(key) && t.has(base)).map((t) => t.get(base)! / t.get(key)!);
          if (paired.length > 0) ratios[`÷ ${base.replace('/', ' ')}`] = median(paired);
        }
        rows.push({
          scenario: 'throughput',
          competitor: m.competitor,
          setup: `${m.setup}, ${label(size)}`,
          figures: { msgs_per_s: count / seconds, mb_per_s: (count * size) / seconds / 1e6, messages: count },
          ratios,
        });
      }
    }
    return rows;
  },
};
