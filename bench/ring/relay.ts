// Scenario: the file relay. A file of 256 MiB (8 MiB in the harness test's tiny mode) is read in
// 1 MiB chunks by one process, sent to another, and written by it to a file on tmpfs:
// through a pipe (read → write → read → write, four copies), through an SPSC ring (read into
// a claim → write from the ring's view, two copies), and through a Channel's Node streams
// (pipeline on both sides, as a Node program writes it). GB/s and the ratios to the pipe.
import { rmSync, mkdtempSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Segment, SpscRing } from 'shmring';
import { CONTROL_BYTES, Control } from '../lib/control.js';
import { benchSegment } from '../lib/segments.js';
import { byMode, type Row, type RunSettings, type Scenario } from '../lib/scenario.js';
import { peer, peerFile, run, spawnPeer } from '../lib/spawn.js';
import { median } from '../lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHUNK = 2 ** 20;

function makeSource(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(CHUNK);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31) & 0xff;
  for (let done = 0; done < bytes; done += CHUNK) writeSync(fd, block);
  closeSync(fd);
}

async function relay(mode: 'pipe' | 'shm' | 'stream', source: string, target: string, bytes: number): Promise<number> {
  const capacity = 16 * CHUNK;
  const { segment: seg, address, release } = benchSegment(SpscRing.requiredBytes(capacity) + CONTROL_BYTES);
  try {
    if (mode === 'shm') SpscRing.create(seg, { capacity }).close();
    const control = new Control(seg.buffer, seg.size);
    const file = peerFile(HERE, 'relay-peer');
    if (mode === 'pipe') {
      const sender = spawnPeer(peer(file, ['sender', 'pipe', address, source, CHUNK]), ['ignore', 'pipe', 'pipe'], 120_000, true);
      const receiver = run(peer(file, ['receiver', 'pipe', address, target, bytes]), [sender.child.stdout!, 'pipe', 'pipe']);
      sender.child.stdout!.destroy();
      await Promise.all([receiver, sender.done]);
    } else {
      await Promise.all([run(peer(file, ['receiver', mode, address, target, bytes])), run(peer(file, ['sender', mode, address, source, CHUNK]))]);
    }
    if (statSync(target).size !== bytes) throw new Error(`the ${mode} relay wrote ${statSync(target).size} of ${bytes} bytes`);
    return control.f64[0]!;
  } finally {
    release();
    rmSync(target, { force: true });
    if (mode === 'stream') {
      try {
        Segment.unlink(`${address}-stream`); // a peer that failed left its channel
      } catch {
        // removed by the channel's ends
      }
    }
  }
}

export const scenario: Scenario = {
  name: 'relay',
  description: 'file → process → process → file in 1 MiB chunks: pipe (four copies) against shmring (two) and its Node streams',
  async run(settings: RunSettings): Promise<Row[]> {
    const bytes = byMode(settings.mode, { tiny: 8, quick: 32, standard: 256, full: 256 }) * CHUNK;
    const reps = byMode(settings.mode, { tiny: 1, quick: 1, standard: 3, full: 3 });
    const sourceDir = mkdtempSync(join(tmpdir(), 'shmring-relay-'));
    const targetDir = mkdtempSync('/dev/shm/shmring-relay-');
    // Ctrl-C ends the harness with process.exit (see lib/spawn.ts): remove the files then too.
    const cleanup = () => {
      rmSync(sourceDir, { recursive: true, force: true });
      rmSync(targetDir, { recursive: true, force: true });
    };
    process.on('exit', cleanup);
    try {
      const source = join(sourceDir, 'source');
      makeSource(source, bytes);
      const times = { pipe: [] as number[], shm: [] as number[], stream: [] as number[] };
      for (let r = 0; r < reps; r++) {
        for (const mode of ['pipe', 'shm', 'stream'] as const) {
          settings.progress(`relay: ${mode} (${r + 1}/${reps})`);
          times[mode].push(await relay(mode, source, join(targetDir, `target-${mode}`), bytes));
        }
      }
      const gbps = (ns: number) => bytes / ns;
      const ratio = median(times.pipe.map((p, i) => p / times.shm[i]!));
      const streamRatio = median(times.pipe.map((p, i) => p / times.stream[i]!));
      return [
        { scenario: 'relay', competitor: 'pipe', setup: `read → write → read → write (four copies), ${bytes / CHUNK} MiB`, figures: { gb_per_s: gbps(median(times.pipe)) } },
        { scenario: 'relay', competitor: 'shmring SPSC', setup: `read into a claim → write from the view (two copies), ${bytes / CHUNK} MiB`, figures: { gb_per_s: gbps(median(times.shm)) }, ratios: { '÷ pipe': ratio } },
        { scenario: 'relay', competitor: 'shmring Channel', setup: `pipeline(file → write stream) / pipeline(read stream → file), ${bytes / CHUNK} MiB`, figures: { gb_per_s: gbps(median(times.stream)) }, ratios: { '÷ pipe': streamRatio } },
      ];
    } finally {
      cleanup();
      process.off('exit', cleanup);
    }
  },
};
