// docs/PROTOCOL.md agrees with the code: every table with a `Constant` column is parsed, and
// each offset or value it gives is the value of that constant in the layout files of its
// section: the tables under "The Channel" against src/transport/{layout,header,wake}.ts, all
// others against src/ring/layout/{header,spsc,mpmc}.ts (the two sets share names such as
// MAGIC_OFFSET or LINE with different values). The fields of an offset table do not overlap;
// every layout constant (but the derived Int32Array indices) appears in a table of its
// section; the document's protocol and channel versions are the headers'; and the channel
// segment's rings sit where channelLayout() puts them, for every capacity.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as header from '../src/ring/layout/header.js';
import * as mpmc from '../src/ring/layout/mpmc.js';
import * as spsc from '../src/ring/layout/spsc.js';
import * as channelHeader from '../src/transport/header.js';
import * as channel from '../src/transport/layout.js';
import * as wake from '../src/transport/wake.js';

const DOC = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'PROTOCOL.md'), 'utf8');

/** The section whose tables name the channel's constants; every other section names the rings'. */
const CHANNEL_SECTION = 'The Channel';

interface Table {
  line: number;
  /** The `## ` heading the table sits under. */
  section: string;
  columns: string[];
  rows: Array<{ line: number; cells: string[] }>;
}

/** The Markdown tables of the document (a header row, a --- row, body rows). */
function tables(text: string): Table[] {
  const lines = text.split('\n');
  const found: Table[] = [];
  const cells = (line: string) => line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
  let section = '';
  for (let i = 0; i + 1 < lines.length; i++) {
    if (lines[i]!.startsWith('## ')) section = lines[i]!.slice(3).trim();
    if (!lines[i]!.startsWith('|') || !/^\|\s*-{3}/.test(lines[i + 1]!)) continue;
    const table: Table = { line: i + 1, section, columns: cells(lines[i]!), rows: [] };
    for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) table.rows.push({ line: i + 1, cells: cells(lines[i]!) });
    found.push(table);
  }
  return found;
}

/** A number as the document writes it: decimal, 0x hex, 2^N or 2^N − M. */
function number(text: string): number {
  const power = /^2\^(\d+)(?:\s*[−-]\s*(\d+))?$/.exec(text);
  if (power !== null) return 2 ** Number(power[1]) - Number(power[2] ?? 0);
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) throw new Error(`not a number: ${text}`);
  return n;
}

/** A size or offset of the channel's segment table: a sum of terms `N`, `capacity` or `N × capacity`. */
function evaluate(text: string, capacity: number): number {
  let sum = 0;
  for (const term of text.split('+').map((t) => t.trim())) {
    const m = /^(?:(\d+)\s*×\s*)?capacity$/.exec(term);
    sum += m !== null ? Number(m[1] ?? 1) * capacity : number(term);
  }
  return sum;
}

function constantsOf(modules: Array<Record<string, unknown>>): Map<string, number> {
  const all = new Map<string, number>();
  for (const module of modules) {
    for (const [name, value] of Object.entries(module)) {
      if (typeof value !== 'number') continue;
      if (all.has(name) && all.get(name) !== value) throw new Error(`${name} differs between layout files`);
      all.set(name, value);
    }
  }
  return all;
}

const RING_CONSTANTS = constantsOf([header, spsc, mpmc] as Array<Record<string, unknown>>);
const CHANNEL_CONSTANTS = constantsOf([channel, channelHeader, wake] as Array<Record<string, unknown>>);

/** The constants a table's names resolve against: those of its section. */
const scopeOf = (table: Table): 'ring' | 'channel' => (table.section === CHANNEL_SECTION ? 'channel' : 'ring');
const SCOPES = { ring: RING_CONSTANTS, channel: CHANNEL_CONSTANTS };

test('every offset and value in the tables of docs/PROTOCOL.md is the layout constant it names', (t) => {
  const problems: string[] = [];
  const documented = { ring: new Set<string>(), channel: new Set<string>() };
  const checked = { ring: 0, channel: 0 };
  for (const table of tables(DOC)) {
    const constantColumn = table.columns.indexOf('Constant');
    if (constantColumn < 0) continue;
    const scope = scopeOf(table);
    const constants = SCOPES[scope];
    const valueColumn = table.columns.includes('Offset') ? table.columns.indexOf('Offset') : table.columns.indexOf('Value');
    const sizeColumn = table.columns.indexOf('Size');
    if (valueColumn < 0) {
      problems.push(`line ${table.line}: a table with a Constant column but no Offset or Value column`);
      continue;
    }
    let end = -1;
    for (const { line, cells } of table.rows) {
      const name = cells[constantColumn]!.replace(/`/g, '');
      // A row without a constant ("—") gives an offset that is not one (a reserved field, or one that depends on the capacity).
      let written: number;
      if (name === '—') {
        try {
          written = evaluate(cells[valueColumn]!, channelHeader.MIN_CHANNEL_CAPACITY);
        } catch {
          problems.push(`line ${line}: the offset ${cells[valueColumn]} is not a sum of numbers and capacities`);
          continue;
        }
      } else {
        const actual = constants.get(name);
        documented[scope].add(name);
        if (actual === undefined) {
          problems.push(`line ${line}: ${name} is not a constant of the ${scope} layout files`);
          continue;
        }
        written = number(cells[valueColumn]!);
        if (written !== actual) problems.push(`line ${line}: ${name} is ${actual}, the document says ${written}`);
        checked[scope]++;
      }
      if (sizeColumn >= 0) {
        // Fields in offset order, none overlapping the one before.
        if (written < end) problems.push(`line ${line}: ${name} at ${written} overlaps the field before it (which ends at ${end})`);
        // A size in words ("slotSize − 8") counts as 0: the next row's offset is then not checked against it.
        let size = 0;
        try {
          size = evaluate(cells[sizeColumn]!, channelHeader.MIN_CHANNEL_CAPACITY);
        } catch {
          // not a sum of numbers and capacities
        }
        end = written + size;
      }
    }
  }
  t.deepEqual(problems, []);
  for (const scope of ['ring', 'channel'] as const) {
    const missing = [...SCOPES[scope].keys()].filter((name) => !name.endsWith('_INDEX') && !documented[scope].has(name));
    t.deepEqual(missing, [], `every ${scope} layout constant is in a table of its section`);
  }
  t.true(checked.ring >= 60, `${checked.ring} ring values checked`);
  t.true(checked.channel >= 40, `${checked.channel} channel values checked`);
});

test('the document is the version of the protocol that the header carries', (t) => {
  const version = /\*\*Protocol version: (\d+)\*\*/.exec(DOC);
  t.not(version, null);
  t.is(Number(version![1]), header.RING_VERSION);
});

test('the Channel section is the version that the channel header carries', (t) => {
  const version = /\*\*Channel version: (\d+)\*\*/.exec(DOC);
  t.not(version, null);
  t.is(Number(version![1]), channel.CHANNEL_VERSION);
});

test('the header table ends where the data area begins', (t) => {
  const first = tables(DOC).find((table) => scopeOf(table) === 'ring' && table.columns.includes('Offset') && table.rows.some((r) => r.cells.includes('`MAGIC_OFFSET`')))!;
  const last = first.rows.at(-1)!.cells;
  t.true(number(last[0]!) + number(last[1]!) <= header.HEADER_SIZE);
  t.is(header.WAITERS_LINE_OFFSET + header.LINE, header.HEADER_SIZE);
});

test('the channel header fits its line, a wake line its line', (t) => {
  const channelTables = tables(DOC).filter((table) => scopeOf(table) === 'channel' && table.columns.includes('Offset'));
  const ending = (constant: string) => {
    const table = channelTables.find((tb) => tb.rows.some((r) => r.cells.includes(`\`${constant}\``)))!;
    const last = table.rows.at(-1)!.cells;
    return number(last[0]!) + number(last[1]!);
  };
  t.true(ending('MAGIC_OFFSET') <= channel.CREATOR_WAKE_OFFSET);
  t.is(ending('ARMED'), channel.LINE);
  t.is(channel.NAME + channel.MAX_NAME, channel.LINE);
});

test('the channel segment table puts the rings where channelLayout() does, for every capacity', (t) => {
  const segment = tables(DOC).find((table) => scopeOf(table) === 'channel' && table.columns.includes('Part'))!;
  t.truthy(segment, 'a channel segment table (with a Part column)');
  const row = (part: string) => segment.rows.find((r) => r.cells[2]!.startsWith(part))!.cells;
  const [ringA, ringB] = [row('ring A'), row('ring B')];
  const total = /The segment is `([^`]+)` bytes/.exec(DOC);
  t.not(total, null, 'the document gives the segment size');
  let capacities = 0;
  for (let capacity = channelHeader.MIN_CHANNEL_CAPACITY; capacity <= channelHeader.MAX_CHANNEL_CAPACITY; capacity *= 2) {
    const ringBytes = spsc.spscRingSize(capacity);
    const layout = channel.channelLayout(ringBytes);
    t.is(evaluate(ringA[0]!, capacity), layout.ringA, `ring A offset, capacity ${capacity}`);
    t.is(evaluate(ringA[1]!, capacity), ringBytes, `ring A size, capacity ${capacity}`);
    t.is(evaluate(ringB[0]!, capacity), layout.ringB, `ring B offset, capacity ${capacity}`);
    t.is(evaluate(ringB[1]!, capacity), ringBytes, `ring B size, capacity ${capacity}`);
    t.is(evaluate(total![1]!, capacity), layout.total, `segment size, capacity ${capacity}`);
    t.is(channelHeader.channelBytes(capacity), layout.total);
    capacities++;
  }
  t.is(capacities, 19);
});
