// Scenario zmq: the Channel over ZeroMQ (tcp:// on loopback, two processes) against what it
// stands on and beside. One-way messages/s of 64 B and 64 KiB Buffers (codec 'raw') against
// raw zeromq.js PUSH/PULL with the same payload (the engine's own figure: the Channel should
// keep most of it); small objects (the default codec) against child_process IPC json; and the
// shared-memory Channel against the Channel over ZeroMQ on one host (what the network
// transport costs where shared memory would do). Ratios are within this run. Every run is
// bounded by a message count and by time. Skipped, with the reason, without zeromq.
import { fork, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Channel, Segment } from 'shmring';
import { load, missing } from '../lib/available.js';
import { byMode, type Row, type RunSettings, type Scenario } from '../lib/scenario.js';
import { removeOnExit } from '../lib/segments.js';
import { PEER_EXEC_ARGV, peerFile, track } from '../lib/spawn.js';
import { END_BYTES, END_TEXT, payload } from './payloads.js';
import { exited, oneWay, type Link, type OneWayBudget } from './link.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ZMQ_PEER = peerFile(HERE, 'zmq-peer');
const SHM_PEER = peerFile(HERE, 'peer');

type Zmq = typeof import('zeromq');

async function zmqChannelLink(codec: 'raw' | 'structured'): Promise<Link> {
  const ch = Channel.create('tcp://127.0.0.1:0', { codec, linger: 0 });
  const connected = new Promise((resolve) => ch.once('connect', () => resolve(undefined)));
  const child = track(spawn(process.execPath, [...PEER_EXEC_ARGV, ZMQ_PEER, 'channel', ch.address, codec], { stdio: 'inherit' }));
  await connected;
  return {
    send: (m) => ch.postMessage(m),
    room: () => new Promise((resolve) => ch.once('drain', resolve)),
    onMessage: (h) => ch.on('message', h),
    close: async () => {
      ch.close(); // the peer exits on its 'close'
      await exited(child);
    },
  };
}

/** Raw zeromq.js as its users write it: `await push.send(m)` for each message, PULL at the far end. */
async function pushPullLink(zmq: Zmq): Promise<Link> {
  const push = new zmq.Push({ sendHighWaterMark: 1000, linger: 0 });
  const back = new zmq.Pull({ linger: 0 });
  await push.bind('tcp://127.0.0.1:*');
  await back.bind('tcp://127.0.0.1:*');
  const child = track(spawn(process.execPath, [...PEER_EXEC_ARGV, ZMQ_PEER, 'pull', push.lastEndpoint!, back.lastEndpoint!], { stdio: 'inherit' }));
  let sending: Promise<void> = Promise.resolve();
  const handlers: Array<(m: unknown) => void> = [];
  void (async () => {
    try {
      for await (const [m] of back) for (const h of handlers) h(new Uint8Array(m!));
    } catch {
      // closed
    }
  })();
  return {
    send(m) {
      sending = push.send(m as Uint8Array);
      return false;
    },
    room: () => sending,
    onMessage: (h) => handlers.push(h),
    close: async () => {
      child.kill('SIGTERM');
      await exited(child);
      push.close();
      back.close();
    },
  };
}

/** The shared-memory Channel to bench/transport/peer.ts, as the transport scenario runs it. */
function shmChannelLink(): Link {
  const address = `shm:shmring-bench-${process.pid}-zmq-${Math.random().toString(36).slice(2)}`;
  const ch = Channel.create(address, { capacity: 4 << 20, highWaterMark: 8 << 20 });
  const forget = removeOnExit(address);
  const child = track(spawn(process.execPath, [...PEER_EXEC_ARGV, SHM_PEER, 'channel', address, 'structured', 'sink'], { stdio: 'inherit' }));
  return {
    send: (m) => ch.postMessage(m),
    room: () => new Promise((resolve) => ch.once('drain', resolve)),
    onMessage: (h) => ch.on('message', h),
    close: async () => {
      ch.close();
      child.kill();
      await exited(child);
      try {
        Segment.unlink(address);
      } catch {
        // removed by this side already
      }
      forget();
    },
  };
}

/** child_process.fork IPC with json serialization, waiting for Node's write every 256 messages (as transport does). */
function ipcLink(): Link {
  const child = track(fork(SHM_PEER, ['fork', 'sink'], { serialization: 'json', execArgv: PEER_EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  let sent = 0;
  let written: Promise<void> = Promise.resolve();
  return {
    send(m) {
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

function budgetFor(mode: RunSettings['mode'], bytes: number): OneWayBudget {
  const scale = byMode(mode, { tiny: 0.02, quick: 0.1, standard: 1, full: 4 });
  return {
    count: Math.max(20, Math.floor((bytes >= 65536 ? 20_000 : 300_000) * scale)),
    ms: byMode(mode, { tiny: 200, quick: 300, standard: 1_500, full: 5_000 }),
  };
}


async function measure(settings: RunSettings, what: string, make: () => Link | Promise<Link>, message: unknown, end: unknown, bytes: number): Promise<number> {
  settings.progress(`zmq one-way: ${what}`);
  const link = await make();
  try {
    return await oneWay(link, message, end, budgetFor(settings.mode, bytes));
  } finally {
    await link.close();
  }
}

const OVER_ZMQ = 'shmring Channel over ZeroMQ';

export const scenario: Scenario = {
  name: 'zmq',
  description: 'Channel over ZeroMQ (tcp loopback) against raw zeromq.js PUSH/PULL, child_process IPC and the shared-memory Channel',
  async run(settings: RunSettings): Promise<Row[]> {
    const reason = missing('zeromq');
    if (reason !== undefined) {
      return [OVER_ZMQ, 'zeromq.js PUSH/PULL'].map((competitor) => ({ scenario: 'zmq', competitor, setup: 'tcp loopback, one-way', figures: {}, skipped: reason }));
    }
    const zmq = await load<Zmq>('zeromq');
    const rows: Row[] = [];
    for (const bytes of [64, 65536]) {
      const message = Buffer.alloc(bytes, 7);
      const size = bytes === 64 ? '64 B' : '64 KiB';
      const channel = await measure(settings, `Channel over ZeroMQ ${size}`, () => zmqChannelLink('raw'), message, END_BYTES, bytes);
      const raw = await measure(settings, `zeromq.js PUSH/PULL ${size}`, () => pushPullLink(zmq), message, END_BYTES, bytes);
      const mb = (rate: number) => (rate * bytes) / 1e6;
      rows.push({
        scenario: 'zmq',
        competitor: OVER_ZMQ,
        setup: `tcp loopback, codec 'raw', one-way, ${size}`,
        figures: { msgs_per_s: channel, mb_per_s: mb(channel) },
        ratios: { '÷ zeromq.js PUSH/PULL': channel / raw },
        family: 'shmring',
        ...(bytes > 128
          ? { note: 'the Channel copies a Buffer of the caller above 128 bytes before ZeroMQ takes it (a Buffer rewritten after postMessage arrives as posted; a transfer list avoids the copy); raw zeromq.js sends the reused Buffer by reference' }
          : {}),
      });
      rows.push({ scenario: 'zmq', competitor: 'zeromq.js PUSH/PULL', setup: `tcp loopback, one-way, ${size}`, figures: { msgs_per_s: raw, mb_per_s: mb(raw) }, family: 'alternative' });
    }
    const small = payload('small');
    const overZmq = await measure(settings, 'Channel over ZeroMQ small objects', () => zmqChannelLink('structured'), small, END_TEXT, 64);
    const ipc = await measure(settings, 'child_process IPC json small objects', ipcLink, small, END_TEXT, 64);
    const shm = await measure(settings, 'shared-memory Channel small objects', shmChannelLink, small, END_TEXT, 64);
    rows.push({
      scenario: 'zmq',
      competitor: OVER_ZMQ,
      setup: 'tcp loopback, default codec, one-way, small',
      figures: { msgs_per_s: overZmq },
      ratios: { '÷ child_process IPC json': overZmq / ipc },
      family: 'shmring',
    });
    rows.push({ scenario: 'zmq', competitor: 'child_process IPC', setup: 'json, one-way, small', figures: { msgs_per_s: ipc }, family: 'alternative' });
    rows.push({
      scenario: 'zmq',
      competitor: 'shmring Channel',
      setup: 'shared memory, default codec, one-way, small',
      figures: { msgs_per_s: shm },
      ratios: { '÷ Channel over ZeroMQ': shm / overZmq },
      family: 'shmring',
    });
    return rows;
  },
};
