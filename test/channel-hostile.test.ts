// A Channel peer that misuses its wake line, the way an attacker sharing the segment would:
// it names a doorbell it never reads (our retries must not keep us alive after close(), must
// end once we closed, and must still get a wake-up through while we are open), or it names
// another program's socket (we must send it nothing: the datagram carries our credentials).
// The hostile peer is this test process writing the segment; the victim is a real process
// (test/fixtures/bell-victim.ts) or a Channel of this process.
import test, { type ExecutionContext } from 'ava';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { Channel, Segment } from '../src/index.js';
import { native } from '../src/native.js';
import { SELF_THREAD } from '../src/sync/identity.js';
import { ARMED, CONNECTOR_OFFSET, CONNECTOR_WAKE_OFFSET, HEADER_SIZE, i64Index, NAME_LENGTH, TOKEN, WAKE_KIND, WAKE_SOCKET, wakeNameOffset, wakeWordIndex } from '../src/transport/layout.js';
import { CLOSED_RETRY_MS } from '../src/transport/wake.js';
import { finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, sweep } from './helpers/resources.js';

test.after.always(sweep);

const EAGAIN = 11;
const JUNK = 0x0bad0bad;
const OURS = 0x5eed0001;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Plays the connector of the channel at `address` without being one: writes a wake line
 * naming `name` with `token`, armed (so the creator rings on its next publication), and a
 * live identity, as Channel.connect would, but never reads.
 */
function impersonateConnector(t: ExecutionContext, address: string, name: string, token: number): { rearm(): void } {
  const seg = Segment.open(address);
  t.teardown(() => seg.close());
  const i32 = new Int32Array(seg.buffer, 0, HEADER_SIZE / 4);
  const bytes = Buffer.from(name, 'latin1');
  new Uint8Array(seg.buffer, wakeNameOffset(CONNECTOR_WAKE_OFFSET), bytes.length).set(bytes);
  Atomics.store(i32, wakeWordIndex(CONNECTOR_WAKE_OFFSET, NAME_LENGTH), bytes.length);
  Atomics.store(i32, wakeWordIndex(CONNECTOR_WAKE_OFFSET, TOKEN), token);
  Atomics.store(i32, wakeWordIndex(CONNECTOR_WAKE_OFFSET, WAKE_KIND), WAKE_SOCKET);
  Atomics.store(i32, wakeWordIndex(CONNECTOR_WAKE_OFFSET, ARMED), 1);
  Atomics.store(new BigInt64Array(seg.buffer, 0, HEADER_SIZE / 8), i64Index(CONNECTOR_OFFSET), SELF_THREAD);
  return { rearm: () => Atomics.store(i32, wakeWordIndex(CONNECTOR_WAKE_OFFSET, ARMED), 1) };
}

/** A doorbell of the kernel's own naming (autobind) that nobody reads until the test says so. */
function deafDoorbell(t: ExecutionContext): { name: string; fill(): void; drain(): number[] } {
  const [fd, name] = native.doorbellOpen();
  t.teardown(() => native.closeFd(fd));
  const tokens = new Uint32Array(64);
  return {
    name,
    fill() {
      for (let i = 0; i < 10_000; i++) if (native.doorbellRing(name, JUNK) === EAGAIN) return;
      throw new Error('the doorbell never filled');
    },
    drain() {
      const got: number[] = [];
      for (let n = native.doorbellDrain(fd, tokens); n > 0; n = native.doorbellDrain(fd, tokens)) got.push(...tokens.subarray(0, n));
      return got;
    },
  };
}

async function startVictim(t: ExecutionContext, address: string): Promise<ChildProcess> {
  const victim = startFixture(t, 'bell-victim', [address], { stdio: ['pipe', 'pipe', 'pipe'] });
  await lineFrom(victim, /^ready$/);
  return victim;
}

async function tell(victim: ChildProcess, command: 'post' | 'close'): Promise<string> {
  const reply = lineFrom(victim, command === 'post' ? /^posted$/ : /^closed /);
  victim.stdin!.write(`${command}\n`);
  return reply;
}

test('a peer that never reads its doorbell does not keep us alive after close()', async (t) => {
  const address = shmAddress(t);
  const victim = await startVictim(t, address);
  const exit = finished(victim);
  const bell = deafDoorbell(t);
  bell.fill();
  impersonateConnector(t, address, bell.name, OURS);
  await tell(victim, 'post'); // its ring found the doorbell full: a retry is pending
  const closed = await tell(victim, 'close');
  const resources = JSON.parse(closed.slice('closed '.length)) as string[];
  t.false(resources.includes('Timeout'), `nothing of a closed channel holds the loop: ${closed}`);
  victim.stdin!.end();
  const result = await exit;
  t.is(result.code, 0, result.stderr);
});

test('a ring that finds a doorbell full gets through once there is room; after close() it is dropped', async (t) => {
  const address = shmAddress(t);
  const victim = await startVictim(t, address);
  const exit = finished(victim);
  const bell = deafDoorbell(t);
  bell.fill();
  const peer = impersonateConnector(t, address, bell.name, OURS);

  // Open: the ring is delayed, never lost.
  await tell(victim, 'post');
  t.false(bell.drain().includes(OURS), 'the doorbell was full: the ring could not be sent yet');
  let arrived = false;
  for (let waited = 0; !arrived && waited < 10_000; waited += 5) {
    await sleep(5);
    arrived = bell.drain().includes(OURS);
  }
  t.true(arrived, 'the retry arrived once the doorbell had room');

  // Closed: the pending ring is retried for CLOSED_RETRY_MS, then given up.
  bell.fill();
  peer.rearm();
  await tell(victim, 'post');
  await tell(victim, 'close');
  await sleep(CLOSED_RETRY_MS + 1000);
  t.false(bell.drain().includes(OURS), 'the doorbell stayed full');
  await sleep(500); // several retry periods
  t.deepEqual(bell.drain(), [], 'no retry after the closed side gave up');

  victim.stdin!.end();
  t.is((await exit).code, 0);
});

let noPython: string | undefined;
try {
  execFileSync('python3', ['--version'], { stdio: 'ignore' });
} catch {
  noPython = 'no python3 on this machine';
}

// A datagram socket bound to a name we choose (as a service would), which prints the
// tokens it received, in hex, once its stdin ends.
const LISTENER = `
import os, select, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b'\\0' + sys.argv[1].encode())
s.setblocking(False)
print('ready', flush=True)
got = []
while True:
    r, _, _ = select.select([s, 0], [], [])
    if s in r:
        got.append(s.recv(64).hex())
    if 0 in r and os.read(0, 64) == b'':
        break
while True:
    try:
        got.append(s.recv(64).hex())
    except BlockingIOError:
        break
print(' '.join(got), flush=True)
`;

(noPython === undefined ? test : test.skip)("a wake line naming another program's socket gets nothing from us", async (t) => {
  const name = `shmring-test-crafted-${process.pid}`;
  const listener = spawn('python3', ['-c', LISTENER, name], { stdio: ['pipe', 'pipe', 'inherit'] });
  const watchdog = setTimeout(() => listener.kill('SIGKILL'), 30_000);
  t.teardown(() => {
    clearTimeout(watchdog);
    if (listener.exitCode === null) listener.kill('SIGKILL');
  });
  const output = finished(listener);
  await lineFrom(listener, /^ready$/);

  const ch = Channel.create(shmAddress(t));
  t.teardown(() => ch.close());
  impersonateConnector(t, ch.address, name, OURS);
  ch.postMessage('hello'); // rings the armed peer at the end of this task
  await new Promise(setImmediate);
  ch.close(); // rings the peer that has not closed
  listener.stdin.end(); // anything we sent is in its socket by now
  const received = (await output).stdout.split('\n')[1]!.trim();
  t.is(received, '', `the crafted name received ${received}`);
});

test('a real doorbell, named by the kernel, still wakes a peer in another process', async (t) => {
  const ch = Channel.create(shmAddress(t));
  t.teardown(() => ch.close());
  const peer = startFixture(t, 'channel-peer', ['echo', ch.address, 'structured']);
  const exit = finished(peer);
  const echoed = new Promise((resolve) => ch.once('message', resolve));
  while (!(await connected(ch.address))) await sleep(5);
  const seg = Segment.open(ch.address);
  t.teardown(() => seg.close());
  const length = Atomics.load(new Int32Array(seg.buffer, 0, HEADER_SIZE / 4), wakeWordIndex(CONNECTOR_WAKE_OFFSET, NAME_LENGTH));
  const name = Buffer.from(new Uint8Array(seg.buffer, wakeNameOffset(CONNECTOR_WAKE_OFFSET), length)).toString('latin1');
  t.regex(name, /^[0-9a-f]{5}$/, 'the peer wrote an autobind name');
  ch.postMessage({ hello: 'peer' });
  t.deepEqual(await echoed, { hello: 'peer' });
  ch.close();
  t.is((await exit).code, 0);
});

/** Whether a connector has written its wake line (the last thing Channel.connect writes there). */
async function connected(address: string): Promise<boolean> {
  const seg = Segment.open(address);
  try {
    return Atomics.load(new Int32Array(seg.buffer, 0, HEADER_SIZE / 4), wakeWordIndex(CONNECTOR_WAKE_OFFSET, WAKE_KIND)) !== 0;
  } finally {
    seg.close();
  }
}
