// Scenario: the Channel against what a Node user has today, all in the same run, two
// processes each (MessagePort: two threads): one-way messages/s for small objects, arrays
// of 1,000 of them, 64 KiB and 1 MiB Buffers; the idle round trip with both sides in the
// event loop (a millisecond of idleness between rounds, so both sides go to sleep),
// median and p99; and fs.readFile latency in a process whose 1,000 channels wait idle.
// Competitors: Channel with the default codec, 'json', 'advanced' and 'raw' (Buffers), and
// for Buffers the Channel's two ways to move them once: each a fresh Buffer posted with its
// buffer in the transfer list, or written in place through claim(); child_process.fork IPC
// with json and advanced serialization; shmring's fork() with the
// same peer code and the same two serializations; a worker_threads MessagePort; a Unix
// socket carrying length-prefixed JSON; and, as references, the JS ceiling (ceiling.ts: the
// same encodings over a bare SpscRing, for small objects and arrays) and the ring's own
// zero-copy claim for 1 MiB Buffers. Typed messages (src/schema): the small object through a
// Channel whose codec is a schema, written straight into ring memory; a 64-byte fixed record
// the same way beside the bare ring copying 64 bytes per message; and in one process, a
// record read into a plain object against the same record read through the flyweight.
// Every run is bounded by a message count and by time.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Channel, fork as shmFork, Segment, SpscRing, type Claim } from 'shmring';
import { benchSegment, removeOnExit } from '../lib/segments.js';
import { byMode, type Row, type RunSettings, type Scenario } from '../lib/scenario.js';
import { PEER_EXEC_ARGV, peerFile, track } from '../lib/spawn.js';
import { summarize } from '../lib/stats.js';
import { runJs as syncFutexRoundTrip } from '../sync/pingpong.js';
import { CEILING_BYTES, coder, createRings, readReplies, type CeilingCodec } from './ceiling.js';
import { jsonFrame, jsonFrameReader } from './json-frames.js';
import { exited, oneWay, type Link, type OneWayBudget } from './link.js';
import { END_BYTES, END_TEXT, isBytes, isEnd, payload, PAYLOADS, record64, SCHEMA_END, SCHEMAS, type PayloadName, type SchemaName } from './payloads.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PEER = peerFile(HERE, 'peer');

type Mode = 'sink' | 'echo';

/**
 * How a 'raw' Channel's sender makes each message of a one-way run. oneWay() hands every
 * link the same payload: 'copy' posts it as it is; 'transfer' and 'claim' send a message of
 * its length made afresh, as an application moving big messages once would, and post the
 * end marker as it is.
 */
type RawSend = 'copy' | 'transfer' | 'claim';

/**
 * A fresh Buffer of `length` bytes with one write per 4 KiB: its pages are touched, so the
 * run pays for new memory as an application does, but not for a fill that neither the
 * un-transferred 'raw' row (its payload is filled once) nor the claim rows pay.
 */
function freshBuffer(length: number): Buffer {
  const bytes = Buffer.allocUnsafeSlow(length);
  for (let i = 0; i < length; i += 4096) bytes[i] = 7;
  return bytes;
}

/**
 * The zero-copy sender of a claim row: the application produces its data in place, and
 * writes here what bench/ring's zero-copy claim row writes into each claim (its first byte).
 */
function filler(): (bytes: Uint8Array) => void {
  let n = 0;
  return (bytes) => {
    bytes[0] = n++ & 0xff;
  };
}

function rawSender(ch: Channel, send: RawSend): (m: unknown) => boolean {
  if (send === 'copy') return (m) => ch.postMessage(m);
  if (send === 'transfer') {
    return (m) => {
      if (isEnd(m)) return ch.postMessage(m);
      const bytes = freshBuffer((m as Uint8Array).length);
      return ch.postMessage(bytes, [bytes.buffer]);
    };
  }
  const fill = filler();
  return (m) => {
    if (isEnd(m)) return ch.postMessage(m);
    const claim = ch.claim((m as Uint8Array).length);
    fill(claim.bytes);
    return claim.commit();
  };
}

function channelLink(codec: string, mode: Mode, send: RawSend = 'copy'): Link {
  const address = `shm:shmring-bench-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const schema = codec.startsWith('schema:') ? SCHEMAS[codec.slice('schema:'.length) as SchemaName] : undefined;
  const ch = Channel.create(address, { codec: schema ?? (codec as 'json'), capacity: 4 << 20, highWaterMark: 8 << 20 });
  const forget = removeOnExit(address); // Ctrl-C kills the peer before it can close its end
  const child = track(spawn(process.execPath, [...PEER_EXEC_ARGV, PEER, 'channel', address, codec, mode], { stdio: 'inherit' }));
  return {
    send: rawSender(ch, send),
    room: () => new Promise((resolve) => ch.once('drain', resolve)),
    onMessage: (h) => ch.on('message', h),
    close: async () => {
      ch.close();
      child.kill();
      await exited(child);
      try {
        Segment.unlink(address); // the peer was killed before it could close its end
      } catch {
        // removed by this side's peer watch already
      }
      forget();
    },
  };
}

/** A forked peer, by Node's fork or by shmring's (the same peer code: only the import differs). */
function forkLink(serialization: 'json' | 'advanced', mode: Mode, make: typeof fork = fork): Link {
  const child = track(make(PEER, ['fork', mode], { serialization, execArgv: PEER_EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  let sent = 0;
  let written: Promise<void> = Promise.resolve();
  return {
    send(m) {
      // Every 256th message waits until Node has written it, as a careful sender does
      // (send() returning false is advisory in Node and never stops the queue growing).
      if ((++sent & 255) !== 0) return child.send(m as object) || true;
      written = new Promise((resolve) => child.send(m as object, undefined, {}, () => resolve()));
      return false;
    },
    room: () => written,
    onMessage: (h) => child.on('message', h),
    close: async () => {
      if (child.connected) child.disconnect();
      await exited(child);
    },
  };
}

function portLink(mode: Mode): Link {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const { port, mode } = workerData;
     let count = 0;
     port.on('message', (m) => {
       if (mode === 'echo') return port.postMessage(m);
       if (m === 'end' || (m instanceof Uint8Array && m.length === 1 && m[0] === 0xee)) { port.postMessage({ count }); count = 0; } else count++;
     });`,
    { eval: true, workerData: { port: port2, mode }, transferList: [port2] },
  );
  let sent = 0;
  return {
    send(m) {
      port1.postMessage(m);
      return (++sent & 1023) !== 0; // MessagePort has no backpressure: yield to the loop now and then
    },
    room: () => new Promise((resolve) => setImmediate(resolve)),
    onMessage: (h) => port1.on('message', h),
    close: async () => {
      port1.close();
      await worker.terminate();
    },
  };
}

async function unixLink(mode: Mode): Promise<Link> {
  const dir = mkdtempSync(join(tmpdir(), 'shmring-bench-transport-'));
  const path = join(dir, 'socket');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const child = track(spawn(process.execPath, [...PEER_EXEC_ARGV, PEER, 'unix', path, mode], { stdio: 'inherit' }));
  const socket = await new Promise<Socket>((resolve) => server.once('connection', resolve));
  const handlers: Array<(m: unknown) => void> = [];
  socket.on('data', jsonFrameReader((message) => handlers.forEach((h) => h(message))));
  return {
    send: (m) => socket.write(jsonFrame(m)),
    room: () => new Promise((resolve) => socket.once('drain', resolve)),
    onMessage: (h) => handlers.push(h),
    close: async () => {
      socket.destroy();
      server.close();
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The JS ceiling (ceiling.ts): encode, write into an SpscRing; the far end drains and
 * decodes. For 'bytes', each message is claimed in the ring and filled in place as a
 * Channel claim row's are (the end marker is written as it is). One way only.
 */
function ceilingLink(codec: CeilingCodec, mode: Mode, copy = false): Link {
  if (mode !== 'sink') throw new Error('the JS ceiling is measured one way only');
  const { segment, address, release } = benchSegment(CEILING_BYTES);
  const rings = createRings(segment);
  const { encode, decode } = coder(codec);
  const child = track(spawn(process.execPath, [...PEER_EXEC_ARGV, PEER, 'ceiling', address, codec], { stdio: 'inherit' }));
  const handlers: Array<(m: unknown) => void> = [];
  void readReplies(rings.in, decode, (m) => handlers.forEach((h) => h(m)));
  let full: Promise<void> = Promise.resolve();
  const write = (m: unknown) => {
    const bytes = encode(m);
    if (rings.out.tryWrite(bytes)) return true;
    full = rings.out.writeAsync(bytes); // the caller awaits room() before its next send
    return false;
  };
  const fill = filler();
  const commit = (claim: Claim) => {
    fill(claim.bytes);
    claim.commit();
  };
  const claimed = (m: unknown) => {
    if (isEnd(m)) return write(m);
    const length = (m as Uint8Array).length;
    const claim = rings.out.tryClaim(length);
    if (claim !== null) {
      commit(claim);
      return true;
    }
    full = rings.out.claimAsync(length).then(commit);
    return false;
  };
  return {
    send: codec === 'bytes' && !copy ? claimed : write, // (copy: the bare ring's tryWrite of each message)
    room: () => full,
    onMessage: (h) => handlers.push(h),
    close: async () => {
      rings.out.close(); // the far end's wait ends with ERR_CLOSED and it exits
      rings.in.close();
      await exited(child);
      release();
    },
  };
}

interface Competitor {
  competitor: string;
  setup: string;
  link: (mode: Mode) => Link | Promise<Link>;
  /** Which payloads it carries (raw: bytes only). */
  carries: (name: PayloadName) => boolean;
  end: unknown;
  /** Set for a reference (the JS ceiling, the ring's claim), which the report must not take for a Node alternative. */
  family?: 'reference';
}

const COMPETITORS: Competitor[] = [
  { competitor: 'shmring Channel', setup: 'default codec (msgpackr structured clone)', link: (m) => channelLink('structured', m), carries: () => true, end: END_TEXT },
  { competitor: 'shmring Channel', setup: "'json'", link: (m) => channelLink('json', m), carries: (n) => !isBytes(n), end: END_TEXT },
  { competitor: 'shmring Channel', setup: "'advanced' (v8.serialize)", link: (m) => channelLink('advanced', m), carries: () => true, end: END_TEXT },
  { competitor: 'shmring Channel', setup: "'raw' (bytes)", link: (m) => channelLink('raw', m), carries: isBytes, end: END_BYTES },
  { competitor: 'shmring Channel', setup: "'raw' (bytes), transferred", link: (m) => channelLink('raw', m, 'transfer'), carries: isBytes, end: END_BYTES },
  { competitor: 'shmring Channel', setup: "'raw', claim (zero-copy send)", link: (m) => channelLink('raw', m, 'claim'), carries: isBytes, end: END_BYTES },
  { competitor: 'child_process IPC', setup: 'fork, json', link: (m) => forkLink('json', m), carries: (n) => !isBytes(n), end: END_TEXT },
  { competitor: 'child_process IPC', setup: 'fork, advanced', link: (m) => forkLink('advanced', m), carries: () => true, end: END_TEXT },
  { competitor: 'worker_threads', setup: 'MessagePort (two threads)', link: (m) => portLink(m), carries: () => true, end: END_TEXT },
  { competitor: 'Unix socket', setup: 'length-prefixed JSON', link: (m) => unixLink(m), carries: (n) => !isBytes(n), end: END_TEXT },
  { competitor: 'shmring fork', setup: 'fork, json', link: (m) => forkLink('json', m, shmFork), carries: (n) => !isBytes(n), end: END_TEXT },
  { competitor: 'shmring fork', setup: 'fork, advanced', link: (m) => forkLink('advanced', m, shmFork), carries: () => true, end: END_TEXT },
  // (last: the ratios below take the others by position)
  { competitor: 'shmring Channel', setup: "schema codec (struct { id: u32, ts: f64, payload: utf8(40) })", link: (m) => channelLink('schema:tick', m), carries: (n) => n === 'small', end: SCHEMA_END.tick },
];

/** The 64-byte fixed record: a schema Channel, and the bare ring copying 64 bytes per message (its bar). */
const RECORD_ROWS: Array<Competitor & { message: unknown }> = [
  { competitor: 'shmring Channel', setup: 'schema codec, 64 B fixed record (struct { seq: f64, ts: f64, values: f64[6] })', link: (m) => channelLink('schema:record64', m), carries: () => true, end: SCHEMA_END.record64, message: record64(1) },
  { competitor: 'SpscRing copy', setup: '64 B per message (tryWrite + drain), bare ring', link: (m) => ceilingLink('bytes', m, true), carries: () => true, end: END_BYTES, message: new Uint8Array(64).fill(7), family: 'reference' },
];

/**
 * One process, one ring: `count` small records written in place, then read back either into
 * plain objects (Schema.tryRead) or through the flyweight (Schema.drain), reading every field
 * of each, in batches that fit the ring; msgs/s of the reading.
 */
function readInProcess(how: 'plain' | 'flyweight', count: number, ms: number): number {
  const Tick = SCHEMAS.tick;
  const capacity = 1 << 20;
  const sab = new SharedArrayBuffer(SpscRing.requiredBytes(capacity));
  const producer = SpscRing.create(sab, { capacity, role: 'producer' });
  const consumer = SpscRing.open(sab, { role: 'consumer' });
  const value = payload('small') as { id: number; ts: number; payload: string };
  let sum = 0;
  const look = (r: Record<string, unknown>) => {
    sum += (r.id as number) + (r.ts as number) + (r.payload as string).length;
  };
  let read = 0;
  let spent = 0;
  const batch = 4096;
  try {
    while (read < count && spent < ms) {
      for (let i = 0; i < batch; i++) Tick.write(producer, value);
      const start = performance.now();
      if (how === 'plain') for (let i = 0; i < batch; i++) look(Tick.tryRead(consumer)!);
      else Tick.drain(consumer, look, batch);
      spent += performance.now() - start;
      read += batch;
    }
  } finally {
    producer.close();
    consumer.close();
  }
  if (sum === 0) throw new Error('nothing was read');
  return read / (spent / 1000);
}

/** The bars (ceiling.ts) for the Channel's default codec and fork()'s json (small objects and arrays of them), and for the Channel's claim (1 MiB). */
const CEILINGS: Competitor[] = [
  { competitor: 'JS ceiling', setup: 'SpscRing + msgpackr records', link: (m) => ceilingLink('msgpackr', m), carries: (n) => n === 'small' || n === 'array', end: END_TEXT, family: 'reference' },
  { competitor: 'JS ceiling', setup: 'SpscRing + JSON', link: (m) => ceilingLink('json', m), carries: (n) => n === 'small' || n === 'array', end: END_TEXT, family: 'reference' },
  // the bar for the Channel's claim(): the ring's zero-copy claim, the receiver looking at each record in place
  { competitor: 'SpscRing claim', setup: 'zero-copy claim + drain, bare ring', link: (m) => ceilingLink('bytes', m), carries: (n) => n === '1 MiB', end: END_BYTES, family: 'reference' },
];

interface Budget extends OneWayBudget {
  rounds: number;
  idleChannels: number;
}

function budgetFor(mode: RunSettings['mode'], name: PayloadName): Budget {
  const scale = byMode(mode, { tiny: 0.02, quick: 0.1, standard: 1, full: 4 });
  const count = name === 'small' ? 400_000 : name === 'array' ? 2_000 : name === '64 KiB' ? 20_000 : 1_000;
  return {
    count: Math.max(20, Math.floor(count * scale)),
    ms: byMode(mode, { tiny: 200, quick: 300, standard: 1_500, full: 5_000 }),
    rounds: byMode(mode, { tiny: 30, quick: 300, standard: 2_000, full: 10_000 }),
    idleChannels: byMode(mode, { tiny: 50, quick: 200, standard: 1_000, full: 1_000 }),
  };
}


/**
 * Idle round trips of a small object: median and p99 in µs. Every competitor first makes
 * `hot` round trips back to back, so that the code on its path is compiled as in a process
 * that has run for a while: with only idle rounds before it, shmring's JavaScript path (the
 * ring, framing, codec and signals, where Node's IPC runs mostly in C++) stayed at V8's low
 * tiers, and measured 210 µs a round trip against 113 µs after a burst of messages.
 */
async function roundTrips(link: Link, rounds: number, hot: number): Promise<{ median_us: number; p99_us: number }> {
  const message = payload('small');
  const samples = new Float64Array(rounds);
  const warm = Math.ceil(rounds / 10);
  let resolveReply: (() => void) | undefined;
  link.onMessage(() => resolveReply?.());
  for (let i = 0; i < hot; i++) {
    const reply = new Promise<void>((resolve) => (resolveReply = resolve));
    link.send(message);
    await reply;
  }
  for (let i = -warm; i < rounds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1)); // idle: both sides go to sleep
    const reply = new Promise<void>((resolve) => (resolveReply = resolve));
    const start = performance.now();
    link.send(message);
    await reply;
    if (i >= 0) samples[i] = (performance.now() - start) * 1000;
  }
  const { median, p99 } = summarize(samples);
  return { median_us: median, p99_us: p99 };
}

/** Median µs of `reads` fs.readFile calls of `file`. */
async function readFileMedian(file: string, reads: number): Promise<number> {
  const samples = new Float64Array(reads);
  for (let i = 0; i < reads; i++) {
    const start = performance.now();
    await readFile(file);
    samples[i] = (performance.now() - start) * 1000;
  }
  return summarize(samples).median;
}

/**
 * fs.readFile latency (µs, medians of `reads`) before, while and after `channels` channels
 * wait idle in this process. The reads without channels bracket the ones with them, after a
 * warm-up: a single "alone" figure taken at another moment of the run (cold, or in another
 * state of the CPU's frequency and idle states) differed from itself by 2× and more.
 */
async function readFileLatency(channels: number, reads: number, wake: 'socket' | 'futex'): Promise<{ before: number; during: number; after: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'shmring-bench-readfile-'));
  const file = join(dir, 'data');
  writeFileSync(file, Buffer.alloc(4096, 1));
  const open: Channel[] = [];
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
  try {
    await readFileMedian(file, reads * 2); // warm-up: the thread pool started, the code compiled
    const before = await readFileMedian(file, reads);
    for (let i = 0; i < channels; i++) {
      const a = Channel.create(undefined, { capacity: 4096, wake });
      const b = Channel.connect(a.address, { wake });
      a.on('message', () => {});
      b.on('message', () => {});
      open.push(a, b);
    }
    await settle();
    const during = await readFileMedian(file, reads);
    for (const ch of open.splice(0)) ch.close();
    await settle();
    const after = await readFileMedian(file, reads);
    return { before, during, after };
  } finally {
    for (const ch of open) ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

export const scenario: Scenario = {
  name: 'transport',
  description: 'Channel against child_process IPC, worker MessagePort and a Unix socket (one-way, idle round trip, idle channels)',
  async run(settings: RunSettings): Promise<Row[]> {
    const rows: Row[] = [];
    const rate = new Map<string, number>();
    const key = (c: Competitor, p: string) => `${c.competitor} ${c.setup} ${p}`;
    for (const name of PAYLOADS) {
      const budget = budgetFor(settings.mode, name);
      const message = payload(name);
      for (const c of [...COMPETITORS, ...CEILINGS]) {
        if (!c.carries(name)) continue;
        settings.progress(`transport one-way ${name}: ${c.competitor} ${c.setup}`);
        const link = await c.link('sink');
        try {
          const msgs = await oneWay(link, message, c.end, budget);
          rate.set(key(c, name), msgs);
          const family = c.family === undefined ? {} : { family: c.family };
          rows.push({ scenario: 'transport', competitor: c.competitor, setup: `${c.setup}, one-way, ${name}`, figures: { msgs_per_s: msgs }, ...family });
        } finally {
          await link.close();
        }
      }
    }
    const smallBudget = budgetFor(settings.mode, 'small');
    const recordRate: number[] = [];
    for (const c of RECORD_ROWS) {
      settings.progress(`transport one-way 64 B record: ${c.competitor} ${c.setup}`);
      const link = await c.link('sink');
      try {
        const msgs = await oneWay(link, c.message, c.end, smallBudget);
        recordRate.push(msgs);
        const family = c.family === undefined ? {} : { family: c.family };
        rows.push({ scenario: 'transport', competitor: c.competitor, setup: `${c.setup}, one-way`, figures: { msgs_per_s: msgs }, ...family });
      } finally {
        await link.close();
      }
    }
    const r64 = ratio(recordRate[0], recordRate[1]);
    if (r64 !== undefined) rows.find((r) => r.setup === `${RECORD_ROWS[0]!.setup}, one-way`)!.ratios = { '÷ SpscRing copy 64 B': r64 };
    settings.progress('transport: schema records read as plain objects and through the flyweight, one process');
    const inProcess = new Map<string, number>();
    for (const how of ['plain', 'flyweight'] as const) {
      readInProcess(how, smallBudget.count / 10, smallBudget.ms / 5); // warm-up
      inProcess.set(how, readInProcess(how, smallBudget.count, smallBudget.ms));
    }
    rows.push({ scenario: 'transport', competitor: 'shmring schema', setup: 'small record read into a plain object (tryRead), one process', figures: { msgs_per_s: inProcess.get('plain')! } });
    rows.push({
      scenario: 'transport',
      competitor: 'shmring schema',
      setup: 'small record read through the flyweight (drain), one process',
      figures: { msgs_per_s: inProcess.get('flyweight')! },
      ratios: { '÷ plain-object read': inProcess.get('flyweight')! / inProcess.get('plain')! },
    });
    const schemaSmall = COMPETITORS.at(-1)!;
    const schemaRatios: Record<string, number> = {};
    for (const [label, other] of [['÷ child_process IPC json', COMPETITORS[6]!], ['÷ default codec', COMPETITORS[0]!], ['÷ JS ceiling (msgpackr)', CEILINGS[0]!]] as const) {
      const r = ratio(rate.get(key(schemaSmall, 'small')), rate.get(key(other, 'small')));
      if (r !== undefined) schemaRatios[label] = r;
    }
    const schemaRow = rows.find((r) => r.setup === `${schemaSmall.setup}, one-way, small`);
    if (schemaRow !== undefined) schemaRow.ratios = schemaRatios;

    const [channel, , , raw, transferred, claimed, ipcJson, ipcAdvanced, port, , shmJson, shmAdvanced] = COMPETITORS as Competitor[] as [Competitor, Competitor, Competitor, Competitor, Competitor, Competitor, Competitor, Competitor, Competitor, Competitor, Competitor, Competitor];
    // shmring's fork against Node's, each serialization against its own
    for (const [mine, theirs] of [[shmJson, ipcJson], [shmAdvanced, ipcAdvanced]] as const) {
      for (const name of PAYLOADS) {
        const r = ratio(rate.get(key(mine, name)), rate.get(key(theirs, name)));
        const row = rows.find((x) => x.competitor === mine.competitor && x.setup === `${mine.setup}, one-way, ${name}`);
        if (r !== undefined && row !== undefined) row.ratios = { [`÷ child_process ${theirs.setup}`]: r };
      }
    }
    const smallRatios: Record<string, number> = {};
    const r1 = ratio(rate.get(key(channel, 'small')), rate.get(key(ipcJson, 'small')));
    const r2 = ratio(rate.get(key(channel, 'small')), rate.get(key(port, 'small')));
    if (r1 !== undefined) smallRatios['÷ child_process IPC json'] = r1;
    if (r2 !== undefined) smallRatios['÷ worker MessagePort'] = r2;
    rows.find((r) => r.competitor === channel.competitor && r.setup === `${channel.setup}, one-way, small`)!.ratios = smallRatios;
    for (const mine of [raw, transferred]) {
      const r3 = ratio(rate.get(key(mine, '1 MiB')), rate.get(key(ipcAdvanced, '1 MiB')));
      const row = rows.find((r) => r.competitor === mine.competitor && r.setup === `${mine.setup}, one-way, 1 MiB`);
      if (row !== undefined && r3 !== undefined) row.ratios = { '÷ child_process IPC advanced': r3 };
    }
    const [msgpackCeiling, jsonCeiling, claimBar] = CEILINGS as [Competitor, Competitor, Competitor];
    const r4 = ratio(rate.get(key(claimed, '1 MiB')), rate.get(key(claimBar, '1 MiB')));
    const claimRow = rows.find((r) => r.competitor === claimed.competitor && r.setup === `${claimed.setup}, one-way, 1 MiB`);
    if (claimRow !== undefined && r4 !== undefined) claimRow.ratios = { '÷ SpscRing zero-copy claim': r4 };
    // the Channel's default codec and fork()'s json against the bare ring with the same encoding
    for (const [mine, bar, label] of [[channel, msgpackCeiling, '÷ JS ceiling (msgpackr)'], [shmJson, jsonCeiling, '÷ JS ceiling (JSON)']] as const) {
      for (const name of ['small', 'array'] as const) {
        const r = ratio(rate.get(key(mine, name)), rate.get(key(bar, name)));
        const row = rows.find((x) => x.competitor === mine.competitor && x.setup === `${mine.setup}, one-way, ${name}`);
        if (r !== undefined && row !== undefined) row.ratios = { ...row.ratios, [label]: r };
      }
    }

    const rounds = budgetFor(settings.mode, 'small').rounds;
    const rtt = new Map<Competitor, { median_us: number; p99_us: number }>();
    for (const c of COMPETITORS) {
      if (!c.carries('small') || c === COMPETITORS[2]) continue; // one Channel codec suffices besides json
      settings.progress(`transport idle round trip: ${c.competitor} ${c.setup}`);
      const link = await c.link('echo');
      try {
        const figures = await roundTrips(link, rounds, byMode(settings.mode, { tiny: 100, quick: 5_000, standard: 20_000, full: 50_000 }));
        rtt.set(c, figures);
        rows.push({ scenario: 'transport', competitor: c.competitor, setup: `${c.setup}, idle round trip, small object`, figures: { ...figures, rounds } });
      } finally {
        await link.close();
      }
    }
    settings.progress('transport: sync futex round trip (the reference)');
    const futexRtt = await syncFutexRoundTrip('futex', rounds, 0, false);
    rows.push({ scenario: 'transport', competitor: 'shmring futex', setup: 'sync futex round trip (reference)', figures: { median_us: futexRtt.median, p99_us: futexRtt.p99, rounds } });
    const mine = rtt.get(channel);
    const channelRow = rows.find((r) => r.setup === `${channel.setup}, idle round trip, small object`);
    if (mine !== undefined && channelRow !== undefined) {
      const ratios: Record<string, number> = { 'median ÷ sync futex round trip': mine.median_us / futexRtt.median };
      const ipc = rtt.get(ipcJson);
      if (ipc !== undefined) ratios['median ÷ child_process IPC json'] = mine.median_us / ipc.median_us;
      channelRow.ratios = ratios;
    }
    const forkRtt = rtt.get(shmJson);
    const forkRow = rows.find((r) => r.competitor === shmJson.competitor && r.setup === `${shmJson.setup}, idle round trip, small object`);
    const ipcRtt = rtt.get(ipcJson);
    if (forkRtt !== undefined && forkRow !== undefined && ipcRtt !== undefined) forkRow.ratios = { 'median ÷ child_process IPC json': forkRtt.median_us / ipcRtt.median_us };

    const { idleChannels } = budgetFor(settings.mode, 'small');
    const reads = byMode(settings.mode, { tiny: 50, quick: 100, standard: 500, full: 500 });
    settings.progress(`transport: fs.readFile with ${idleChannels} idle channels`);
    for (const wake of ['socket', 'futex'] as const) {
      const { before, during, after } = await readFileLatency(idleChannels, reads, wake);
      rows.push({
        scenario: 'transport',
        competitor: 'shmring Channel',
        setup: `fs.readFile with ${idleChannels} idle channels (${wake} wake-up)`,
        figures: { readfile_median_us: during, before_median_us: before, after_median_us: after },
        ratios: { '÷ no channels (mean of before and after)': during / ((before + after) / 2) },
      });
    }
    return rows;
  },
};
