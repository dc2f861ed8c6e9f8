// docs/PROTOCOL.md agrees with the code: every table with a `Constant` column is parsed, and
// each offset or value it gives is the value of that constant in the layout files
// (src/ring/layout/{header,spsc,mpmc}.ts); the fields of an offset table do not overlap; every
// layout constant (but the derived Int32Array indices) appears in a table; and the document's
// protocol version is the header's.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as header from '../src/ring/layout/header.js';
import * as mpmc from '../src/ring/layout/mpmc.js';
import * as spsc from '../src/ring/layout/spsc.js';

const DOC = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'PROTOCOL.md'), 'utf8');

interface Table {
  line: number;
  columns: string[];
  rows: Array<{ line: number; cells: string[] }>;
}

/** The Markdown tables of the document (a header row, a --- row, body rows). */
function tables(text: string): Table[] {
  const lines = text.split('\n');
  const found: Table[] = [];
  const cells = (line: string) => line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith('|') || !/^\|\s*-{3}/.test(lines[i + 1]!)) continue;
    const table: Table = { line: i + 1, columns: cells(lines[i]!), rows: [] };
    for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) table.rows.push({ line: i + 1, cells: cells(lines[i]!) });
    found.push(table);
  }
  return found;
}

/** A number as the document writes it: decimal, 0x hex, or 2^N. */
function number(text: string): number {
  const power = /^2\^(\d+)$/.exec(text);
  if (power !== null) return 2 ** Number(power[1]);
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) throw new Error(`not a number: ${text}`);
  return n;
}

function layoutConstants(): Map<string, number> {
  const all = new Map<string, number>();
  for (const module of [header, spsc, mpmc] as Array<Record<string, unknown>>) {
    for (const [name, value] of Object.entries(module)) {
      if (typeof value !== 'number') continue;
      if (all.has(name) && all.get(name) !== value) throw new Error(`${name} differs between layout files`);
      all.set(name, value);
    }
  }
  return all;
}

test('every offset and value in the tables of docs/PROTOCOL.md is the layout constant it names', (t) => {
  const constants = layoutConstants();
  const problems: string[] = [];
  const documented = new Set<string>();
  let checked = 0;
  for (const table of tables(DOC)) {
    const constantColumn = table.columns.indexOf('Constant');
    if (constantColumn < 0) continue;
    const valueColumn = table.columns.includes('Offset') ? table.columns.indexOf('Offset') : table.columns.indexOf('Value');
    const sizeColumn = table.columns.indexOf('Size');
    if (valueColumn < 0) {
      problems.push(`line ${table.line}: a table with a Constant column but no Offset or Value column`);
      continue;
    }
    let end = -1;
    for (const { line, cells } of table.rows) {
      const name = cells[constantColumn]!.replace(/`/g, '');
      const actual = constants.get(name);
      documented.add(name);
      if (actual === undefined) {
        problems.push(`line ${line}: ${name} is not a constant of the layout files`);
        continue;
      }
      const written = number(cells[valueColumn]!);
      if (written !== actual) problems.push(`line ${line}: ${name} is ${actual}, the document says ${written}`);
      checked++;
      if (sizeColumn >= 0) {
        // Fields in offset order, none overlapping the one before.
        if (written < end) problems.push(`line ${line}: ${name} at ${written} overlaps the field before it (which ends at ${end})`);
        const size = /^\d+$/.test(cells[sizeColumn]!) ? Number(cells[sizeColumn]) : 0;
        end = written + size;
      }
    }
  }
  t.deepEqual(problems, []);
  const missing = [...constants.keys()].filter((name) => !name.endsWith('_INDEX') && !documented.has(name));
  t.deepEqual(missing, [], 'every layout constant is in a table of the document');
  t.true(checked >= 60, `${checked} values checked`);
});

test('the document is the version of the protocol that the header carries', (t) => {
  const version = /\*\*Protocol version: (\d+)\*\*/.exec(DOC);
  t.not(version, null);
  t.is(Number(version![1]), header.RING_VERSION);
});

test('the header table ends where the data area begins', (t) => {
  const first = tables(DOC).find((table) => table.columns.includes('Offset') && table.rows.some((r) => r.cells.includes('`MAGIC_OFFSET`')))!;
  const last = first.rows.at(-1)!.cells;
  t.true(number(last[0]!) + number(last[1]!) <= header.HEADER_SIZE);
  t.is(header.WAITERS_LINE_OFFSET + header.LINE, header.HEADER_SIZE);
});
