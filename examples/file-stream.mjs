// Copies a file from this process to a child through shared memory with Node streams:
// pipeline(file → Channel) here, pipeline(Channel → file) there. Run: node examples/file-stream.mjs
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream as fileIn, createWriteStream as fileOut, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Channel, createReadStream, createWriteStream } from 'shmring';

const [role, address, out] = process.argv.slice(2);

if (role === 'receiver') {
  const channel = Channel.connect(address, { codec: 'raw' });
  await pipeline(createReadStream(channel), fileOut(out));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'shmring-example-'));
  try {
    const input = join(dir, 'in');
    const output = join(dir, 'out');
    writeFileSync(input, randomBytes(32 << 20));
    const channel = Channel.create(`shm:example-stream-${process.pid}`, { codec: 'raw' });
    const receiver = spawn(process.execPath, [new URL(import.meta.url).pathname, 'receiver', channel.address, output], { stdio: 'inherit' });
    const done = new Promise((resolve) => receiver.on('exit', resolve));
    await pipeline(fileIn(input), createWriteStream(channel));
    await done;
    const hash = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');
    console.log(hash(input) === hash(output) ? 'ok: 32 MiB copied byte-exact' : 'MISMATCH');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
