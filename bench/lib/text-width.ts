// How wide a line of the chart's text is, for Vega's layout in a process without a canvas.
// Vega then guesses 0.8 em for every character, nearly half as much again as real sans-serif
// text: it cut labels of 40 characters to a few words while leaving room for 60. This table
// of per-character widths (Helvetica's, which Arial and Liberation Sans share, widened by
// 15% to cover DejaVu Sans, the widest common sans-serif) keeps labels whole and the layout
// tight; overestimating only leaves a little white space.
import * as vega from 'vega';

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
const OTHER: Record<string, number> = { '×': 584, '÷': 584, '·': 278, 'µ': 556, '→': 1000, '…': 1000, '–': 556, '—': 1000 };
const WIDE = 1000;
const WIDEN = 1.15;

/** Width in pixels of `text` set in a sans-serif font of `fontSize` pixels. */
export function textWidth(text: string, fontSize: number): number {
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

/**
 * Runs `draw` with Vega measuring text by `textWidth`, through its `textMetrics.width` hook
 * (the one vl-convert uses), and puts Vega's own estimate back afterwards.
 */
export async function withTextWidths<T>(draw: () => Promise<T>): Promise<T> {
  const metrics = (vega as unknown as { textMetrics: TextMetrics }).textMetrics;
  const previous = metrics.width;
  metrics.width = (item, text) => {
    const lines = (Array.isArray(text) ? text : [text]).map((t) => (t === null || t === undefined ? '' : String(t).trim()));
    const width = Math.max(0, ...lines.map((line) => textWidth(line, item.fontSize ?? 11)));
    // Vega asks for the width of text it will cut at `limit` (with an ellipsis), too.
    return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
  };
  try {
    return await draw();
  } finally {
    metrics.width = previous;
  }
}
