// What the chart of a run draws, before any drawing: its panels (one per payload size of
// one-way throughput, the round trips, the transport's payloads, the relay),
// the bars of each, their colours by family, and each bar's factor against the best of
// Node's alternatives in its panel. chart.ts turns this into Vega-Lite.
import { bestAlternative, factor, familyOf, payloadOf, referenceRows, valueOf, type Family, type Figure } from './families.js';
import { formatFactor, formatNumber } from './report.js';
import type { Row } from './scenario.js';

export interface Bar {
  /** The y-axis label: competitor and setup, without what the panel title already says. */
  label: string;
  competitor: string;
  family: Family;
  /** The colour legend's entry: the competitor, with its family if a row overrides it. */
  key: string;
  value: number;
  /** The 99th percentile of a round trip, drawn as a tick. */
  p99?: number;
  /** Where the factor's text starts: after the bar, or after its p99 tick. */
  textAt: number;
  /** `29×`, `0.4×`, `1×` for the best alternative; the figure itself in a panel without alternative. */
  text: string;
  best: boolean;
}

export interface Panel {
  title: string;
  /** The label of the best Node alternative's bar, which every factor is against. */
  best?: string;
  /** The x axis: the figure, its unit and scale. */
  axis: string;
  better: Figure['better'];
  bars: Bar[];
}

/** Payload sizes in reading order; others (from a future scenario) come after them. */
const SIZE_ORDER = ['64 B', '1 KiB', '64 KiB', '1 MiB'];
const TRANSPORT_PAYLOADS: Record<string, string> = {
  small: 'small objects',
  array: 'arrays of 1,000 small objects',
  '64 KiB': '64 KiB Buffers',
  '1 MiB': '1 MiB Buffers',
};

const MB_PER_S: Figure = { name: 'mb_per_s', better: 'higher', unit: 'MB/s' };
const MSGS_PER_S: Figure = { name: 'msgs_per_s', better: 'higher', unit: 'messages/s' };
const MEDIAN_US: Figure = { name: 'median_us', better: 'lower', unit: 'µs' };
const GB_PER_S: Figure = { name: 'gb_per_s', better: 'higher', unit: 'GB/s' };

/** Shades for each family, given out to competitors in the order they appear. */
const PALETTES: Record<Family, string[]> = {
  shmring: ['#08519c', '#3182bd', '#6baed6', '#17607d', '#4a6fe3', '#2b8cbe', '#253494'],
  reference: ['#636363', '#969696', '#bdbdbd', '#4d4d4d', '#252525', '#7a7a7a'],
  alternative: ['#d94801', '#fd8d3c', '#a63603', '#cb181d', '#fdae6b', '#fb6a4a', '#7f2704', '#e6550d', '#f16913', '#a50f15'],
};

/** One panel of `rows` by `figure`: bars labelled by factor against the best Node alternative. */
function panel(title: string, axis: string, rows: Row[], figure: Figure, trim: (setup: string) => string): Panel | undefined {
  // a log scale has no place for zero (a figure that is zero or negative is not drawn)
  const drawn = rows.filter((r) => (valueOf(r, figure) ?? 0) > 0);
  if (drawn.length === 0) return undefined;
  const alternative = bestAlternative(drawn, figure);
  // Labels are the bands of the y axis: two rows with one label would share a band, so a
  // repeated one is numbered.
  const labels = new Map<Row, string>();
  const seen = new Map<string, number>();
  for (const row of drawn) {
    const base = trim(row.setup) === '' ? row.competitor : `${row.competitor} · ${trim(row.setup)}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    labels.set(row, n === 1 ? base : `${base} (${n})`);
  }
  const label = (row: Row) => labels.get(row)!;
  const bars = drawn.map((row): Bar => {
    const value = valueOf(row, figure)!;
    const p99 = figure === MEDIAN_US && row.figures.p99_us! > 0 && Number.isFinite(row.figures.p99_us) ? row.figures.p99_us : undefined;
    const family = familyOf(row);
    const text = alternative === undefined ? `${formatNumber(value)} ${figure.unit}` : row === alternative ? '1×' : formatFactor(factor(row, alternative, figure));
    return {
      label: label(row),
      competitor: row.competitor,
      family,
      key: family === familyOf({ competitor: row.competitor }) ? row.competitor : `${row.competitor} (${family})`,
      value,
      ...(p99 !== undefined ? { p99 } : {}),
      textAt: Math.max(value, p99 ?? value),
      text,
      best: row === alternative,
    };
  });
  return { title, ...(alternative !== undefined ? { best: label(alternative) } : {}), axis, better: figure.better, bars };
}

const without = (suffix: RegExp) => (setup: string) => setup.replace(suffix, '');
/** `, 1 MiB` for a title: the payload the rows name, or nothing (a failed scenario's row names none). */
const sizeOf = (rows: Row[]) => {
  const size = rows.map(payloadOf).find((p) => p !== '');
  return size === undefined ? '' : `, ${size}`;
};
const sizeRank = (size: string) => (SIZE_ORDER.includes(size) ? SIZE_ORDER.indexOf(size) : SIZE_ORDER.length);

/** The panels of a run, in reading order; a scenario that did not run has none. */
export function chartPanels(rows: Row[]): Panel[] {
  const panels: Array<Panel | undefined> = [];
  const of = (scenario: string) => rows.filter((r) => r.scenario === scenario);

  const throughput = of('throughput');
  const sizes = [...new Set(throughput.map(payloadOf))].filter((s) => s !== '').sort((a, b) => sizeRank(a) - sizeRank(b));
  for (const size of sizes) {
    const these = throughput.filter((r) => payloadOf(r) === size);
    panels.push(panel(`One-way throughput, ${size} messages`, 'MB/s, log scale', these, MB_PER_S, without(new RegExp(`, ${size}$`))));
  }

  // Back-to-back round trips (the latency and pingpong scenarios) with the C programs
  // measured next to them; idle ones (the transport's, a millisecond apart) are another
  // measure and get a panel of their own, so no factor mixes the two.
  const backToBack = [...of('latency'), ...of('pingpong')];
  panels.push(panel('Round trip, back to back: 64 B over two rings, or one shared word', 'µs (bar: median, tick: p99), log scale', [...backToBack, ...referenceRows(backToBack)], MEDIAN_US, (s) => s));
  const transport = of('transport');
  panels.push(panel('Round trip, idle (1 ms apart): a small object', 'µs (bar: median, tick: p99), log scale', transport, MEDIAN_US, without(/, idle round trip, small object$/)));

  const payloads = [...new Set(transport.filter((r) => valueOf(r, MSGS_PER_S) !== undefined).map(payloadOf))];
  for (const payload of payloads) {
    const these = transport.filter((r) => payloadOf(r) === payload);
    panels.push(panel(`Messages one way, ${TRANSPORT_PAYLOADS[payload] ?? payload}`, 'messages/s, log scale', these, MSGS_PER_S, without(/, one-way, [^,]+$/)));
  }

  const relay = of('relay');
  panels.push(panel(`File to file through another process${sizeOf(relay)}`, 'GB/s, log scale', relay, GB_PER_S, without(/, \d+ \w+$/)));
  return panels.filter((p): p is Panel => p !== undefined);
}

/** Colours for the legend's entries: blues for shmring, greys for references, oranges and reds for Node. */
export function colours(panels: Panel[]): { domain: string[]; range: string[] } {
  const seen = new Map<string, Family>();
  for (const bar of panels.flatMap((p) => p.bars)) if (!seen.has(bar.key)) seen.set(bar.key, bar.family);
  const order: Family[] = ['shmring', 'reference', 'alternative'];
  const domain = order.flatMap((family) => [...seen].filter(([, f]) => f === family).map(([key]) => key));
  const used: Record<Family, number> = { shmring: 0, reference: 0, alternative: 0 };
  const range = domain.map((key) => {
    const palette = PALETTES[seen.get(key)!];
    return palette[used[seen.get(key)!]++ % palette.length]!;
  });
  return { domain, range };
}
