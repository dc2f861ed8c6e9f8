// Two runs side by side, for `npx shmring bench --compare previous.json`: rows matched by
// scenario, competitor and setup, each main figure before and after with the change, each
// ratio before and after, the rows only one run has, and a warning when the machines differ
// (figures from two machines, or two placements of one VM, do not measure the code alone).
// readRun reads a previous run's JSON and refuses, saying why, anything that is not one.
import { readFileSync } from 'node:fs';
import { mainFigure } from './families.js';
import { cell, describeMachine, formatNumber } from './report.js';
import type { Row, RunResult } from './scenario.js';

const MODES: ReadonlyArray<RunResult['mode']> = ['tiny', 'quick', 'standard', 'full'];
const FAMILIES: ReadonlyArray<NonNullable<Row['family']>> = ['shmring', 'reference', 'alternative'];

/** What a field holds, for an error message: `missing`, `"abc"`, `an array`, `null`. */
function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return JSON.stringify(value) ?? String(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks one run's JSON field by field; the first wrong field ends it with its name. */
class RunReader {
  constructor(readonly source: string) {}

  fail(field: string, value: unknown, expected: string): never {
    throw new Error(`${this.source} is not a benchmark run: ${field} is ${shown(value)}, expected ${expected}`);
  }

  string(object: Record<string, unknown>, key: string, at: string): string {
    const value = object[key];
    return typeof value === 'string' ? value : this.fail(`${at}.${key}`, value, 'a string');
  }

  number(object: Record<string, unknown>, key: string, at: string): number {
    const value = object[key];
    return typeof value === 'number' ? value : this.fail(`${at}.${key}`, value, 'a number');
  }

  /** Named numbers; null stands for NaN, which JSON.stringify writes as null. */
  numbers(value: unknown, at: string): Record<string, number> {
    if (!isObject(value)) this.fail(at, value, 'an object of numbers');
    const out: Record<string, number> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v !== null && typeof v !== 'number') this.fail(`${at}[${JSON.stringify(key)}]`, v, 'a number');
      out[key] = v ?? NaN;
    }
    return out;
  }

  row(value: unknown, at: string): Row {
    if (!isObject(value)) this.fail(at, value, 'a row object');
    const row: Row = {
      scenario: this.string(value, 'scenario', at),
      competitor: this.string(value, 'competitor', at),
      setup: this.string(value, 'setup', at),
      figures: this.numbers(value.figures, `${at}.figures`),
    };
    if (value.ratios !== undefined) row.ratios = this.numbers(value.ratios, `${at}.ratios`);
    if (value.skipped !== undefined) row.skipped = this.string(value, 'skipped', at);
    if (value.family !== undefined) {
      if (!FAMILIES.includes(value.family as never)) this.fail(`${at}.family`, value.family, FAMILIES.join(', '));
      row.family = value.family as Row['family'];
    }
    return row;
  }

  run(json: unknown): RunResult {
    if (!isObject(json)) this.fail('the whole file', json, 'an object with machine, mode and rows');
    const m = json.machine;
    if (!isObject(m)) this.fail('machine', m, 'an object');
    const machine = {
      cpu: this.string(m, 'cpu', 'machine'),
      cores: this.number(m, 'cores', 'machine'),
      memoryGiB: this.number(m, 'memoryGiB', 'machine'),
      kernel: this.string(m, 'kernel', 'machine'),
      node: this.string(m, 'node', 'machine'),
      date: this.string(m, 'date', 'machine'),
      // Recorded since runs could be restricted (taskset) or use other C programs: optional.
      ...(typeof m.cpusAvailable === 'number' ? { cpusAvailable: m.cpusAvailable } : {}),
      ...(typeof m.arch === 'string' ? { arch: m.arch } : {}),
      ...(typeof m.cReferences === 'string' ? { cReferences: m.cReferences } : {}),
    };
    if (!MODES.includes(json.mode as never)) this.fail('mode', json.mode, MODES.join(', '));
    if (!Array.isArray(json.rows)) this.fail('rows', json.rows, 'an array of rows');
    const rows = json.rows.map((r, i) => this.row(r, `rows[${i}]`));
    return { machine, mode: json.mode as RunResult['mode'], rows };
  }
}

/** Reads the JSON a previous run wrote; throws an Error saying what is wrong with it. */
export function readRun(path: string): RunResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === 'ENOENT' ? `cannot read ${path}: no such file` : `cannot read ${path}: ${e.message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return new RunReader(path).run(json);
}

const keyOf = (r: Row) => `${r.scenario}\u0000${r.competitor}\u0000${r.setup}`;

/** Rows of two runs paired by scenario, competitor and setup (the nth of a repeated key with the nth). */
function pair(previous: Row[], current: Row[]): { pairs: Array<[Row, Row]>; onlyBefore: Row[]; onlyAfter: Row[] } {
  const waiting = new Map<string, Row[]>();
  for (const row of previous) waiting.set(keyOf(row), [...(waiting.get(keyOf(row)) ?? []), row]);
  const pairs: Array<[Row, Row]> = [];
  const onlyAfter: Row[] = [];
  for (const row of current) {
    const before = waiting.get(keyOf(row))?.shift();
    if (before === undefined) onlyAfter.push(row);
    else pairs.push([before, row]);
  }
  const onlyBefore = previous.filter((row) => !pairs.some(([before]) => before === row));
  return { pairs, onlyBefore, onlyAfter };
}

/** The machine fields whose difference makes two runs' figures incomparable. */
function machineDifferences(a: RunResult['machine'], b: RunResult['machine']): string[] {
  const known = <K extends keyof RunResult['machine']>(k: K) => a[k] !== undefined && b[k] !== undefined; // older runs lack the optional ones
  return (['cpu', 'cores', 'cpusAvailable', 'arch', 'kernel', 'node', 'cReferences'] as const).filter((k) => known(k) && a[k] !== b[k]).map((k) => `${k} ${a[k]} → ${b[k]}`);
}

function figureCells(before: Row, after: Row): string[] {
  const figure = mainFigure(after.skipped === undefined ? after : before);
  if (figure === undefined) return ['–', before.skipped ? 'skipped' : '–', after.skipped ? 'skipped' : '–', '–'];
  const value = (r: Row) => (r.skipped !== undefined ? 'skipped' : formatNumber(r.figures[figure.name] ?? NaN));
  const a = before.skipped === undefined ? before.figures[figure.name] : undefined;
  const b = after.skipped === undefined ? after.figures[figure.name] : undefined;
  const change = a !== undefined && b !== undefined && a > 0 && Number.isFinite(a) && Number.isFinite(b) ? `${(b / a).toFixed(2)}×` : '–';
  const name = `${figure.name} (${figure.better} is better)`;
  return [name, value(before), value(after), change];
}

function ratioCell(before: Row, after: Row): string {
  const names = [...new Set([...Object.keys(before.ratios ?? {}), ...Object.keys(after.ratios ?? {})])];
  const shownRatio = (r: Row, name: string) => (r.ratios?.[name] === undefined ? '–' : formatNumber(r.ratios[name]!));
  return names.map((name) => `${name}: ${shownRatio(before, name)} → ${shownRatio(after, name)}`).join('; ');
}

function onlyTable(title: string, rows: Row[]): string[] {
  if (rows.length === 0) return [];
  return [`### ${title}`, '', '| scenario | competitor | setup |', '|---|---|---|', ...rows.map((r) => `| ${cell(r.scenario)} | ${cell(r.competitor)} | ${cell(r.setup)} |`), ''];
}

/** The comparison of two runs as Markdown, like report.ts's table. */
export function compareRuns(previous: RunResult, current: RunResult): string {
  const lines = [`Previous run: ${describeMachine(previous.machine)} (${previous.mode})`, `This run: ${describeMachine(current.machine)} (${current.mode})`, ''];
  const differences = machineDifferences(previous.machine, current.machine);
  if (differences.length > 0) {
    lines.push(`**The machines differ** (${differences.join('; ')}): a change may come from the machine, not the code.`, '');
  }
  if (previous.mode !== current.mode) lines.push(`The runs differ in mode (${previous.mode} → ${current.mode}): their counts and repetitions differ too.`, '');
  const { pairs, onlyBefore, onlyAfter } = pair(previous.rows, current.rows);
  for (const scenario of [...new Set(pairs.map(([, after]) => after.scenario))]) {
    lines.push(`### ${scenario}`, '', '| competitor | setup | figure | before | after | after ÷ before | ratios, before → after |', '|---|---|---|---|---|---|---|');
    for (const [before, after] of pairs.filter(([, a]) => a.scenario === scenario)) {
      const cells = [after.competitor, after.setup, ...figureCells(before, after), ratioCell(before, after)];
      lines.push(`| ${cells.map(cell).join(' | ')} |`);
    }
    lines.push('');
  }
  lines.push(...onlyTable('Only in the previous run', onlyBefore), ...onlyTable('Only in this run', onlyAfter));
  return lines.join('\n');
}
