// The documents that are generated stay what their generators write: the README's and
// docs/BENCHMARKS.md's benchmark figures come from the one committed run (docs/bench-run.json),
// never copied by hand, and docs/api.md is the reference of the current declarations.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function script(name: string, ...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', name), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('the README and docs/BENCHMARKS.md show the figures of docs/bench-run.json', (t) => {
  const r = script('readme-figures.mjs', '--check');
  t.is(r.status, 0, r.output);
});

test('control: a figure edited by hand in a copy of the README is caught', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shmring-docs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'docs'));
  for (const file of ['README.md', 'docs/BENCHMARKS.md', 'docs/bench-run.json']) cpSync(join(ROOT, file), join(dir, file));
  t.is(script('readme-figures.mjs', '--check', '--root', dir).status, 0, 'the copy agrees before the edit');
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  const edited = readme.replace(/\*\*(\d+(?:\.\d+)?)×\*\* faster/, (_, n: string) => `**${Number(n) + 1}×** faster`);
  t.not(edited, readme, 'the README has a speed-up to edit');
  writeFileSync(join(dir, 'README.md'), edited);
  const r = script('readme-figures.mjs', '--check', '--root', dir);
  t.is(r.status, 1);
  t.regex(r.output, /README\.md does not show docs\/bench-run\.json/);
});

test('docs/api.md is the reference of the current declarations', (t) => {
  const r = script('api-doc.mjs', '--check');
  t.is(r.status, 0, r.output);
});

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

test('every relative link of the README and docs/ names a file that exists, and a heading that exists in it', (t) => {
  const files = ['README.md', 'CONTRIBUTING.md', 'SECURITY.md', 'CHANGELOG.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const headings = (file: string): Set<string> => {
    const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
    return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
  };
  let links = 0;
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      links++;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const resolved = path === '' ? join(ROOT, file) : join(ROOT, dirname(file), path);
      t.true(existsSync(resolved), `${file}: ${target} (no ${relative(ROOT, resolved)})`);
      if (anchor !== undefined && existsSync(resolved) && resolved.endsWith('.md')) t.true(headings(resolved).has(anchor), `${file}: ${target} (no such heading)`);
    }
  }
  t.true(links > 20, `${links} links checked`);
});
