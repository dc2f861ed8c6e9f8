// Installing the packed package as a user would: no compiler needed where a prebuilt binary
// matches (with and without install scripts), and a bad binary in prebuilds/ is named and
// replaced by a source build, never a crash at import. Runs in whichever Node runs the suite.
import { copyFileSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { compilerShims, nodeDist, npm, removeTarball, ROOT, run, scratchInstall, tarball } from './helpers/package.js';
import { TEST_PREFIX } from './helpers/resources.js';
import { Segment } from '../src/index.js';

const MAJORS = [20, 22, 24, 26];
const ABI = process.versions.modules;
const thisPrebuild = (pkg: string) => join(pkg, 'prebuilds', `linux-${process.arch}`, `node.abi${ABI}.glibc.node`);
const napiPrebuild = (pkg: string) => join(pkg, 'prebuilds', `linux-${process.arch}`, 'node.napi.glibc.node');
/** Whether this Node has node_api_create_external_sharedarraybuffer (22.23.3+, 24.16+, 26.1+). */
const [MAJOR, MINOR, PATCH] = process.versions.node.split('.').map(Number) as [number, number, number];
const HAS_EXTERNAL_SAB = (MAJOR === 22 && (MINOR > 23 || (MINOR === 23 && PATCH >= 3))) || (MAJOR === 24 && MINOR >= 16) || (MAJOR === 26 && MINOR >= 1) || MAJOR > 26;
let serial = 0;

test.after.always(removeTarball);

/** Runs the two-process ring fixture in a scratch project; returns the addon file it loaded. */
function ringWorks(t: import('ava').ExecutionContext, dir: string, env: Record<string, string> = {}): string {
  const address = `shm:${TEST_PREFIX}install-${serial++}`;
  t.teardown(() => {
    try {
      Segment.unlink(address);
    } catch {
      // removed by the fixture
    }
  });
  const result = run('node', ['installed-ring.mjs', address], { cwd: dir, env, timeout: 60_000 });
  t.is(result.status, 0, `ring fixture failed:\n${result.stdout}\n${result.stderr}`);
  const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { messages?: number; addon?: string };
  t.is(report.messages, 2000);
  return report.addon ?? '';
}

test('the tarball holds a stripped prebuilt binary for each supported major on x64 and arm64, and no build output', (t) => {
  const listing = npm(['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
  t.is(listing.status, 0, listing.stderr);
  const [info] = JSON.parse(listing.stdout) as Array<{ files: Array<{ path: string }>; size: number; unpackedSize: number }>;
  const paths = info!.files.map((f) => f.path);
  for (const arch of ['x64', 'arm64']) {
    const builds = paths.filter((p) => p.startsWith(`prebuilds/linux-${arch}/`));
    t.is(builds.filter((p) => /\/node\.abi\d+\.glibc\.node$/.test(p)).length, MAJORS.length, `${arch}: ${builds.join(', ')}`);
    t.deepEqual(builds.filter((p) => p.includes('napi')), [`prebuilds/linux-${arch}/node.napi.glibc.node`]);
    const programs = ['cring', 'cring-rtt', 'memcpy', 'pingpong'].map((p) => `prebuilds/linux-${arch}/bench/${p}`);
    t.deepEqual(builds.filter((p) => p.includes('/bench/')).sort(), programs, "the benchmark's C reference programs");
    t.is(builds.length, MAJORS.length + 1 + programs.length);
  }
  t.false(paths.some((p) => p.startsWith('build/') || p.startsWith('test/') || p.startsWith('.cache/')));
  t.true(paths.includes('dist/index.js') && paths.includes('scripts/install.mjs'));
  t.true(paths.includes('dist/bench/run.js') && paths.includes('dist/bench/lib/chart.js'), 'the compiled benchmark harness');
  t.false(paths.some((p) => p.endsWith('.ts') && !p.endsWith('.d.ts')), 'no TypeScript source');
  const file = run('file', [thisPrebuild(ROOT)], { cwd: ROOT }).stdout;
  t.regex(file, /stripped/);
  t.notRegex(file, /not stripped/);
  t.log(`npm pack: ${(info!.size / 1024).toFixed(0)} KiB packed, ${(info!.unpackedSize / 1024).toFixed(0)} KiB unpacked`);
});

test('npm install of the tarball with no compiler on PATH uses the prebuilt binary and runs a two-process ring', (t) => {
  const shims = compilerShims(t);
  const { dir, install } = scratchInstall(t, { pathFirst: [shims.dir] });
  t.is(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);
  t.deepEqual(shims.used(), [], 'no build tool was run');
  const pkg = join(dir, 'node_modules', 'shmring');
  t.false(existsSync(join(pkg, 'build')), 'nothing was built from source');
  t.is(ringWorks(t, dir, {}), thisPrebuild(pkg));
});

test('npm install --ignore-scripts gives a working package where a prebuild matches', (t) => {
  const shims = compilerShims(t);
  const { dir, install } = scratchInstall(t, { ignoreScripts: true, pathFirst: [shims.dir] });
  t.is(install.status, 0, install.stderr);
  t.deepEqual(shims.used(), []);
  t.is(ringWorks(t, dir), thisPrebuild(join(dir, 'node_modules', 'shmring')));
});

test('a corrupt prebuilt binary: import names the file; the install script says so and builds from source', (t) => {
  const { dir, install } = scratchInstall(t, { ignoreScripts: true });
  t.is(install.status, 0, install.stderr);
  const pkg = join(dir, 'node_modules', 'shmring');
  writeFileSync(thisPrebuild(pkg), 'this is not an ELF file\n');

  const imported = run('node', ['--input-type=module', '-e', "import('shmring').then(() => console.log('loaded'))"], { cwd: dir });
  t.is(imported.signal, null, 'no crash');
  t.not(imported.status, 0);
  t.true(imported.stderr.includes(`the native binary ${thisPrebuild(pkg)} does not load`), imported.stderr);

  const rebuilt = run('node', [join(pkg, 'scripts', 'install.mjs')], { cwd: pkg });
  t.is(rebuilt.status, 0, rebuilt.stderr);
  t.true(rebuilt.stderr.includes(`the prebuilt binary ${thisPrebuild(pkg)} does not load`), rebuilt.stderr);
  t.true(rebuilt.stderr.includes('building from source'));
  t.is(ringWorks(t, dir), join(pkg, 'build', 'Release', 'shmring.node'));
});

test("another major's binary under this ABI's name is refused and rebuilt; an npmrc nodedir of another major is not used", (t) => {
  const { dir, install } = scratchInstall(t, { ignoreScripts: true });
  t.is(install.status, 0, install.stderr);
  const pkg = join(dir, 'node_modules', 'shmring');
  const arches = join(pkg, 'prebuilds', `linux-${process.arch}`);
  const other = readdirSync(arches).find((f) => /^node\.abi\d+\./.test(f) && f !== `node.abi${ABI}.glibc.node`)!;
  copyFileSync(join(arches, other), thisPrebuild(pkg));

  const imported = run('node', ['--input-type=module', '-e', "import('shmring')"], { cwd: dir });
  t.is(imported.signal, null);
  t.regex(imported.stderr, /this binary was built for Node \d+ \(ABI \d+\) and cannot run in Node/);

  // Another major's headers from the registry cache.
  const nodedir = nodeDist('x64', process.versions.node.startsWith('22.') ? 20 : 22);
  const rebuilt = run('node', [join(pkg, 'scripts', 'install.mjs')], { cwd: pkg, env: { npm_config_nodedir: nodedir } });
  t.is(rebuilt.status, 0, rebuilt.stderr);
  t.true(rebuilt.stderr.includes(`the prebuilt binary ${thisPrebuild(pkg)} does not load`), rebuilt.stderr);
  t.regex(rebuilt.stderr, /not building against npm config nodedir .*: it holds the headers of Node \d+, this is Node \d+/);
  t.is(ringWorks(t, dir), join(pkg, 'build', 'Release', 'shmring.node'));
});

test('npm_config_build_from_source builds from source even where a prebuild loads', (t) => {
  const { dir, install } = scratchInstall(t, { ignoreScripts: true });
  t.is(install.status, 0, install.stderr);
  const pkg = join(dir, 'node_modules', 'shmring');
  const rebuilt = run('node', [join(pkg, 'scripts', 'install.mjs')], { cwd: pkg, env: { npm_config_build_from_source: 'true' } });
  t.is(rebuilt.status, 0, rebuilt.stderr);
  t.is(ringWorks(t, dir), join(pkg, 'build', 'Release', 'shmring.node'));
});

test('where no ABI build matches (a future major), the Node-API build runs if this Node has its functions, else it is named and rebuilt', (t) => {
  const { dir, install } = scratchInstall(t, { ignoreScripts: true });
  t.is(install.status, 0, install.stderr);
  const pkg = join(dir, 'node_modules', 'shmring');
  rmSync(thisPrebuild(pkg));
  if (HAS_EXTERNAL_SAB) {
    t.is(ringWorks(t, dir), napiPrebuild(pkg), `Node ${process.versions.node} has node_api_create_external_sharedarraybuffer`);
    return;
  }
  const imported = run('node', ['--input-type=module', '-e', "import('shmring')"], { cwd: dir });
  t.is(imported.signal, null);
  t.true(imported.stderr.includes(`the native binary ${napiPrebuild(pkg)} does not load`), imported.stderr);
  t.regex(imported.stderr, /needs node_api_create_external_sharedarraybuffer .* which Node [\d.]+ lacks/);
  const rebuilt = run('node', [join(pkg, 'scripts', 'install.mjs')], { cwd: pkg });
  t.is(rebuilt.status, 0, rebuilt.stderr);
  t.true(rebuilt.stderr.includes(`the prebuilt binary ${napiPrebuild(pkg)} does not load`), rebuilt.stderr);
  t.is(ringWorks(t, dir), join(pkg, 'build', 'Release', 'shmring.node'));
});
