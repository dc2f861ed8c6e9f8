// One self-contained HTML page of a run, to open in any browser or attach to a report: the
// headlines, the chart (inline SVG), every row in a table (skipped ones with their reason),
// the machine and the command that reproduces the run. Nothing is fetched: no script, font
// or stylesheet from elsewhere. Every string from the rows is escaped, since a competitor's
// name or a skip reason (an error message) may hold `<`, `&` or quotes.
import { familyOf, type Family } from './families.js';
import { headlines } from './headline.js';
import { describeMachine, formatNumber } from './report.js';
import type { Row, RunResult } from './scenario.js';

/** Text safe inside an HTML element or a double- or single-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The command that runs the same benchmark again: its mode, and its one scenario if it ran one. */
export function reproduceCommand(result: RunResult): string {
  const args: string[] = [];
  if (result.mode !== 'standard') args.push(`--${result.mode}`);
  // Every scenario gives at least one row, even when it fails: one scenario means --only.
  const scenarios = new Set(result.rows.map((r) => r.scenario));
  if (scenarios.size === 1) args.push('--only', [...scenarios][0]!);
  return ['npx shmring bench', ...args].join(' ');
}

const FAMILY_NAMES: Record<Family, string> = { shmring: 'shmring', reference: 'reference', alternative: 'Node alternative' };

const STYLE = `
body { font: 14px/1.45 Helvetica, Arial, "Liberation Sans", "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 1500px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
.machine { color: #555; margin-top: 0; }
ul.headlines { font-size: 1.1em; padding-left: 1.2em; }
ul.headlines li { margin: 0.25em 0; }
figure { margin: 1.5em 0; overflow-x: auto; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { text-align: left; vertical-align: top; padding: 0.2em 0.6em; border-bottom: 1px solid #e4e4e4; }
th { background: #f4f4f4; }
td.family::before { content: ""; display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; vertical-align: -0.05em; }
tr.shmring td.family::before { background: #08519c; }
tr.reference td.family::before { background: #969696; }
tr.alternative td.family::before { background: #d94801; }
tr.skipped td { color: #888; }
td.skip { color: #a50f15; }
code, pre { background: #f4f4f4; padding: 0.1em 0.3em; }
`;

function figuresCell(row: Row): string {
  if (row.skipped !== undefined) return `<td class="skip">skipped: ${escapeHtml(row.skipped)}</td>`;
  const figures = Object.entries(row.figures).map(([k, v]) => `${escapeHtml(k)} ${formatNumber(v)}`);
  return `<td>${figures.join('<br>')}</td>`;
}

function ratiosCell(row: Row): string {
  const ratios = Object.entries(row.ratios ?? {}).map(([k, v]) => `${escapeHtml(k)} <b>${formatNumber(v)}×</b>`);
  return `<td>${ratios.join('<br>')}</td>`;
}

/** Every row of the run, one table per scenario in the order they ran. */
function tables(rows: Row[]): string {
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  return scenarios
    .map((scenario) => {
      const body = rows
        .filter((r) => r.scenario === scenario)
        .map((r) => {
          const family = familyOf(r);
          const cls = r.skipped === undefined ? family : `${family} skipped`;
          return `<tr class="${cls}"><td class="family">${FAMILY_NAMES[family]}</td><td>${escapeHtml(r.competitor)}</td><td>${escapeHtml(r.setup)}</td>${figuresCell(r)}${ratiosCell(r)}</tr>`;
        })
        .join('\n');
      return `<h3>${escapeHtml(scenario)}</h3>
<table>
<thead><tr><th>family</th><th>competitor</th><th>setup</th><th>figures</th><th>ratios (same run)</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
    })
    .join('\n');
}

/**
 * The page of a run. `svg` is the chart from chartSvg (markup, embedded as it is; Vega
 * escapes the text it draws); `command` defaults to the one reproduceCommand derives.
 */
export function htmlReport(result: RunResult, svg: string, command = reproduceCommand(result)): string {
  const picture = svg.replace(/^\s*<\?xml[^>]*\?>\s*/, '');
  if (!picture.startsWith('<svg')) throw new TypeError(`svg=${JSON.stringify(svg.slice(0, 40))} is not an SVG document`);
  const machine = describeMachine(result.machine);
  const lines = headlines(result.rows);
  const headlineList = lines.length === 0 ? '<p>No headline: none of the rows they compare ran.</p>' : `<ul class="headlines">\n${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('\n')}\n</ul>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shmring benchmark, ${escapeHtml(result.machine.date)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>shmring benchmark</h1>
<p class="machine">${escapeHtml(machine)} (${escapeHtml(result.mode)} run)</p>
<h2>On this machine</h2>
${headlineList}
<p>Every factor is a ratio of two figures of this run. Figures from one machine and one run only compare with each other: on a shared or virtual machine they move between runs.</p>
<figure>
${picture}
</figure>
<h2>Every row</h2>
${tables(result.rows)}
<h2>Reproduce</h2>
<p>To run it again on the same machine (where shmring is installed): <code>${escapeHtml(command)}</code></p>
</body>
</html>
`;
}
