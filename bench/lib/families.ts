// Who each benchmark row speaks for (shmring, a reference, or one of Node's alternatives),
// the figure it is judged by, which rows it can fairly be compared with, and the factor
// between two of them. The headlines, the chart and the comparison of runs all ask here.
import type { Row } from './scenario.js';

export type Family = NonNullable<Row['family']>;

/**
 * A row's family: its explicit `family` if it has one; otherwise shmring's own competitors
 * are named `shmring …`, the references are memcpy, the C programs (`C ring`, `C …`) and
 * the JS ceiling and the ring's own zero-copy claim (`SpscRing claim`: the least JavaScript
 * can do over a ring: bars, not choices a user has), and everything else is one of Node's
 * alternatives.
 */
export function familyOf(row: Pick<Row, 'competitor' | 'family'>): Family {
  if (row.family !== undefined) return row.family;
  if (row.competitor.startsWith('shmring')) return 'shmring';
  if (row.competitor === 'memcpy' || row.competitor === 'C ring' || row.competitor.startsWith('C ') || row.competitor === 'JS ceiling' || row.competitor === 'SpscRing claim') return 'reference';
  return 'alternative';
}

/** The figure a row is judged by, and which way is better. */
export interface Figure {
  name: string;
  better: 'higher' | 'lower';
  unit: string;
}

/** Known main figures, in order of preference: a row is judged by the first it carries. */
const FIGURES: Figure[] = [
  { name: 'mb_per_s', better: 'higher', unit: 'MB/s' },
  { name: 'gb_per_s', better: 'higher', unit: 'GB/s' },
  { name: 'msgs_per_s', better: 'higher', unit: 'messages/s' },
  { name: 'median_us', better: 'lower', unit: 'µs' },
  { name: 'readfile_median_us', better: 'lower', unit: 'µs' },
];

/**
 * The figure a row is judged by: a known one, else the first rate (`…_per_s`, higher is
 * better) or time (`…_us`, `…_ns`, lower is better). Undefined for a skipped row.
 */
export function mainFigure(row: Pick<Row, 'figures'>): Figure | undefined {
  const known = FIGURES.find((f) => f.name in row.figures);
  if (known !== undefined) return known;
  for (const name of Object.keys(row.figures)) {
    if (name.endsWith('_per_s')) return { name, better: 'higher', unit: `${name.slice(0, -'_per_s'.length)}/s` };
    if (name.endsWith('_us')) return { name, better: 'lower', unit: 'µs' };
    if (name.endsWith('_ns')) return { name, better: 'lower', unit: 'ns' };
  }
  return undefined;
}

/** A row's figure if it ran and the figure is a finite number, else undefined. */
export function valueOf(row: Row, figure: Figure): number | undefined {
  if (row.skipped !== undefined) return undefined;
  const value = row.figures[figure.name];
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

/**
 * How many times better `row` did than `against` (above 1: better, below 1: worse), for
 * rates and times alike; NaN when either lacks the figure.
 */
export function factor(row: Row, against: Row, figure: Figure): number {
  const mine = valueOf(row, figure);
  const theirs = valueOf(against, figure);
  if (mine === undefined || theirs === undefined || mine <= 0 || theirs <= 0) return NaN;
  return figure.better === 'higher' ? mine / theirs : theirs / mine;
}

/** The best of `rows` by `figure` (rows without it, or with zero, are passed over), or undefined. */
export function best(rows: Row[], figure: Figure): Row | undefined {
  let winner: Row | undefined;
  for (const row of rows) {
    if (!((valueOf(row, figure) ?? 0) > 0)) continue;
    if (winner === undefined || factor(row, winner, figure) > 1) winner = row;
  }
  return winner;
}

/**
 * The best of Node's alternatives among comparable rows (see `groups`), judged by their
 * common main figure: the bar shmring has to beat.
 */
export function bestAlternative(rows: Row[], figure = rows.map(mainFigure).find((f) => f !== undefined)): Row | undefined {
  if (figure === undefined) return undefined;
  return best(
    rows.filter((r) => familyOf(r) === 'alternative'),
    figure,
  );
}

/** A payload size as the setups write it: `64 B`, `1 KiB`, `8 MiB`. */
const SIZE = /\b\d+(?:\.\d+)? (?:B|KiB|MiB|GiB)\b/g;

/**
 * What a row carries: the transport's named payloads (`…, one-way, small`, `…, idle round
 * trip, small object`), else the last size in the setup (the first may be a queue limit, as
 * in `(… 8 KiB limit), 64 B`), else nothing.
 */
export function payloadOf(row: Pick<Row, 'setup'>): string {
  const named = /, (?:one-way|idle round trip), ([^,]+)$/.exec(row.setup);
  if (named !== null) return named[1]!;
  return [...row.setup.matchAll(SIZE)].at(-1)?.[0] ?? '';
}

/** Comparable rows: one scenario, one payload, one main figure. */
export interface Group {
  key: string;
  scenario: string;
  payload: string;
  figure: Figure;
  rows: Row[];
}

/** The rows that ran, grouped with those they can fairly be compared with, in first-seen order. */
export function groups(rows: Row[]): Group[] {
  const byKey = new Map<string, Group>();
  for (const row of rows) {
    const figure = mainFigure(row);
    if (figure === undefined || valueOf(row, figure) === undefined) continue;
    const payload = payloadOf(row);
    const key = `${row.scenario}|${payload}|${figure.name}`;
    let group = byKey.get(key);
    if (group === undefined) byKey.set(key, (group = { key, scenario: row.scenario, payload, figure, rows: [] }));
    group.rows.push(row);
  }
  return [...byKey.values()];
}

/**
 * The C figures some scenarios fold into shmring's rows (`c_median_us`, `c_p99_us`: the C
 * program measured next to it), as rows of their own, so they can be drawn as references.
 */
export function referenceRows(rows: Row[]): Row[] {
  return rows.flatMap((row) => {
    const median = row.figures.c_median_us;
    if (row.skipped !== undefined || median === undefined || !Number.isFinite(median)) return [];
    const figures: Record<string, number> = { median_us: median };
    if (row.figures.c_p99_us !== undefined) figures.p99_us = row.figures.c_p99_us;
    const competitor = row.scenario === 'latency' ? 'C ring' : row.scenario === 'pingpong' ? 'C ping-pong' : 'C reference';
    return [{ scenario: row.scenario, competitor, setup: row.setup, figures, family: 'reference' as const }];
  });
}
