// The chart of a benchmark run: small multiples drawn by Vega-Lite and rendered to SVG
// headless. Each panel (see panels.ts) has horizontal bars sorted by value on a log scale,
// shmring in blues, references (C, memcpy, the JS ceiling) in greys, Node's alternatives in
// oranges and reds, and each bar labelled with its factor against the best Node alternative
// of the panel, so a reader finds shmring, what it has to beat and by how much without the
// table. Text is measured here rather than guessed by Vega, so long labels stay whole.
import { compile, type TopLevelSpec } from 'vega-lite';
import * as vega from 'vega';
import type { MachineInfo } from './machine.js';
import { chartPanels, colours, type Panel } from './panels.js';
import { describeMachine } from './report.js';
import type { Row } from './scenario.js';

/** Plot width of one panel in pixels, and the room its bar labels may take to its left. */
const PLOT_WIDTH = 300;
const LABEL_WIDTH = 380;
const BAR_STEP = 15;
/** Axis numbers: 1k, 20M for rates; 0.1 and 0.02 below one (SI prefixes read `100m µs`). */
const AXIS_LABEL = "datum.value < 1 ? format(datum.value, '~g') : format(datum.value, '~s')";
/** Fonts whose widths textWidth knows (below), before the generic family. */
const FONT = 'Helvetica, Arial, "Liberation Sans", "DejaVu Sans", sans-serif';

// Text widths for Vega's layout in a process without a canvas. Vega then guesses 0.8 em
// for every character, nearly half as much again as real sans-serif text: it cut labels of
// 40 characters to a few words while leaving room for 60. This table of per-character
// widths (Helvetica's, which Arial and Liberation Sans share, widened by 15% to cover DejaVu
// Sans, the widest common sans-serif) keeps labels whole and the layout tight;
// overestimating only leaves a little white space.

/** Helvetica advance widths in thousandths of an em, for the characters 32 to 126. */
const ASCII = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 to ?
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ to O
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P to _
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` to o
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p to ~
];
/** The few other characters the benchmark's labels use; anything else counts as wide. */
const OTHER: Record<string, number> = { '×': 730, '÷': 584, '·': 278, 'µ': 556, '→': 1000, '…': 1000, '–': 556, '—': 1000 };
const WIDE = 1000;
const WIDEN = 1.15;

/** Width in pixels of `text` set in a sans-serif font of `fontSize` pixels. */
function textWidth(text: string, fontSize: number): number {
  let thousandths = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    thousandths += code >= 32 && code <= 126 ? ASCII[code - 32]! : (OTHER[ch] ?? WIDE);
  }
  return (thousandths / 1000) * fontSize * WIDEN;
}

interface TextItem {
  fontSize?: number;
  limit?: number;
}
interface TextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

/** Vega's own measure while charts are drawn with textWidth, and how many are being drawn. */
let vegaWidth: TextMetrics['width'] | undefined;
let drawing = 0;

/**
 * Runs `draw` with Vega measuring text by `textWidth`, through its `textMetrics.width` hook
 * (the one vl-convert uses), and puts Vega's own measure back when the last chart drawn at
 * the same time is done.
 */
async function withTextWidths<T>(draw: () => Promise<T>): Promise<T> {
  const metrics = (vega as unknown as { textMetrics: TextMetrics }).textMetrics;
  if (drawing++ === 0) {
    vegaWidth = metrics.width;
    metrics.width = (item, text) => {
      const lines = (Array.isArray(text) ? text : [text]).map((t) => (t === null || t === undefined ? '' : String(t).trim()));
      const width = Math.max(0, ...lines.map((line) => textWidth(line, item.fontSize ?? 11)));
      // Vega asks for the width of text it will cut at `limit` (with an ellipsis), too.
      return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
    };
  }
  try {
    return await draw();
  } finally {
    if (--drawing === 0) metrics.width = vegaWidth!;
  }
}

/** Text of a bar's factor label: 10 px, after a 4 px gap (bold text is a little wider). */
const TEXT_SIZE = 10;
const TEXT_GAP = 4;

/**
 * The x domain of a panel on a log scale: from the decade below its smallest value to just
 * far enough past its largest that every bar's factor label ends inside the plot.
 */
function domain(panel: Panel): [number, number] {
  const low = Math.log10(10 ** Math.floor(Math.log10(Math.min(...panel.bars.map((b) => b.value)))));
  let high = Math.log10(Math.max(...panel.bars.map((b) => b.textAt))) + 0.05;
  // A label of w pixels after a bar ending at log10(v) fits when (log10(v) - low) / (high - low) <= (W - w) / W.
  for (const bar of panel.bars) {
    const room = PLOT_WIDTH - TEXT_GAP - textWidth(bar.text, TEXT_SIZE) * 1.05 - 4;
    high = Math.max(high, low + ((Math.log10(bar.textAt) - low) * PLOT_WIDTH) / Math.max(room, PLOT_WIDTH / 4));
  }
  return [10 ** low, 10 ** high];
}

/** Axis ticks of a log domain: decades over a wide one, 1-2-5 steps over a few decades, 1 to 9 below one. */
function ticks([low, high]: [number, number]): number[] {
  const decades = Math.log10(high / low);
  const steps = decades > 3 ? [1] : decades > 1.2 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const values: number[] = [];
  for (let decade = Math.floor(Math.log10(low)); 10 ** decade <= high; decade++) {
    for (const step of steps) {
      const value = Number((step * 10 ** decade).toPrecision(3));
      if (value >= low && value <= high) values.push(value);
    }
  }
  return values;
}

function panelSpec(panel: Panel, colour: { domain: string[]; range: string[] }) {
  const [low, high] = domain(panel);
  const axis = { title: panel.axis, grid: true, values: ticks([low, high]), labelExpr: AXIS_LABEL, labelOverlap: true };
  const x = { type: 'quantitative' as const, scale: { type: 'log' as const, domain: [low, high], nice: false }, axis };
  const text = (filter: string, fontWeight: 'bold' | 'normal') => ({
    transform: [{ filter }],
    mark: { type: 'text' as const, align: 'left' as const, baseline: 'middle' as const, dx: TEXT_GAP, fontSize: TEXT_SIZE, fontWeight },
    encoding: { x: { ...x, field: 'textAt' }, text: { field: 'text', type: 'nominal' as const } },
  });
  return {
    title: {
      text: panel.title,
      subtitle: panel.best === undefined ? 'No Node alternative ran: labels give the figure' : `Factors against the best Node alternative (outlined): ${panel.best}`,
      subtitleLimit: LABEL_WIDTH + PLOT_WIDTH,
      anchor: 'start' as const,
      fontSize: 12,
      subtitleFontSize: 10,
    },
    data: { values: panel.bars },
    width: PLOT_WIDTH,
    height: { step: BAR_STEP },
    encoding: {
      y: {
        field: 'label',
        type: 'nominal' as const,
        // best first: the fastest rate on top, the shortest round trip on top
        sort: { field: 'value', order: panel.better === 'higher' ? ('descending' as const) : ('ascending' as const) },
        // every panel keeps the same room for labels, so plots and titles line up
        axis: { title: null, labelLimit: LABEL_WIDTH - 10, labelFontSize: 10, minExtent: LABEL_WIDTH, maxExtent: LABEL_WIDTH },
      },
    },
    layer: [
      {
        mark: { type: 'bar' as const, height: { band: 0.75 } },
        encoding: {
          x: { ...x, field: 'value' },
          x2: { datum: low },
          color: { field: 'key', type: 'nominal' as const, scale: colour, legend: { title: null, orient: 'top', direction: 'horizontal', columns: 6, labelLimit: 200, symbolType: 'square' } },
          // the bar shmring has to beat is outlined
          stroke: { condition: { test: 'datum.best', value: '#000' }, value: null },
          strokeWidth: { condition: { test: 'datum.best', value: 1.5 }, value: 0 },
        },
      },
      {
        transform: [{ filter: 'isValid(datum.p99)' }],
        mark: { type: 'tick' as const, color: '#222', thickness: 2, bandSize: 12 },
        encoding: { x: { ...x, field: 'p99' } },
      },
      text("datum.family === 'shmring'", 'bold'),
      text("datum.family !== 'shmring'", 'normal'),
    ],
  };
}

/** The Vega-Lite spec of a run's chart (exported so tests can check it without pixels). */
export function chartSpec(rows: Row[], machine: MachineInfo): TopLevelSpec {
  const panels = chartPanels(rows);
  const colour = colours(panels);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `shmring benchmark: ${describeMachine(machine)}`,
      subtitle: [
        "shmring in blue, references (C, memcpy, the JS ceiling) in grey, Node's alternatives in orange and red.",
        "Each bar's label: how many times better it did than the best Node alternative of its panel (per second; for round trips, times faster).",
      ],
      anchor: 'start',
      fontSize: 15,
      subtitleFontSize: 11,
      offset: 14,
    },
    columns: 2,
    spacing: { row: 28, column: 36 },
    concat: panels.map((p) => panelSpec(p, colour)),
    config: { font: FONT, view: { stroke: '#ddd' }, axis: { labelFontSize: 10, titleFontSize: 10, titleFontWeight: 'normal' } },
  };
}

export async function chartSvg(rows: Row[], machine: MachineInfo): Promise<string> {
  const spec = compile(chartSpec(rows, machine)).spec;
  return withTextWidths(() => new vega.View(vega.parse(spec), { renderer: 'none' }).toSVG());
}
