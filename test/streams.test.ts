// Byte streams over a Channel between two real processes: a 256 MiB file relayed byte-exact
// with pipeline() on both sides; a reader that stops holds the writer back (write() waits
// for 'drain', nothing queues without bound, nothing is lost); a writer that dies ends the
// reader's stream with ERR_PEER_DEAD.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream as fileReadStream, createWriteStream as fileWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import { Channel, createReadStream, createWriteStream } from '../src/index.js';
import { finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, tempDir } from './helpers/resources.js';

async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const out = fileWriteStream(path);
  for (let left = bytes; left > 0; ) {
    const chunk = randomBytes(Math.min(left, 4 << 20));
    hash.update(chunk);
    left -= chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return hash.digest('hex');
}

async function fileHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fileReadStream(path), hash);
  return hash.digest('hex');
}

test('pipeline(file → Channel write stream) in one process and (Channel read stream → file) in another copies 256 MiB byte-exact', async (t) => {
  t.timeout(180_000);
  const dir = tempDir(t);
  const input = join(dir, 'in');
  const output = join(dir, 'out');
  const size = 256 << 20;
  const want = await writeRandomFile(input, size);
  const channel = Channel.create(shmAddress(t), { codec: 'raw', capacity: 1 << 20 });
  const reader = startFixture(t, 'stream-relay', [channel.address, output], { timeoutMs: 170_000 });
  const done = finished(reader);
  await lineFrom(reader, /^ready$/);
  await pipeline(fileReadStream(input, { highWaterMark: 1 << 20 }), createWriteStream(channel));
  const result = await done;
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, new RegExp(`done ${size}`));
  t.is(await fileHash(output), want);
});

test('a reader that stops holds the writer back: write() waits for drain, the queue stays bounded, nothing is lost', async (t) => {
  t.timeout(120_000);
  const dir = tempDir(t);
  const output = join(dir, 'out');
  const channel = Channel.create(shmAddress(t), { codec: 'raw', capacity: 1 << 16, highWaterMark: 1 << 18 });
  const reader = startFixture(t, 'stream-relay', [channel.address, output], { timeoutMs: 110_000 });
  const done = finished(reader);
  await lineFrom(reader, /^ready$/);
  reader.kill('SIGSTOP');
  t.teardown(() => reader.kill('SIGCONT'));
  const writable = createWriteStream(channel);
  const chunk = (i: number) => Buffer.alloc(1 << 16, i & 0xff);
  let written = 0;
  let sawFull = false;
  let maxQueued = 0;
  for (let i = 0; i < 256; i++) {
    if (!writable.write(chunk(i))) {
      maxQueued = Math.max(maxQueued, channel.queuedBytes);
      if (!sawFull) setTimeout(() => reader.kill('SIGCONT'), 300); // let it read on after a while
      sawFull = true;
      await once(writable, 'drain');
    }
    written += 1 << 16;
    maxQueued = Math.max(maxQueued, channel.queuedBytes);
  }
  reader.kill('SIGCONT');
  writable.end();
  const result = await done;
  t.is(result.code, 0, result.stderr);
  t.true(sawFull, 'write() returned false while the reader was stopped');
  t.true(maxQueued <= (1 << 18) + (1 << 16), `queued at most ${maxQueued} bytes in this process`);
  const got = readFileSync(output);
  t.is(got.length, written);
  for (let i = 0; i < 256; i++) t.is(got[i << 16], i & 0xff);
});

test("a writer that dies mid-stream ends the reader's stream with ERR_PEER_DEAD", async (t) => {
  const address = shmAddress(t);
  const channel = Channel.create(address, { codec: 'raw', capacity: 1 << 16 });
  const writer = startFixture(t, 'stream-writer', [address]);
  const readable = createReadStream(channel);
  let bytes = 0;
  readable.on('data', (c: Buffer) => {
    bytes += c.length;
    if (bytes >= 1 << 20 && writer.exitCode === null) writer.kill('SIGKILL');
  });
  const error = await new Promise<Error & { code?: string }>((resolve) => readable.on('error', resolve));
  t.is(error.code, 'ERR_PEER_DEAD');
  t.true(bytes >= 1 << 20);
});
