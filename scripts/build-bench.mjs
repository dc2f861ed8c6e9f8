// Compiles the benchmark harness into dist/bench, so that `npx shmring bench` runs from an
// installed package with Node alone (part of `npm run build`):
//   - the TypeScript of bench/ with tsc (tsconfig.bench.json);
//   - the files that are not TypeScript, copied as they are: the worker modules (.mjs) and
//     the C references' sources (.c, .h), which the harness compiles where a compiler exists
//     and no prebuilt binary does;
//   - the chart module bundled with esbuild together with Vega-Lite and Vega, minified, so
//     that the package carries one file of under 1 MB instead of depending on 75 packages
//     (25 MiB) for the picture. Their licence texts stay in the bundle (legal comments).
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative } from 'node:path';
import { build } from 'esbuild';
import { files, root } from './lib/paths.mjs';

const SOURCE = join(root, 'bench');
const OUT = join(root, 'dist', 'bench');
const ASSETS = new Set(['.mjs', '.c', '.h']);

rmSync(OUT, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.bench.json')], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

for (const file of files(SOURCE)) {
  if (!ASSETS.has(extname(file)) || relative(SOURCE, file).startsWith('results')) continue;
  cpSync(file, join(OUT, relative(SOURCE, file)));
}

// The harness's own modules stay separate files (the chart imports a few of them); only the
// packages are taken into the bundle.
const keepLocal = {
  name: 'keep-local-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (a) => (a.kind !== 'entry-point' && a.importer.startsWith(SOURCE) ? { path: a.path, external: true } : undefined));
  },
};
await build({
  entryPoints: [join(SOURCE, 'lib', 'chart.ts')],
  outfile: join(OUT, 'lib', 'chart.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'eof',
  // Vega renders to SVG here; its canvas renderer is optional and never asked for.
  external: ['canvas'],
  plugins: [keepLocal],
  allowOverwrite: true,
  logLevel: 'warning',
});
const bytes = statSync(join(OUT, 'lib', 'chart.js')).size;
if (bytes > 2 ** 21) throw new Error(`the chart bundle is ${bytes} bytes: more than expected, check what it took in`);
console.log(`build: ${relative(root, OUT)} (chart bundle ${(bytes / 1024).toFixed(0)} KiB)`);
