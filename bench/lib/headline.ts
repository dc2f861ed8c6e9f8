// The first lines a reader sees of a run: the handful of factors between shmring and Node's
// alternatives that decide whether shmring is worth it on this machine, and one against the
// JS ceiling that says what the Channel's own machinery costs. Every factor is a
// ratio of two figures of the same run (never of figures from different runs or machines);
// a line whose rows are missing or skipped (an `--only` run, a failed competitor) is left out.
import { best, bestAlternative, factor, familyOf, groups, type Group } from './families.js';
import { formatFactor } from './report.js';
import type { Row } from './scenario.js';

/** Payload sizes of the throughput scenario with a line of their own; the others share one. */
const SMALL = '64 B';
const LARGE = '1 MiB';

/** How the lines name some competitors in a sentence. */
const NAMES: Record<string, string> = {
  'Unix socket': 'a Unix socket',
  pipe: 'a pipe',
  worker_threads: 'a worker_threads MessagePort',
};
const named = (competitor: string) => NAMES[competitor] ?? competitor;

/** Round-trip times as read aloud: 0.47 µs, 5.2 µs, 129 µs. */
function micros(row: Row): string {
  const value = row.figures.median_us!;
  return `${value < 1 ? value.toPrecision(2) : value < 10 ? value.toFixed(1) : value.toFixed(0)} µs`;
}

/** `mine`'s factor over `theirs` in `group`, or undefined when a figure is missing or zero. */
function ratio(group: Group, mine: Row, theirs: Row): number | undefined {
  const f = factor(mine, theirs, group.figure);
  return Number.isFinite(f) ? f : undefined;
}

/** `89× faster than`, or `1.2× slower than` when the factor is below 1. */
function faster(f: number): string {
  return f >= 1 ? `${formatFactor(f)} faster than` : `${formatFactor(1 / f)} slower than`;
}

/** Looks rows up in the groups of one run. */
class Finder {
  readonly #groups: Group[];

  constructor(rows: Row[]) {
    this.#groups = groups(rows);
  }

  group(scenario: string, payload: string, figure: string): Group | undefined {
    return this.#groups.find((g) => g.scenario === scenario && g.payload === payload && g.figure.name === figure);
  }

  groups(scenario: string): Group[] {
    return this.#groups.filter((g) => g.scenario === scenario);
  }
}

/** The best row of `group` by `competitor` whose setup passes `setup` (all when omitted). */
function pick(group: Group | undefined, competitor: string, setup: (s: string) => boolean = () => true): Row | undefined {
  if (group === undefined) return undefined;
  return best(
    group.rows.filter((r) => r.competitor === competitor && setup(r.setup)),
    group.figure,
  );
}

/**
 * `29× a Unix socket`: `mine` against the best setup of `competitor` (of those `setup` passes),
 * called `name`; or undefined.
 */
function against(group: Group, mine: Row, competitor: string, setup?: (s: string) => boolean, name = named(competitor)): string | undefined {
  const theirs = pick(group, competitor, setup);
  const f = theirs && ratio(group, mine, theirs);
  return f === undefined ? undefined : `${formatFactor(f)} ${name}`;
}

const defined = <T>(x: T | undefined): x is T => x !== undefined;
const copyPerMessage = (s: string) => s.startsWith('copy per message');

/**
 * `64 B messages: shmring SPSC 29× a Unix socket, 35× child_process IPC (best Node
 * alternative: System V msgq, 19×)`, for shmring's default (a copy, published per message).
 */
function throughputLine(find: Finder, size: string): string | undefined {
  const group = find.group('throughput', size, 'mb_per_s');
  const mine = pick(group, 'shmring SPSC', copyPerMessage);
  const alternative = group && bestAlternative(group.rows, group.figure);
  const f = group && mine && alternative && ratio(group, mine, alternative);
  if (group === undefined || mine === undefined || alternative === undefined || f === undefined) return undefined;
  const parts = ['Unix socket', 'child_process IPC'].map((c) => against(group, mine, c)).filter(defined);
  const notes = [`best Node alternative: ${alternative.competitor}, ${formatFactor(f)}`];
  const zeroCopy = size === LARGE ? pick(group, 'shmring SPSC', (s) => s.startsWith('zero-copy')) : undefined;
  const z = zeroCopy && ratio(group, zeroCopy, alternative);
  if (z !== undefined) notes.push(`zero-copy claim: ${formatFactor(z)}`);
  const versus = parts.length > 0 ? parts.join(', ') : `${formatFactor(f)} the best Node alternative`;
  return `${size} messages: shmring SPSC ${versus} (${notes.join('; ')})`;
}

/** `1 KiB / 64 KiB messages: shmring SPSC 4.7× / 2.1× the best Node alternative (POSIX mq / worker_threads)` */
function middleSizesLine(find: Finder): string | undefined {
  const found = find
    .groups('throughput')
    .filter((g) => g.figure.name === 'mb_per_s' && g.payload !== SMALL && g.payload !== LARGE)
    .flatMap((group) => {
      const mine = pick(group, 'shmring SPSC', copyPerMessage);
      const alternative = bestAlternative(group.rows, group.figure);
      const f = mine && alternative && ratio(group, mine, alternative);
      return f === undefined ? [] : [{ size: group.payload, alternative: alternative!.competitor, f }];
    });
  if (found.length === 0) return undefined;
  const each = (f: (x: (typeof found)[number]) => string) => found.map(f).join(' / ');
  return `${each((x) => x.size)} messages: shmring SPSC ${each((x) => formatFactor(x.f))} the best Node alternative (${each((x) => x.alternative)})`;
}

/** `64 B round trip: shmring SPSC 0.47 µs spinning, 89× faster than a pipe (42 µs); parked …` */
function roundTripLine(find: Finder): string | undefined {
  const group = find.group('latency', SMALL, 'median_us');
  const spin = pick(group, 'shmring SPSC', (s) => s.endsWith('receiver spins'));
  const pipe = pick(group, 'pipe');
  const f = group && spin && pipe && ratio(group, spin, pipe);
  if (group === undefined || spin === undefined || pipe === undefined || f === undefined) return undefined;
  let line = `${SMALL} round trip: shmring SPSC ${micros(spin)} spinning, ${faster(f)} a pipe (${micros(pipe)})`;
  const park = pick(group, 'shmring SPSC', (s) => s.endsWith('receiver parks (futex)'));
  const p = park && ratio(group, park, pipe);
  if (p !== undefined) line += `; parked on a futex ${micros(park!)}, ${faster(p).replace(/ than$/, '')}`;
  return line;
}

/**
 * `Small objects: shmring Channel 2.3× child_process IPC and 1.9× a worker_threads
 * MessagePort one way; idle round trip 129 µs, 1.4× slower than child_process IPC (95 µs)`
 */
function channelLine(find: Finder): string | undefined {
  const parts: string[] = [];
  const oneWay = find.group('transport', 'small', 'msgs_per_s');
  const mine = pick(oneWay, 'shmring Channel', (s) => s.startsWith('default codec'));
  if (oneWay !== undefined && mine !== undefined) {
    const versus = ['child_process IPC', 'worker_threads'].map((c) => against(oneWay, mine, c)).filter(defined);
    if (versus.length > 0) parts.push(`${versus.join(' and ')} one way`);
  }
  const idle = find.group('transport', 'small object', 'median_us');
  const trip = pick(idle, 'shmring Channel', (s) => s.startsWith('default codec'));
  const ipc = pick(idle, 'child_process IPC');
  const f = idle && trip && ipc && ratio(idle, trip, ipc);
  if (f !== undefined) parts.push(`idle round trip ${micros(trip!)}, ${faster(f)} child_process IPC (${micros(ipc!)})`);
  return parts.length === 0 ? undefined : `Small objects: shmring Channel ${parts.join('; ')}`;
}

/** `Small objects one way: shmring fork 2.2× child_process.fork with json, 1.6× with advanced` */
function forkLine(find: Finder): string | undefined {
  const group = find.group('transport', 'small', 'msgs_per_s');
  if (group === undefined) return undefined;
  const parts = group.rows
    .filter((r) => r.competitor === 'shmring fork')
    .flatMap((mine) => {
      // the same setup (fork, the same serialization) under Node's own child_process
      const theirs = group.rows.find((r) => r.competitor === 'child_process IPC' && r.setup === mine.setup);
      const f = theirs && ratio(group, mine, theirs);
      const serialization = mine.setup.replace(/^fork, /, '').replace(/, one-way, .*$/, '');
      return f === undefined ? [] : [`${formatFactor(f)} with ${serialization}`];
    });
  return parts.length === 0 ? undefined : `Small objects one way: shmring fork ${parts.join(', ').replace(/×/, '× child_process.fork')}`;
}

/** shmring's setups held against the JS ceiling with the same encoding (transport/ceiling.ts). */
const CEILINGS = [
  { name: 'shmring Channel', competitor: 'shmring Channel', setup: 'default codec', ceiling: 'SpscRing + msgpackr' },
  { name: 'shmring fork (json)', competitor: 'shmring fork', setup: 'fork, json', ceiling: 'SpscRing + JSON' },
];
const CEILING_PAYLOADS = [
  ['small', 'small objects'],
  ['array', 'arrays'],
] as const;

/**
 * `Against the JS ceiling (the same encoding over a bare SpscRing), one way: shmring Channel
 * 0.62× small objects, 0.95× arrays; shmring fork (json) 0.41× small objects, 0.9× arrays`:
 * what the Channel's and fork()'s machinery costs over the least JavaScript can do.
 */
function ceilingLine(find: Finder): string | undefined {
  const parts = CEILINGS.flatMap(({ name, competitor, setup, ceiling }) => {
    const each = CEILING_PAYLOADS.flatMap(([payload, what]) => {
      const group = find.group('transport', payload, 'msgs_per_s');
      const mine = pick(group, competitor, (s) => s.startsWith(setup));
      const bar = pick(group, 'JS ceiling', (s) => s.startsWith(ceiling));
      const f = group && mine && bar && ratio(group, mine, bar);
      return f === undefined ? [] : [`${formatFactor(f)} ${what}`];
    });
    return each.length === 0 ? [] : [`${name} ${each.join(', ')}`];
  });
  return parts.length === 0 ? undefined : `Against the JS ceiling (the same encoding over a bare SpscRing), one way: ${parts.join('; ')}`;
}

/** `Relaying 256 MiB from file to file through another process: shmring SPSC 2.0× a pipe, shmring Channel 0.62× a pipe` */
function relayLine(find: Finder): string | undefined {
  const group = find.groups('relay')[0];
  const alternative = group && bestAlternative(group.rows, group.figure);
  if (group === undefined || alternative === undefined) return undefined;
  const parts = group.rows
    .filter((r) => familyOf(r) === 'shmring')
    .flatMap((r) => {
      const f = ratio(group, r, alternative);
      return f === undefined ? [] : [`${r.competitor} ${formatFactor(f)} ${named(alternative.competitor)}`];
    });
  const what = group.payload === '' ? 'a file' : group.payload;
  return parts.length === 0 ? undefined : `Relaying ${what} from file to file through another process: ${parts.join(', ')}`;
}

/**
 * `Typed records ({ id, ts, payload }) one way: shmring Channel with a schema 9.7×
 * child_process IPC json, 1.9× the Channel's default codec`
 */
function typedLine(find: Finder): string | undefined {
  const group = find.group('transport', 'small', 'msgs_per_s');
  const mine = pick(group, 'shmring Channel', (s) => s.startsWith('schema codec'));
  if (group === undefined || mine === undefined) return undefined;
  const versus = [
    ['child_process IPC', (s: string) => s.startsWith('fork, json'), 'child_process IPC json'],
    ['shmring Channel', (s: string) => s.startsWith('default codec'), "the Channel's default codec"],
  ] as const;
  const parts = versus.map(([competitor, setup, name]) => against(group, mine, competitor, setup, name)).filter(defined);
  return parts.length === 0 ? undefined : `Typed records ({ id, ts, payload }) one way: shmring Channel with a schema ${parts.join(', ')}`;
}

/**
 * `Process pools, 2 workers, tiny tasks: shmring ProcessPool 2.4× tinypool (child_process),
 * 2.1× workerpool (processes), 0.56× piscina (threads); 1 MiB Buffers: 1.0× tinypool, ...`
 */
function poolLine(find: Finder): string | undefined {
  const POOLS = [
    ['tinypool', 'tinypool (child_process)'],
    ['workerpool', 'workerpool (processes)'],
    ['piscina', 'piscina (threads)'],
  ] as const;
  const sizes = [
    ['', 'tasks_per_s', 'tiny tasks'],
    ['1 MiB', 'mb_per_s', '1 MiB Buffers'],
  ] as const;
  const parts = sizes.flatMap(([payload, figure, what]) => {
    const group = find.group('pool', payload, figure);
    const mine = pick(group, 'shmring ProcessPool', (s) => /^pool\.run\(\), 2 worker processes, (tiny|1 MiB)/.test(s));
    if (group === undefined || mine === undefined) return [];
    const each = POOLS.map(([competitor, name]) => against(group, mine, competitor, undefined, name)).filter(defined);
    return each.length === 0 ? [] : [`${what}: shmring ProcessPool ${each.join(', ')}`];
  });
  return parts.length === 0 ? undefined : `Process pools, 2 workers each: ${parts.join('; ')}`;
}

/**
 * `Over ZeroMQ (tcp loopback), one way: shmring Channel 0.80× at 64 B, 0.40× at 64 KiB the raw
 * zeromq.js PUSH/PULL; on one host the shared-memory Channel is 7.0× the ZeroMQ one`
 */
function zmqLine(find: Finder): string | undefined {
  const sizes = ['64 B', '64 KiB'].flatMap((size) => {
    const group = find.group('zmq', size, 'mb_per_s');
    const mine = pick(group, 'shmring Channel over ZeroMQ');
    const raw = pick(group, 'zeromq.js PUSH/PULL');
    const f = group && mine && raw && ratio(group, mine, raw);
    return f === undefined ? [] : [`${formatFactor(f)} at ${size}`];
  });
  const parts = sizes.length === 0 ? [] : [`shmring Channel ${sizes.join(', ')} the raw zeromq.js PUSH/PULL`];
  const small = find.group('zmq', 'small', 'msgs_per_s');
  const shm = pick(small, 'shmring Channel');
  const over = pick(small, 'shmring Channel over ZeroMQ');
  const f = small && shm && over && ratio(small, shm, over);
  if (f !== undefined) parts.push(`on one host the shared-memory Channel is ${formatFactor(f)} the ZeroMQ one`);
  return parts.length === 0 ? undefined : `Over ZeroMQ (tcp loopback), one way: ${parts.join('; ')}`;
}

/** The headline lines of a run, most telling first, each with real factors. */
export function headlines(rows: Row[]): string[] {
  const find = new Finder(rows);
  return [
    throughputLine(find, SMALL),
    middleSizesLine(find),
    throughputLine(find, LARGE),
    roundTripLine(find),
    channelLine(find),
    forkLine(find),
    typedLine(find),
    poolLine(find),
    zmqLine(find),
    ceilingLine(find),
    relayLine(find),
  ].filter(defined);
}
