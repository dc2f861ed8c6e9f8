// The shmring command and Channel segments: ls, inspect and rm --stale describe a channel
// (both ends, whether they live, the bytes queued each way), find one left behind by
// SIGKILLed processes stale and remove it, never while an end lives, and apply the rules of
// rings to other users' channels. Corrupt channel headers are described, never trusted.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Channel, Segment, SpscRing } from '../src/index.js';
import { spscRingSize } from '../src/ring/layout/spsc.js';
import { channelLayout, CREATOR_OFFSET, RING_B_OFFSET_OFFSET, VERSION_OFFSET } from '../src/transport/layout.js';
import { packIdentity, processStartTime, SELF_THREAD } from '../src/sync/identity.js';
import { finished, lineFrom, startFixture } from './helpers/processes.js';
import { shmAddress, sweep, sysvAddress, sysvExists } from './helpers/resources.js';
import { staleLock } from './helpers/stale-lock.js';
import { cannotRunAsNobody, NOBODY } from './helpers/users.js';

test.after.always(sweep);

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'shmring.js');
/** The capacity test/fixtures/channel-abandon.ts gives its channels. */
const CAPACITY = 65536;

function cli(args: string[], prefix: string[] = []) {
  const command = [...prefix, process.execPath, BIN, ...args];
  return spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 60_000 });
}

interface Listed {
  address: string;
  users: number;
  stale: boolean;
  description: { kind: string; figures: Record<string, number>; participants: Array<{ role: string; pid: number; alive: boolean }>; problem?: string };
}

function listed(address: string, prefix: string[] = []): Listed | undefined {
  const r = cli(['ls', '--json'], prefix);
  if (r.status !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as Listed[]).find((s) => s.address === address);
}

/** Bytes published and unread in the channel's ring at `byteOffset`, as the ring itself says. */
function usedBytes(address: string, byteOffset: number): number {
  const segment = Segment.open(address, { readOnly: !address.startsWith('sysv:') }); // System V has no private view (detached at close)
  try {
    const ring = SpscRing.open(segment, { byteOffset, byteLength: spscRingSize(CAPACITY) });
    return ring.usedBytes;
  } finally {
    segment.close();
  }
}

/**
 * A channel at `address` between two processes (creator, connector), each of which posts
 * messages the other never reads (3 and 5 of 100 bytes); resolves with their pids and a
 * kill() that stops both, then SIGKILLs them (stopped, neither can see the other die and
 * remove the segment).
 */
async function channelBetweenProcesses(t: ExecutionContext, address: string): Promise<{ creator: number; connector: number; kill: () => Promise<void> }> {
  const creator = startFixture(t, 'channel-abandon', ['create', address, '3']);
  const creatorExit = finished(creator);
  await lineFrom(creator, /ready/);
  const connector = startFixture(t, 'channel-abandon', ['connect', address, '5']);
  const connectorExit = finished(connector);
  await lineFrom(connector, /ready/);
  return {
    creator: creator.pid!,
    connector: connector.pid!,
    kill: async () => {
      creator.kill('SIGSTOP');
      connector.kill('SIGSTOP');
      creator.kill('SIGKILL');
      connector.kill('SIGKILL');
      await Promise.all([creatorExit, connectorExit]);
    },
  };
}

for (const [kind, makeAddress] of [
  ['shm', shmAddress],
  ['sysv', sysvAddress],
] as const) {
  test.serial(`${kind}: a Channel left by two SIGKILLed processes: ls and inspect show both ends dead and the bytes queued each way; rm --stale removes it, never while they lived`, async (t) => {
    await staleLock(t);
    t.timeout(120_000);
    const address = makeAddress(t);
    const { creator, connector, kill } = await channelBetweenProcesses(t, address);
    const { ringA, ringB } = channelLayout(spscRingSize(CAPACITY));
    const toConnector = usedBytes(address, ringA);
    const toCreator = usedBytes(address, ringB);
    // Three records one way, five the other, all of the same size (at least the 100-byte message).
    t.true(toConnector >= 3 * 100 && toConnector * 5 === toCreator * 3, `${toConnector} and ${toCreator} bytes`);
    const figures = { capacity: CAPACITY, queuedToConnector: toConnector, queuedToCreator: toCreator };

    const live = listed(address);
    t.like(live, { stale: false, description: { kind: 'Channel', figures } });
    // Both processes map it (System V counts attachments: a process may hold two, see plainAlias).
    t.true(kind === 'shm' ? live?.users === 2 : live!.users >= 2, `users ${live?.users}`);
    t.deepEqual(live?.description.participants, [
      { role: 'creator', pid: creator, alive: true },
      { role: 'connector', pid: connector, alive: true },
    ]);
    const notYet = cli(['rm', '--stale']);
    t.is(notYet.status, 0, notYet.stderr);
    t.false(notYet.stdout.includes(address), notYet.stdout);

    await kill();
    const dead = listed(address);
    t.like(dead, { stale: true, users: 0, description: { kind: 'Channel', figures } });
    t.deepEqual(dead?.description.participants, [
      { role: 'creator', pid: creator, alive: false },
      { role: 'connector', pid: connector, alive: false },
    ]);
    const text = cli(['ls']).stdout;
    t.regex(text, new RegExp(`${address}  channel v\\d+, \\d+ bytes, used by 0 process\\(es\\), STALE`));
    t.regex(text, new RegExp(`queuedToConnector ${toConnector}, queuedToCreator ${toCreator}`));
    t.regex(text, new RegExp(`creator: pid ${creator} dead\\n  connector: pid ${connector} dead`));
    const inspected = cli(['inspect', address, '--json']);
    t.is(inspected.status, 0, inspected.stderr);
    t.like(JSON.parse(inspected.stdout), { address, kind: 'Channel', ready: true, figures, participants: dead!.description.participants });
    t.regex(cli(['inspect', address]).stdout, new RegExp(`channel v\\d+[\\s\\S]*creator: pid ${creator} dead`));

    const removed = cli(['rm', '--stale']);
    t.is(removed.status, 0, removed.stderr);
    t.true(removed.stdout.split('\n').includes(`removed ${address}`), removed.stdout);
    if (kind === 'shm') t.false(existsSync(`/dev/shm/${address.slice('shm:'.length)}`));
    else t.false(sysvExists(Number(address.slice('sysv:'.length))), 'gone from ipcs');
  });
}

/**
 * The bytes of a fresh channel (made in this process and closed) whose creator is a dead
 * process (a reused pid's old owner), or with `creator`, that identity.
 */
function staleChannelImage(t: ExecutionContext, creator = packIdentity(process.pid, processStartTime(process.pid)! - 1)): Uint8Array {
  const address = shmAddress(t);
  const channel = Channel.create(address, { capacity: 4096 });
  const image = new Uint8Array(readFileSync(`/dev/shm/${address.slice('shm:'.length)}`));
  channel.close();
  new DataView(image.buffer).setBigInt64(CREATOR_OFFSET, creator, true);
  return image;
}

/** `image` planted at a fresh /dev/shm name owned by `uid` with `mode`; removed at teardown. */
function plant(t: ExecutionContext, image: Uint8Array, uid = 0, mode = 0o600): string {
  const address = shmAddress(t);
  const path = `/dev/shm/${address.slice('shm:'.length)}`;
  writeFileSync(path, image);
  chownSync(path, uid, uid);
  chmodSync(path, mode);
  t.teardown(() => rmSync(path, { force: true }));
  return address;
}

// Serial and locked: the planted channels are stale, and `rm --stale` in another test would remove them.
test.serial('a channel header that disagrees with itself or its segment is described with the reason, and nothing is read where it points', async (t) => {
  await staleLock(t);
  const image = staleChannelImage(t);
  const forge = (edit: (view: DataView) => void, length = image.length): Uint8Array => {
    const copy = image.slice(0, length);
    edit(new DataView(copy.buffer));
    return copy;
  };
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['ring B offset far outside the segment', forge((v) => v.setUint32(RING_B_OFFSET_OFFSET, 0xffffff00, true)), /ring offsets \d+, 4294967040 and size \d+ disagree with capacity 4096/],
    ['the segment cut short of its rings', forge(() => {}, 2048), /no ring header at \d+/],
    ['an unknown version', forge((v) => v.setUint32(VERSION_OFFSET, 99, true)), /channel version 99; this tool reads version \d+/],
  ];
  for (const [what, bytes, problem] of cases) {
    const address = plant(t, bytes);
    const r = cli(['inspect', address, '--json']);
    t.is(r.status, 0, `${what}: ${r.stderr}`);
    const described = JSON.parse(r.stdout) as Listed['description'];
    t.is(described.kind, 'Channel', what);
    t.regex(described.problem ?? '', problem, what);
    t.is(described.figures.queuedToCreator, undefined, what);
    t.regex(cli(['inspect', address]).stdout, problem, what);
  }
  const notAChannel = plant(t, new Uint8Array(4096).fill(7));
  const r = cli(['inspect', notAChannel]);
  t.is(r.status, 1);
  t.regex(r.stderr, /not a shmring ring or channel/);
});

test.serial('a channel that no process maps but whose creator lives is not stale: rm --stale keeps it', async (t) => {
  await staleLock(t);
  const address = plant(t, staleChannelImage(t, SELF_THREAD));
  const found = listed(address);
  t.like(found, { stale: false, users: 0, description: { kind: 'Channel' } });
  t.like(found?.description.participants, [{ role: 'creator', pid: process.pid, alive: true }]);
  const r = cli(['rm', '--stale']);
  t.is(r.status, 0, r.stderr);
  t.false(r.stdout.includes(address), r.stdout);
  t.true(existsSync(`/dev/shm/${address.slice('shm:'.length)}`));
});

const asNobody = cannotRunAsNobody();
const nobodyTest = asNobody === undefined ? test.serial : test.skip;
if (asNobody !== undefined) console.warn(`cli-channels: tests as user nobody skipped: ${asNobody}`);

nobodyTest('other users\' stale channels, as for rings: a user who is not root sees and inspects them but removes only its own', async (t) => {
  await staleLock(t);
  const image = staleChannelImage(t);
  const rootOwned = plant(t, image, 0, 0o644);
  const own = plant(t, image, 65534, 0o600);
  t.like(listed(rootOwned, NOBODY), { stale: true, users: 0, description: { kind: 'Channel' } });
  const inspected = cli(['inspect', rootOwned, '--json'], NOBODY);
  t.is(inspected.status, 0, inspected.stderr);
  t.like(JSON.parse(inspected.stdout), { kind: 'Channel', participants: [{ role: 'creator', alive: false }] });
  const r = cli(['rm', '--stale'], NOBODY);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`kept ${rootOwned}: owned by uid 0`));
  t.true(existsSync(`/dev/shm/${rootOwned.slice('shm:'.length)}`));
  t.regex(r.stdout, new RegExp(`removed ${own}`));
  t.false(existsSync(`/dev/shm/${own.slice('shm:'.length)}`));
});
