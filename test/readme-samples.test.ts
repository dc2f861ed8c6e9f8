// Every code sample of README.md and docs/*.md that is marked runnable runs as a reader would
// run it, so the documentation never shows code that fails. A fence opens with
// "```ts sample=GROUP" or "```ts sample=GROUP/PART" (js too): each part is its own process,
// importing the built package by name; the parts of a group start in the order the text
// gives them, each once the one before printed its first line (a server says it is ready),
// and every part must exit 0 by itself within the timeout. A part named like a file
// (`sample=fork/child.mjs`) is written beside the others under that name and not started (a
// module another part loads). Afterwards no /dev/shm name the group uses (`shm:NAME` in its
// code) may be left.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Inside the package, so that `import ... from 'shmring'` resolves to it (git ignores it). */
const SCRATCH = join(ROOT, '.samples');
const TIMEOUT_MS = 60_000;

interface Part {
  file: string;
  part: string;
  lang: 'ts' | 'js';
  code: string;
}

/** The marked samples of one Markdown file, by group, parts in the order of the text. */
export function samplesOf(markdown: string, file: string): Map<string, Part[]> {
  const groups = new Map<string, Part[]>();
  const fence = /^```(ts|typescript|js|javascript)[ \t]+sample=([\w-]+)(?:\/([\w.-]+))?[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (const m of markdown.matchAll(fence)) {
    const lang = m[1]!.startsWith('t') ? 'ts' : 'js';
    const group = `${file.replace(/\W+/g, '-')}-${m[2]!}`;
    const parts = groups.get(group) ?? [];
    parts.push({ file, part: m[3] ?? 'main', lang, code: m[4]! });
    groups.set(group, parts);
  }
  return groups;
}

function markdownFiles(): string[] {
  const docs = join(ROOT, 'docs');
  return ['README.md', ...readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
}

const groups = new Map<string, Part[]>();
for (const file of markdownFiles()) for (const [group, parts] of samplesOf(readFileSync(join(ROOT, file), 'utf8'), file)) groups.set(group, parts);

test('the README marks its samples as runnable (this suite is not empty)', (t) => {
  const readme = [...groups.values()].filter((parts) => parts[0]!.file === 'README.md');
  t.true(readme.length >= 5, `${readme.length} runnable sample groups in README.md`);
});

test('the fence parser finds groups, parts and their order, and ignores unmarked fences', (t) => {
  const md = '```ts\nnot a sample\n```\n```ts sample=pair/server\nA\n```\ntext\n```js sample=pair/client\nB\n```\n```js sample=pair/lib.mjs\nL\n```\n```ts sample=solo\nC\n```\n';
  const found = samplesOf(md, 'X.md');
  t.deepEqual([...found.keys()], ['X-md-pair', 'X-md-solo']);
  t.deepEqual(found.get('X-md-pair')!.map((p) => [p.part, p.lang, p.code]), [['server', 'ts', 'A\n'], ['client', 'js', 'B\n'], ['lib.mjs', 'js', 'L\n']]);
});

test('the TypeScript samples compile against the package\'s own types (tsc, strict, and the .d.ts files checked too: skipLibCheck off, as TypeScript\'s default)', async (t) => {
  const dir = join(SCRATCH, `typecheck-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files: string[] = [];
  for (const [group, parts] of groups) {
    for (const part of parts.filter((p) => p.lang === 'ts' && !p.part.includes('.'))) {
      // each sample is a module of its own (top-level await, no shared names)
      const file = join(dir, `${group}-${part.part}.ts`);
      writeFileSync(file, part.code.includes('export ') || part.code.includes('import ') ? part.code : `${part.code}\nexport {};\n`);
      files.push(file);
    }
  }
  t.true(files.length > 0, 'TypeScript samples');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files }),
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const child = spawn(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(code, 0, out);
});

function start(path: string, lang: 'ts' | 'js'): ChildProcess {
  const args = lang === 'ts' ? ['--import=tsx', path] : [path];
  return spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

for (const [group, parts] of groups) {
  test(`sample ${group} (${parts.map((p) => p.part).join(' + ')}) runs and exits, leaving nothing in /dev/shm`, async (t) => {
    const dir = join(SCRATCH, `${group}-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const children: ChildProcess[] = [];
    t.teardown(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    const outcomes: Promise<{ part: string; code: number | null; signal: string | null; out: string }>[] = [];
    for (const part of parts.filter((p) => p.part.includes('.'))) writeFileSync(join(dir, part.part), part.code);
    const started = parts.filter((p) => !p.part.includes('.'));
    for (const part of started) {
      const path = join(dir, `${part.part}.${part.lang === 'ts' ? 'ts' : 'mjs'}`);
      writeFileSync(path, part.code);
      const child = start(path, part.lang);
      children.push(child);
      let out = '';
      const firstLine = new Promise<void>((resolve) => {
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve();
        });
        child.on('exit', () => resolve());
      });
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      outcomes.push(new Promise((resolve) => child.on('close', (code, signal) => resolve({ part: part.part, code, signal, out }))));
      if (part !== started[started.length - 1]) await firstLine;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), TIMEOUT_MS)));
    const results = await Promise.race([Promise.all(outcomes), timedOut]);
    clearTimeout(timer);
    t.not(results, 'timeout', `${group} did not exit within ${TIMEOUT_MS} ms`);
    if (results === 'timeout') return;
    for (const r of results) t.true(r.code === 0, `${group}/${r.part} exited ${r.code ?? r.signal}:\n${r.out}`);
    const names = new Set(parts.flatMap((p) => [...p.code.matchAll(/shm:([\w.-]+)/g)].map((m) => m[1]!)));
    for (const name of names) t.false(existsSync(join('/dev/shm', name)), `${group} left /dev/shm/${name}`);
  });
}
