// The chart of a benchmark run, drawn by Vega-Lite and rendered to SVG headless: one-way
// throughput (MB/s, log scale) by payload size for each competitor, and round-trip
// latency (median and p99) for each setup.
import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';
import type { MachineInfo } from './machine.js';
import type { Row } from './scenario.js';

const SIZE_ORDER = ['64 B', '1 KiB', '64 KiB', '1 MiB'];

export async function chartSvg(rows: Row[], machine: MachineInfo): Promise<string> {
  const throughput = rows
    .filter((r) => r.scenario === 'throughput' && r.figures.mb_per_s !== undefined)
    .map((r) => {
      const size = SIZE_ORDER.find((s) => r.setup.endsWith(`, ${s}`)) ?? '?';
      return { competitor: `${r.competitor}: ${r.setup.slice(0, -(size.length + 2))}`, size, mbps: r.figures.mb_per_s! };
    });
  const latency = rows
    .filter((r) => r.figures.median_us !== undefined)
    .flatMap((r) => [
      { setup: `${r.scenario}: ${r.setup}`, stat: 'median', us: r.figures.median_us! },
      { setup: `${r.scenario}: ${r.setup}`, stat: 'p99', us: r.figures.p99_us! },
    ]);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'shmring benchmark', subtitle: `${machine.cpu}, ${machine.cores} cores, Linux ${machine.kernel}, Node ${machine.node}, ${machine.date}` },
    vconcat: [
      {
        title: 'One-way throughput between two processes (MB/s, log scale)',
        data: { values: throughput },
        mark: { type: 'line', point: true },
        width: 560,
        height: 320,
        encoding: {
          x: { field: 'size', type: 'ordinal', sort: SIZE_ORDER, title: 'payload' },
          y: { field: 'mbps', type: 'quantitative', scale: { type: 'log' }, title: 'MB/s' },
          color: { field: 'competitor', type: 'nominal', scale: { scheme: 'tableau20' }, legend: { labelLimit: 320 } },
        },
      },
      {
        title: 'Round trip (µs, log scale)',
        data: { values: latency },
        mark: { type: 'point', filled: true, size: 90 },
        width: 560,
        encoding: {
          y: { field: 'setup', type: 'nominal', title: null, axis: { labelLimit: 320 } },
          x: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: 'µs' },
          color: { field: 'stat', type: 'nominal', title: 'round trip' },
          shape: { field: 'stat', type: 'nominal' },
        },
      },
    ],
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}
