// Turns benchmark rows into the Markdown table printed to stdout.
import type { MachineInfo } from './machine.js';
import type { Row } from './scenario.js';

function format(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)} k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

export function markdown(rows: Row[], machine: MachineInfo): string {
  const lines = [
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, ${machine.date}`,
    '',
  ];
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  for (const scenario of scenarios) {
    const group = rows.filter((r) => r.scenario === scenario);
    lines.push(`### ${scenario}`, '', '| competitor | setup | figures | ratios (same run) |', '|---|---|---|---|');
    for (const r of group) {
      const figures = r.skipped ? `skipped: ${r.skipped}` : Object.entries(r.figures).map(([k, v]) => `${k} ${format(v)}`).join(', ');
      const ratios = Object.entries(r.ratios ?? {}).map(([k, v]) => `${k} **${format(v)}×**`).join(', ');
      lines.push(`| ${r.competitor} | ${r.setup} | ${figures} | ${ratios} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
