// Turns benchmark rows into the Markdown table printed to stdout, and formats the numbers
// and factors every report of a run shows (table, headlines, chart, HTML, comparison).
import type { MachineInfo } from './machine.js';
import type { Row } from './scenario.js';

/** A figure in three or four significant digits, with k and M for large ones; – for NaN. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)} k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

/**
 * A factor as people say it: `107×`, `29×`, `4.7×`, `0.4×` (two digits below 1, so a
 * slower result reads as honestly as a faster one); – for NaN.
 */
export function formatFactor(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value >= 9.95) return `${Math.round(value)}×`;
  if (value >= 1) return `${value.toFixed(1)}×`;
  return `${Number(value.toPrecision(2))}×`;
}

/** The machine in one line: the title of every report of a run. */
export function describeMachine(machine: MachineInfo): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, ${machine.date}`;
}

/** Text for a Markdown table cell: a `|` or a line break in row data would end the cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

export function markdown(rows: Row[], machine: MachineInfo): string {
  const lines = [`Machine: ${describeMachine(machine)}`, ''];
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  for (const scenario of scenarios) {
    const group = rows.filter((r) => r.scenario === scenario);
    lines.push(`### ${scenario}`, '', '| competitor | setup | figures | ratios (same run) |', '|---|---|---|---|');
    for (const r of group) {
      const figures = r.skipped ? `skipped: ${r.skipped}` : Object.entries(r.figures).map(([k, v]) => `${k} ${formatNumber(v)}`).join(', ');
      const ratios = Object.entries(r.ratios ?? {}).map(([k, v]) => `${k} **${formatNumber(v)}×**`).join(', ');
      lines.push(`| ${cell(r.competitor)} | ${cell(r.setup)} | ${cell(figures)} | ${cell(ratios)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
