// A Channel peer that misuses its ring, the way an attacker sharing the segment would: it
// sets its closed flag and writes on (our last read must still end, and the loop get its
// turns meanwhile), or it declares messages of a gigabyte in small first pieces (we must
// not reserve them: tested under `ulimit -v`). The hostile peer writes the connector's ring
// itself, without joining; the victim is a Channel of this process, or a real process that
// runs the built package (test/fixtures/reserve-victim.mjs: `npm test` builds first).
import test, { type ExecutionContext } from 'ava';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Channel, Segment, SpscRing } from '../src/index.js';
import { recordSize } from '../src/ring/layout/spsc.js';
import { tryWriteTagged } from '../src/ring/spsc/ring.js';
import { structuredCodec } from '../src/transport/codec.js';
import { DEFAULT_CAPACITY } from '../src/transport/options.js';
import { CAPACITY_OFFSET, FIRST, HEADER_SIZE, i32Index, PIECE_HEADER, RING_B_OFFSET_OFFSET, WHOLE, writePieceHeader } from '../src/transport/layout.js';
import { FIXTURES, finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

/** How long the closed peer writes on: far longer than a bounded last read takes. */
const WRITE_ON_MS = 3000;

test('a peer that writes on after its closed flag: we read what the ring held then, and close while it still writes', async (t) => {
  const ch = Channel.create(shmAddress(t));
  t.teardown(() => ch.close());
  const writer = startFixture(t, 'closed-writer', [ch.address, String(WRITE_ON_MS)]);
  const exit = finished(writer);
  await lineFrom(writer, /^writing$/); // the flag is set and the ring is full
  const stopped = lineFrom(writer, /^stopped /).then(() => 'stopped');

  // The loop's turns while the channel delivers: an interval's ticks and its longest gap.
  let ticks = 0;
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    ticks++;
  }, 1);
  t.teardown(() => clearInterval(timer));
  let messages = 0;
  ch.on('message', () => messages++);
  const closed = new Promise<string>((resolve) => ch.once('close', (reason?: Error) => resolve(`close ${reason?.message ?? ''}`)));
  const first = await Promise.race([closed, stopped]);
  const ticksAtEnd = ticks;
  clearInterval(timer);

  t.is(first, 'close ', 'the channel ended (a close by the peer) while the peer was still writing');
  const held = Math.floor(DEFAULT_CAPACITY / recordSize(structuredCodec().encode('written after close').length));
  t.true(messages > 0 && messages <= held, `${messages} messages read after the flag; the ring held at most ${held}`);
  t.true(ticksAtEnd > 0, 'the loop got turns while the channel delivered');
  t.log(`${messages} messages, ${ticksAtEnd} ticks of a 1 ms interval, longest gap ${longest.toFixed(1)} ms`);
  t.is((await exit).code, 0);
});

// ---- declared sizes -------------------------------------------------------------------------

const VICTIM = join(FIXTURES, 'reserve-victim.mjs');
/** Address space the victim may take beyond what it has once ready: far below one declared message. */
const HEADROOM_KIB = 512 * 1024;
const DECLARED = 2 ** 30; // the victim's maxMessageSize (the default)

/** Starts the victim under `ulimit -v limit` (KiB, or 'unlimited'); killed at teardown, and after 30 s. */
function startVictim(t: ExecutionContext, address: string, limit: number | 'unlimited'): ChildProcess {
  const child = spawn('bash', ['-c', 'ulimit -v "$1" && exec "$2" "$3" "$4"', 'bash', String(limit), process.execPath, VICTIM, address], { stdio: ['pipe', 'pipe', 'pipe'] });
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 30_000);
  child.on('exit', () => clearTimeout(watchdog));
  t.teardown(() => {
    clearTimeout(watchdog);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** The connector's ring of the channel at `address`, written directly. */
function hostileRing(t: ExecutionContext, address: string): SpscRing {
  const seg = Segment.open(address);
  t.teardown(() => seg.close());
  const header = new Int32Array(seg.buffer, 0, HEADER_SIZE / 4);
  const capacity = Atomics.load(header, i32Index(CAPACITY_OFFSET));
  const ring = SpscRing.open(seg, { byteOffset: Atomics.load(header, i32Index(RING_B_OFFSET_OFFSET)), byteLength: SpscRing.requiredBytes(capacity), role: 'producer' });
  t.teardown(() => ring.close());
  return ring;
}

test('twenty first pieces declaring a gigabyte each reserve nothing of the kind: under ulimit -v the victim lives and gets the next message', async (t) => {
  // What the victim's address space is once ready, then the limit: that plus far less than one declared message.
  const probe = startVictim(t, shmAddress(t), 'unlimited');
  const probed = finished(probe);
  probe.stdin!.end(); // nothing else holds it: it prints "ready" and exits
  const ready = Number(/^ready (\d+)$/m.exec((await probed).stdout)?.[1]);
  t.true(ready > 0, 'the probe printed its VmSize');

  const address = shmAddress(t);
  const victim = startVictim(t, address, ready + HEADROOM_KIB);
  const result = finished(victim);
  await lineFrom(victim, /^ready /);
  const ring = hostileRing(t, address);
  const first = new Uint8Array(PIECE_HEADER + 16);
  writePieceHeader(first, DECLARED);
  for (let i = 0; i < 20; i++) t.true(tryWriteTagged(ring, first, FIRST));
  t.true(tryWriteTagged(ring, structuredCodec().encode('after'), WHOLE));
  victim.stdin!.write('listen\n');

  const { code, stdout, stderr } = await result;
  t.is(code, 0, `the victim lived and got the next message: ${stdout}${stderr}`);
  const got = JSON.parse(/^got (.*)$/m.exec(stdout)![1]!) as { message: unknown; errors: string[]; arrayBuffers: number };
  t.is(got.message, 'after');
  t.true(got.errors.length > 0 && got.errors.every((c) => c === 'ERR_BAD_MESSAGE'), `messageerrors: ${got.errors.join(', ')}`);
  t.true(got.arrayBuffers < DECLARED / 4, `${got.arrayBuffers} bytes of ArrayBuffers after twenty declared gigabytes`);
});
