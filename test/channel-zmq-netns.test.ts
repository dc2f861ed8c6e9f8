// The Channel over ZeroMQ across a link: two network namespaces joined by a veth pair, one
// end in each (`ip netns exec NS node ...`). 100,000 checked messages cross it; a SIGKILLed
// end is learned of by the other; a link cut (`ip link set ... down`) is learned of by both
// ends through ZMTP heartbeats, and (control) not without them. Needs root and iproute2:
// skipped with the reason otherwise. Every namespace is removed at teardown, even on failure
// (its veth end goes with it), and nothing is sent outside the namespaces made here.
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { ZmqChannelOptions } from '../src/index.js';

const FIXTURE = new URL('./fixtures/zmq-peer.ts', import.meta.url).pathname;
const PREFIX = `shmr${process.pid % 100000}`;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why these tests cannot run here, or undefined. */
function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  try {
    ip('-V');
  } catch {
    return "needs iproute2's ip";
  }
  try {
    ip('netns', 'add', `${PREFIX}probe`);
    ip('netns', 'del', `${PREFIX}probe`);
  } catch (err) {
    return `ip netns add is not permitted here: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

const why = unavailable();
const netnsTest = why === undefined ? test.serial : test.skip;
if (why !== undefined) console.log(`channel-zmq-netns: skipped, ${why}`);

/** Removes every namespace this process made, whatever state a failed test left. */
function sweepNamespaces(): void {
  let list = '';
  try {
    list = ip('netns', 'list');
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (name?.startsWith(PREFIX)) {
      try {
        ip('netns', 'del', name);
      } catch {
        // gone already
      }
    }
  }
}
test.after.always(sweepNamespaces);

interface Link {
  a: string;
  b: string;
  /** The address of each end, in its namespace. */
  addressA: string;
  addressB: string;
  vethA: string;
}

let subnet = 0;

/** Two namespaces joined by a veth pair, 10.77.N.1/24 and 10.77.N.2/24; removed at teardown. */
function link(t: ExecutionContext): Link {
  const n = ++subnet;
  const a = `${PREFIX}a${n}`;
  const b = `${PREFIX}b${n}`;
  const vethA = `${PREFIX}va${n}`.slice(-15);
  const vethB = `${PREFIX}vb${n}`.slice(-15);
  t.teardown(() => {
    for (const ns of [a, b]) {
      try {
        ip('netns', 'del', ns); // its veth end goes with it, and the pair with that
      } catch {
        // not made, or gone
      }
    }
  });
  ip('netns', 'add', a);
  ip('netns', 'add', b);
  ip('link', 'add', vethA, 'netns', a, 'type', 'veth', 'peer', 'name', vethB, 'netns', b);
  const addressA = `10.77.${n}.1`;
  const addressB = `10.77.${n}.2`;
  ip('-n', a, 'addr', 'add', `${addressA}/24`, 'dev', vethA);
  ip('-n', b, 'addr', 'add', `${addressB}/24`, 'dev', vethB);
  for (const [ns, dev] of [[a, vethA], [b, vethB]] as const) {
    ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  return { a, b, addressA, addressB, vethA };
}

interface Peer {
  child: ChildProcess;
  line(re: RegExp, ms: number): Promise<string>;
  exit: Promise<number | null>;
}

/** The fixture in namespace `ns`; killed at teardown. */
function peer(t: ExecutionContext, ns: string, args: string[], options?: ZmqChannelOptions): Peer {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import=tsx', FIXTURE, ...args], {
    env: { ...process.env, SHMRING_ZMQ_OPTIONS: JSON.stringify(options ?? {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = (re: RegExp, ms: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line ${re} within ${ms} ms; output: ${out}`)), ms);
      const look = () => {
        const found = out.split('\n').find((l) => re.test(l));
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`peer exited (${child.exitCode ?? child.signalCode}) without ${re}; output: ${out}`));
        } else waiters.push(look);
      };
      child.once('exit', look);
      look();
    });
  return { child, line, exit };
}

const PORT = 5555;
const HEARTBEAT: ZmqChannelOptions = { heartbeatInterval: 500, heartbeatTimeout: 2000, heartbeatTimeToLive: 2000 };
/** Slack on top of a heartbeat timeout for a loaded 2-core machine (a bound, not a speed). */
const SLACK_MS = 8000;

netnsTest('100,000 checked messages cross the link in order', async (t) => {
  t.timeout(300_000);
  const net = link(t);
  const sink = peer(t, net.a, ['create', `tcp://${net.addressA}:${PORT}`, 'sink', '100000']);
  await sink.line(/^ready /, 30_000);
  const source = peer(t, net.b, ['connect', `tcp://${net.addressA}:${PORT}`, 'source-acked', '100000']);
  t.is(await sink.line(/^(ok|bad) /, 240_000), 'ok 100000');
  t.is(await sink.line(/^close /, 30_000), 'close none', 'the source closed: a plain close');
  t.is(await source.exit, 0);
  t.is(await sink.exit, 0);
});

for (const side of ['connector', 'creator'] as const) {
  netnsTest(`the ${side} SIGKILLed: the other end gets 'close' with ERR_PEER_DEAD within the heartbeat timeout`, async (t) => {
    t.timeout(120_000);
    const net = link(t);
    const creator = peer(t, net.a, ['create', `tcp://${net.addressA}:${PORT}`, 'hold'], HEARTBEAT);
    await creator.line(/^ready /, 30_000);
    const connector = peer(t, net.b, ['connect', `tcp://${net.addressA}:${PORT}`, 'hold'], HEARTBEAT);
    await connector.line(/^connect$/, 30_000);
    await creator.line(/^connect$/, 30_000);
    const [victim, survivor] = side === 'connector' ? [connector, creator] : [creator, connector];
    victim.child.kill('SIGKILL');
    t.is(await survivor.line(/^close /, HEARTBEAT.heartbeatTimeout! + SLACK_MS), 'close ERR_PEER_DEAD');
  });
}

for (const heartbeat of [true, false]) {
  netnsTest(
    heartbeat
      ? "a cut link (ip link set down): both ends get 'close' with ERR_PEER_DEAD from the heartbeat"
      : 'a cut link without heartbeats goes unnoticed (control: the heartbeat is what detects it)',
    async (t) => {
      t.timeout(120_000);
      const net = link(t);
      const options = heartbeat ? HEARTBEAT : { heartbeatInterval: 0 };
      const creator = peer(t, net.a, ['create', `tcp://${net.addressA}:${PORT}`, 'hold'], options);
      await creator.line(/^ready /, 30_000);
      const connector = peer(t, net.b, ['connect', `tcp://${net.addressA}:${PORT}`, 'hold'], options);
      await connector.line(/^connect$/, 30_000);
      await creator.line(/^connect$/, 30_000);
      ip('-n', net.a, 'link', 'set', net.vethA, 'down');
      const bound = HEARTBEAT.heartbeatTimeout! + SLACK_MS;
      if (heartbeat) {
        t.is(await creator.line(/^close /, bound), 'close ERR_PEER_DEAD');
        t.is(await connector.line(/^close /, bound), 'close ERR_PEER_DEAD');
      } else {
        await t.throwsAsync(creator.line(/^close /, bound), { message: /no line/ });
        await t.throwsAsync(connector.line(/^close /, 1), { message: /no line/ });
      }
    },
  );
}
