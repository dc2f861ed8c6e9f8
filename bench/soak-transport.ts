// The soak's transport trials (bench/soak.ts): one peer at a time, a Channel end made or
// joined by a child process or a child of fork(), sends numbered, seeded messages
// (test/fixtures/transport-peer.mjs) and is SIGKILLed at a random moment. A third of the
// trials send only messages larger than a record of the 64 KiB channel, so the peer often
// dies with a message's first frames in the ring and the rest never to come; a third send
// whole frames; a third tiny ones in a 1 MiB ring that holds several turns of a reader's
// loop (test/fixtures/soak-messages.mjs).
//
// What is checked, per trial: the messages that arrive are the peer's, whole, once and in
// order from the first; all of those it knew were in shared memory arrive (its WRITTEN
// count: exact for what was published, blind to what was still queued in the dead process,
// which dies with it) and none it never posted; the soak's end sees 'close' with
// ERR_PEER_DEAD (Channel) or 'disconnect' and 'exit' (fork) within WATCHDOG_MS, and no
// message after them; no segment is left in /dev/shm. Window trials are exact: the peer
// froze with messages 0..n-1 in the ring and part of message n, so exactly n arrive.
// Start-up trials kill the peer at a random moment of its start, or frozen inside its join
// (its place in the header taken, the creator not yet rung): the soak's end closes without
// an error if it never joined, else as above.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Channel, fork, Segment } from 'shmring';
import { CONNECTOR, HEADER_SIZE, i64Index, ownerOffset } from '../src/transport/layout.js';
import { capacityOf, COUNTS, COUNTS_BYTES, describe, isRawMessage, isValueMessage, KINDS as MESSAGES, type MessageKind, pattern, patternText } from '../test/fixtures/soak-messages.mjs';

const PEER = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'transport-peer.mjs');
/** How long an end may take to see its peer's death (or a peer to start) before the trial counts as hung. */
const WATCHDOG_MS = 10_000;
/** More messages than a reader hands out in three turns of its loop (4096 a turn, channel.ts). */
const SEVERAL_TURNS = 3 * 4096;
const PEERS = ['channel-create', 'channel-connect', 'fork'] as const;
type PeerKind = (typeof PEERS)[number];

/**
 * How the soak's end reads when its peer dies:
 * - listening: a 'message' listener takes messages as they come; the kill falls between two turns of the loop;
 * - busy: a listener, but the loop is held from just before the kill until the peer is dead, so the peer's
 *   last messages and its death are news of the same turn;
 * - late: the first 'message' listener comes once the peer is dead (before the loop runs again): what the
 *   ring holds, its death (fork: Node's 'disconnect') and, with tiny messages, several turns of reading
 *   are all news at once;
 * - closed (Channel): nobody reads until 'close'; receiveMessage() takes what the peer published after it.
 */
const READERS = ['listening', 'busy', 'late', 'closed'] as const;
type Reader = (typeof READERS)[number];

export interface TransportOptions {
  trials: number;
  progressEvery: number;
  startupKillEvery: number;
  random: () => number;
  /** `shm:` names for the peer's counts and for the channel (removed by the caller at exit). */
  countsAddress: string;
  channelAddress: string;
  /** Where the trials' children are kept, so that the caller can kill them at exit. */
  peers: Set<{ kill(signal: NodeJS.Signals): unknown }>;
  /** Called after each trial. */
  trialDone: () => void;
}

export interface TransportSummary {
  trials: number;
  seconds: number;
  channelTrials: number;
  forkTrials: number;
  /** Trials per kind of messages, and per reader. */
  messageKinds: Record<MessageKind, number>;
  readers: Record<Reader, number>;
  /** Trials whose peer froze with part of a message in the ring (checked exactly). */
  midMessageWindows: number;
  /** Window trials whose message found no room at all: run on as random kills. */
  windowMisses: number;
  startupKills: number;
  /** Start-up kills of a peer frozen inside its join (Channel.connect). */
  startupKillsInJoin: number;
  /** Start-up kills of a peer that had not joined yet. */
  startupKillsBeforeJoin: number;
  messages: number;
  problems: number;
}

interface Trial {
  index: number;
  peer: PeerKind;
  messages: MessageKind;
  windowed: boolean;
  /** Killed while it starts: at a random moment, or frozen inside its join (channel-connect). */
  startup: false | 'random' | 'join';
  reader: Reader;
  seed: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true once `ready()` holds, false after `ms`. */
async function waitFor(ready: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > until) return false;
    await sleep(1);
  }
  return true;
}

/** Holds this thread (and its event loop) until `ready()` or `ms` have passed; whether it holds. */
function spinUntil(ready: () => boolean, ms: number): boolean {
  const until = performance.now() + ms;
  while (!ready()) if (performance.now() > until) return false;
  return true;
}

/** Whether `pid` has died (a zombie not yet reaped by Node counts: it runs no more code). */
function isDead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch {
    return true;
  }
}

/** `promise`'s value, or 'timed out' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timed out'>((r) => (timer = setTimeout(() => r('timed out'), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const channelFile = (address: string) => join('/dev/shm', address.slice('shm:'.length));

export async function transportTrials(o: TransportOptions): Promise<TransportSummary> {
  const countsSegment = Segment.create(o.countsAddress, { size: COUNTS_BYTES });
  const counts = new Int32Array(countsSegment.buffer, 0, COUNTS.SLOTS);
  const summary: TransportSummary = {
    trials: o.trials,
    seconds: 0,
    channelTrials: 0,
    forkTrials: 0,
    messageKinds: { small: 0, big: 0, tiny: 0 },
    readers: { listening: 0, busy: 0, late: 0, closed: 0 },
    midMessageWindows: 0,
    windowMisses: 0,
    startupKills: 0,
    startupKillsInJoin: 0,
    startupKillsBeforeJoin: 0,
    messages: 0,
    problems: 0,
  };
  const startedAt = Date.now();
  let startupCandidates = 0;
  let connectorStartups = 0;

  function track(child: ChildProcess): Promise<void> {
    o.peers.add(child);
    return new Promise<void>((resolve) =>
      child.on('close', () => {
        o.peers.delete(child);
        resolve();
      }),
    );
  }

  /** The peer starts, and (window trials) finds its window; the soak reads nothing of it before. */
  async function peerStarted(trial: Trial, exited: () => boolean, problems: string[]): Promise<void> {
    if (!(await waitFor(() => Atomics.load(counts, COUNTS.READY) === 1 || exited(), WATCHDOG_MS)) || exited()) problems.push('the peer did not start');
    if (trial.windowed && !(await waitFor(() => Atomics.load(counts, COUNTS.WINDOW) !== 0 || exited(), WATCHDOG_MS))) {
      problems.push('the peer neither found a window nor went on');
    }
  }

  /**
   * Lets the reader read a while, then SIGKILLs `child`: busy and late readers hold this
   * thread from just before the kill until the child is dead, and `thenAtOnce` (a late
   * reader's first listener) runs before the loop does again.
   */
  async function kill(trial: Trial, child: ChildProcess, problems: string[], thenAtOnce?: () => void): Promise<void> {
    // Nobody reads yet: tiny messages fill the ring with several turns of reading first.
    if (trial.messages === 'tiny' && (trial.reader === 'late' || trial.reader === 'closed')) {
      await waitFor(() => Atomics.load(counts, COUNTS.WRITTEN) >= SEVERAL_TURNS, WATCHDOG_MS);
    }
    // A frozen window peer sends nothing more: the reader gets a moment, or none.
    await sleep(trial.windowed ? o.random() % 4 : o.random() % 40);
    if (trial.reader === 'listening' || trial.reader === 'closed') {
      child.kill('SIGKILL');
      return;
    }
    spinUntil(() => false, o.random() % 3); // the peer fills the ring meanwhile
    child.kill('SIGKILL');
    if (!spinUntil(() => isDead(child.pid!), WATCHDOG_MS)) problems.push(`the peer was not dead ${WATCHDOG_MS} ms after SIGKILL`);
    thenAtOnce?.();
  }

  /**
   * The connector's identity word: non-zero once a peer has taken its place in the channel.
   * A segment already gone was removed by this side's Channel, which learned of the joined
   * peer and of its death.
   */
  function connectorJoined(): boolean {
    let segment: Segment;
    try {
      segment = Segment.open(o.channelAddress);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return true;
      throw err;
    }
    try {
      return Atomics.load(new BigInt64Array(segment.buffer, 0, HEADER_SIZE / 8), i64Index(ownerOffset(CONNECTOR))) !== 0n;
    } finally {
      segment.close();
    }
  }

  /** What arrived against the dead peer's counts. */
  function checkCounts(trial: Trial, received: number, problems: string[]): void {
    const posted = Atomics.load(counts, COUNTS.POSTED);
    const written = Atomics.load(counts, COUNTS.WRITTEN);
    const window = Atomics.load(counts, COUNTS.WINDOW);
    if (trial.windowed && window > 0) {
      summary.midMessageWindows++;
      if (received !== window - 1) problems.push(`${received} messages arrived; the peer froze with ${window - 1} in the ring and part of message ${window - 1}`);
      return;
    }
    if (trial.windowed && window < 0) summary.windowMisses++;
    if (received < written) problems.push(`${received} messages arrived, ${written} were in shared memory`);
    if (received > posted) problems.push(`${received} messages arrived, ${posted} were posted`);
  }

  /** Checks each message as it arrives: the next one in order, whole. */
  function arrivals(isNext: (n: number, m: unknown) => boolean) {
    const state = { received: 0, bad: undefined as string | undefined };
    const take = (m: unknown) => {
      if (state.bad === undefined && !isNext(state.received, m)) state.bad = `message ${state.received} expected, ${describe(m)} arrived`;
      state.received++;
    };
    return { state, take };
  }

  async function channelTrial(trial: Trial, problems: string[]): Promise<number> {
    const { peer, messages, seed } = trial;
    const bytes = pattern(seed);
    const address = o.channelAddress;
    const { state, take } = arrivals((n, m) => isRawMessage(bytes, seed, n, messages, m));
    let closed: Error | null | undefined; // undefined until 'close'; null: closed without an error
    let afterClose = 0;
    let channel: Channel | undefined;
    const attach = (ch: Channel) => {
      channel = ch;
      ch.once('close', (reason?: Error) => (closed = reason ?? null));
    };
    const listen = () =>
      channel!.on('message', (m) => {
        if (closed !== undefined) afterClose++;
        take(m);
      });
    if (peer === 'channel-connect') attach(Channel.create(address, { capacity: capacityOf(messages), codec: 'raw' }));
    const stop = trial.windowed ? 'message' : trial.startup === 'join' ? 'join' : '-';
    const child = spawn(process.execPath, [PEER, peer, address, o.countsAddress, String(seed), messages, stop], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = track(child);

    let joined = true;
    if (trial.startup) {
      listen();
      if (trial.startup === 'random') await sleep(o.random() % 120);
      else if (!(await waitFor(() => Atomics.load(counts, COUNTS.JOINING) === 1 || child.exitCode !== null, WATCHDOG_MS))) problems.push('the peer did not reach its join');
      child.kill('SIGKILL');
      await exited;
      joined = connectorJoined();
      if (!joined) summary.startupKillsBeforeJoin++;
    } else {
      await peerStarted(trial, () => child.exitCode !== null, problems);
      if (peer === 'channel-create') attach(Channel.connect(address, { codec: 'raw' }));
      if (trial.reader === 'listening' || trial.reader === 'busy') listen();
      await kill(trial, child, problems, trial.reader === 'late' ? listen : undefined);
      await exited;
    }

    if (joined) {
      const when = trial.startup === 'join' ? ' inside its join' : trial.startup ? ' while starting' : '';
      if (!(await waitFor(() => closed !== undefined, WATCHDOG_MS))) problems.push(`no 'close' ${WATCHDOG_MS} ms after the peer died${when} (it had taken its place)`);
      else if ((closed as (Error & { code?: string }) | null)?.code !== 'ERR_PEER_DEAD') problems.push(`'close' with ${String(closed)}, not ERR_PEER_DEAD`);
    }
    if (closed === undefined) {
      channel!.close(); // a peer that never joined (or a hang, counted above): this end ends it
      if (!(await waitFor(() => closed !== undefined, WATCHDOG_MS))) problems.push("no 'close' after close()");
    }
    // What the peer published and no listener has had by 'close' is kept for receiveMessage().
    let kept = 0;
    for (let next = channel!.receiveMessage(); next !== undefined; next = channel!.receiveMessage()) {
      kept++;
      take(next.message);
    }
    if (kept > 0 && trial.reader !== 'closed') problems.push(`${kept} messages were not given to the listener before 'close'`);
    if (afterClose > 0) problems.push(`${afterClose} messages after 'close'`);
    if (state.bad !== undefined) problems.push(state.bad);
    checkCounts(trial, state.received, problems);
    if (existsSync(channelFile(address))) {
      problems.push(`the channel's segment ${address} was left behind`);
      Segment.unlink(address);
    }
    return state.received;
  }

  async function forkTrial(trial: Trial, problems: string[]): Promise<number> {
    const { messages, seed } = trial;
    const text = patternText(pattern(seed));
    const { state, take } = arrivals((n, m) => isValueMessage(text, seed, n, messages, m));
    const child = fork(PEER, ['fork', o.countsAddress, String(seed), messages, trial.windowed ? 'message' : '-'], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: seed & 1 ? 'advanced' : 'json',
      shm: { capacity: capacityOf(messages) },
    });
    const closedStdio = track(child);
    let disconnected = false;
    let afterDisconnect = 0;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on('disconnect', () => (disconnected = true));
    child.on('exit', (code, signal) => (exit = { code, signal }));
    child.on('error', (err) => problems.push(`'error': ${String(err)}`));
    const listen = () =>
      child.on('message', (m) => {
        if (disconnected) afterDisconnect++;
        take(m);
      });
    if (trial.startup) {
      listen();
      await sleep(o.random() % 120);
      child.kill('SIGKILL');
    } else {
      await peerStarted(trial, () => exit !== undefined, problems);
      if (trial.reader !== 'late') listen();
      await kill(trial, child, problems, trial.reader === 'late' ? listen : undefined);
    }
    if (!(await waitFor(() => exit !== undefined && disconnected, WATCHDOG_MS))) {
      problems.push(`${exit === undefined ? "no 'exit'" : ''}${disconnected ? '' : " no 'disconnect'"} ${WATCHDOG_MS} ms after the kill`);
    } else if (exit!.signal !== 'SIGKILL') problems.push(`'exit' with ${exit!.code}/${exit!.signal}`);
    if ((await within(closedStdio, WATCHDOG_MS)) === 'timed out') problems.push("no 'close' after 'exit'");
    if (afterDisconnect > 0) problems.push(`${afterDisconnect} messages after 'disconnect'`);
    if (state.bad !== undefined) problems.push(state.bad);
    checkCounts(trial, state.received, problems);
    return state.received;
  }

  try {
    for (let index = 0; index < o.trials; index++) {
      const peer = PEERS[index % PEERS.length]!;
      // Every three trials have one of each kind of messages; every nine, each pair of peer and kind.
      const messages = MESSAGES[(index + Math.floor(index / PEERS.length)) % MESSAGES.length]!;
      const windowed = messages === 'big' && o.random() % 3 === 0;
      // A peer that makes the channel and dies before anyone joins leaves its segment by design: no start-up kills there.
      // Every other start-up kill of a Channel connector waits for it inside its join.
      let startup: Trial['startup'] = false;
      if (!windowed && peer !== 'channel-create' && o.startupKillEvery > 0 && ++startupCandidates % o.startupKillEvery === 0) {
        startup = peer === 'channel-connect' && connectorStartups++ % 2 === 0 ? 'join' : 'random';
      }
      // fork() has no 'closed' reader: Node's fork emits a message to the listeners it has, and none are left after 'disconnect'.
      const reader = startup ? 'listening' : READERS[o.random() % (peer === 'fork' ? 3 : 4)]!;
      const trial: Trial = { index, peer, messages, windowed, startup, reader, seed: o.random() };
      counts.fill(0);
      const problems: string[] = [];
      try {
        if (peer === 'fork') {
          summary.forkTrials++;
          summary.messages += await forkTrial(trial, problems);
        } else {
          summary.channelTrials++;
          summary.messages += await channelTrial(trial, problems);
        }
      } catch (err) {
        problems.push(`threw ${String(err)}`);
        for (const p of o.peers) p.kill('SIGKILL');
        await waitFor(() => o.peers.size === 0, WATCHDOG_MS);
        if (existsSync(channelFile(o.channelAddress))) Segment.unlink(o.channelAddress);
      }
      if (startup) summary.startupKills++;
      if (startup === 'join') summary.startupKillsInJoin++;
      summary.messageKinds[messages]++;
      summary.readers[reader]++;
      if (problems.length > 0) {
        summary.problems++;
        const what = [peer, `${messages} messages`, windowed ? 'window' : '', startup === 'join' ? 'killed inside its join' : startup ? 'killed while starting' : `${reader} reader`, `seed ${trial.seed}`].filter(Boolean).join(', ');
        process.stderr.write(`  ! transport trial ${index} (${what}): ${problems.join('; ')}\n`);
      }
      o.trialDone();
      if ((index + 1) % o.progressEvery === 0) {
        process.stderr.write(
          `  … transport ${index + 1}/${o.trials} trials (${summary.midMessageWindows} killed mid-message, ${summary.startupKills} while starting), ${summary.messages} messages, ${summary.problems} problems, RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB\n`,
        );
      }
    }
  } finally {
    countsSegment.close();
    Segment.unlink(o.countsAddress);
  }
  summary.seconds = Math.round((Date.now() - startedAt) / 1000);
  return summary;
}
