// The `shmring` command: inspect, ls, rm and bench. Output is for people (or --json for
// scripts); bad arguments print the usage and exit with code 2. Every name and message
// printed for people goes through printable() (anyone can name a /dev/shm object).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ShmError } from '../errors.js';
import { describeSegment, type SegmentDescription } from '../admin/contents.js';
import { findSegments, removeStale } from '../admin/stale.js';
import { parseAddress } from '../segment/address.js';
import { peekSysv, type ReadAt } from '../segment/discovery.js';
import { Segment } from '../segment/segment.js';
import { jsonForTerminal, printable } from './printable.js';

const USAGE = `usage: shmring <command>
  shmring inspect <address> [--offset N] [--json]
                                       header, positions, fill level, participants of a ring
                                       (at byteOffset N of the segment, default 0), or of a channel:
                                       both ends and the bytes queued each way
  shmring ls [--stale] [--json]        shmring rings and channels on this machine (POSIX shm and System V)
  shmring rm <address>...              remove segments (shm_unlink, unlink, IPC_RMID)
  shmring rm --stale                   remove every stale segment (no process maps it, all participants or ends dead);
                                       not root: only your own, and only what no unseen process may map
  shmring bench [--quick|--full] [--json] [--only S] [--out DIR] [--compare OLD.json]
                                       measure shmring against pipes, sockets, queues and Node's IPC
                                       on this machine (shmring bench --help)
addresses: shm:NAME, file:/abs/path, sysv:KEY, sysv:/path:PROJ
names are printed with C-style escapes (\\\\, \\n, \\xHH, \\u{HHHH}); --json keeps them raw`;

class UsageError extends Error {}

function describe(address: string, size: number, what: SegmentDescription, extra = ''): string {
  const title = what.kind === 'Channel' ? 'channel' : `${what.kind} ring`;
  const lines = [`${printable(address)}  ${title} v${what.version}, ${size} bytes${what.ready ? '' : ' (NOT READY)'}${extra}`];
  lines.push(`  ${Object.entries(what.figures).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (what.kind !== 'Channel' && what.producerClosed) lines.push('  the producer closed the stream');
  if (what.kind === 'Channel' && what.problem !== undefined) lines.push(`  ${printable(what.problem)}`);
  for (const p of what.participants) {
    const where = p.state === undefined ? '' : ` ${p.state}${p.state === 'idle' ? '' : ` at ${p.position}`}`;
    const who = `pid ${p.pid}${p.thread === undefined ? '' : ` thread ${p.thread}`}`;
    const alive = p.foreignNamespace ? 'in another PID namespace (counted alive)' : p.alive ? 'alive' : 'dead';
    lines.push(`  ${p.role}: ${who} ${alive}${p.closed ? ', closed' : ''}${where}`);
  }
  if (what.participants.length === 0) lines.push('  no participants');
  return lines.join('\n');
}

function inspect(args: string[]): number {
  const json = args.includes('--json');
  const rest: string[] = [];
  let offset = 0;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--json') continue;
    if (args[i] === '--offset') {
      offset = Number(args[++i]);
      if (!Number.isInteger(offset) || offset < 0 || offset % 128 !== 0) throw new UsageError('--offset takes a multiple of 128');
      continue;
    }
    rest.push(args[i]!);
  }
  if (rest.length !== 1) throw new UsageError('inspect takes one address');
  const address = rest[0]!;
  const parsed = parseAddress(address);
  let size: number;
  let what: SegmentDescription | undefined;
  if (parsed.kind === 'sysv' || parsed.kind === 'sysv-ftok') {
    // Copies through read-only attachments: System V has no private mapping to open instead.
    const peeked = peekSysv(address, 0);
    size = peeked.size;
    what = describeSegment(peeked.read, offset);
  } else {
    // A private read-only view: looking at another user's segment is harmless, so trusted.
    const segment = Segment.open(address, { readOnly: true, trustForeign: true });
    size = segment.size;
    try {
      const read: ReadAt = (at, length) => new Uint8Array(segment.buffer, Math.min(at, size), Math.max(0, Math.min(size - at, length)));
      what = describeSegment(read, offset);
    } finally {
      segment.close();
    }
  }
  if (what === undefined) {
    const at = offset === 0 ? 'no ring or channel header at offset 0' : `no ring header at offset ${offset}`;
    console.error(`${printable(address)}: ${size} bytes, not a shmring ring or channel (${at})`);
    return 1;
  }
  console.log(json ? jsonForTerminal({ address, size, ...what }) : describe(address, size, what));
  return 0;
}

function list(args: string[]): number {
  const json = args.includes('--json');
  const staleOnly = args.includes('--stale');
  for (const a of args) if (a !== '--json' && a !== '--stale') throw new UsageError(`unknown option ${jsonForTerminal(a)}`);
  const found = findSegments().filter((s) => !staleOnly || s.stale);
  if (json) {
    console.log(jsonForTerminal(found));
  } else if (found.length === 0) {
    console.log(staleOnly ? 'no stale shmring segments' : 'no shmring segments');
  } else {
    for (const s of found) {
      const users = s.usersKnown ? `${s.users}` : `at least ${s.users} (unknown: some processes' maps cannot be read)`;
      console.log(describe(s.address, s.size, s.description, `, used by ${users} process(es)${s.stale ? ', STALE' : ''}`));
    }
  }
  return 0;
}

function remove(args: string[]): number {
  if (args.length === 0) throw new UsageError('rm takes addresses or --stale');
  if (args.includes('--stale')) {
    if (args.length !== 1) throw new UsageError('rm --stale takes no addresses');
    // One line per segment (removed / kept: reason / failed: error); an error does not stop the rest.
    const report = removeStale();
    for (const r of report) {
      const line = `${r.outcome} ${printable(r.address)}${r.reason === undefined ? '' : `: ${printable(r.reason)}`}`;
      if (r.outcome === 'failed') console.error(line);
      else console.log(line);
    }
    if (report.length === 0) console.log('no stale shmring segments');
    return report.some((r) => r.outcome === 'failed') ? 1 : 0;
  }
  let status = 0;
  for (const address of args) {
    parseAddress(address); // a malformed one is a usage error before anything is removed
  }
  for (const address of args) {
    try {
      Segment.unlink(address);
      console.log(`removed ${printable(address)}`);
    } catch (err) {
      if (!(err instanceof ShmError)) throw err;
      console.error(`${printable(address)}: ${printable(err.message)}`);
      status = 1;
    }
  }
  return status;
}

/**
 * The benchmark, compiled beside this file into dist/bench by the build, run in this
 * process (so that Ctrl-C reaches its cleanup). Its scenarios may leave a native handle
 * that keeps the loop alive (seen once after a piscina pool ran in this process), so the
 * command exits once its output is written.
 */
async function bench(args: string[]): Promise<number> {
  const runner = new URL('../bench/run.js', import.meta.url);
  if (!existsSync(fileURLToPath(runner))) {
    console.error(`shmring bench: the benchmark is not built beside ${printable(fileURLToPath(import.meta.url))} (in a clone: npm run build)`);
    return 1;
  }
  let code: number;
  try {
    const { runBench } = (await import(runner.href)) as { runBench(argv: string[]): Promise<number> };
    code = await runBench(args);
  } catch (err) {
    console.error(`shmring bench: ${printable(err instanceof Error ? (err.stack ?? err.message) : String(err))}`);
    code = 1;
  }
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

/** Runs one command; the exit code (a promise for bench, which runs for minutes). */
export function main(argv: string[]): number | Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'inspect':
        return inspect(args);
      case 'ls':
        return list(args);
      case 'rm':
        return remove(args);
      case 'bench':
        return bench(args);
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return 0;
      default:
        throw new UsageError(command === undefined ? 'no command' : `unknown command ${jsonForTerminal(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof TypeError || err instanceof RangeError) {
      console.error(`shmring: ${printable(err.message)}\n${USAGE}`);
      return 2;
    }
    if (err instanceof ShmError) {
      console.error(`shmring: ${printable(err.message)}`);
      return 1;
    }
    throw err;
  }
}
