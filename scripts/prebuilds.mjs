// `npm run prebuilds [-- --force] [--arch x64 | --available]`: builds the addon for every supported Node
// major on linux-x64 and linux-arm64 (cross-compiled with Debian's g++-aarch64-linux-gnu),
// strips it and puts it where node-gyp-build looks: prebuilds/linux-<arch>/node.abi<N>.glibc.node,
// with the benchmark's C reference programs beside it in bench/ (-O2 for the arch's baseline,
// not -march=native: they run on the user's CPU; bench/lib/available.ts looks there first).
// Those builds call the V8 API, so each is tied to one ABI. Beside them goes one Node-API build
// (native/buffers.h), node.napi.glibc.node, which node-gyp-build picks only where no ABI build
// matches (a future major) and which refuses to load where Node lacks the functions it needs.
// A stamp per arch (a hash of the sources and the Node releases, in .cache/) skips the work
// when nothing changed. --available builds what this machine's toolchains can (for `npm test`).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { ARCHES, MAJORS, headerAbi, nodeDist } from './lib/node-dist.mjs';
import { nodeGypRebuild } from './lib/node-gyp.mjs';
import { files, root } from './lib/paths.mjs';

const PREBUILDS = join(root, 'prebuilds');
const stampFile = (arch) => join(root, '.cache', `prebuilds-${arch}.stamp`);
const CROSS = {
  arm64: { CC: 'aarch64-linux-gnu-gcc', CXX: 'aarch64-linux-gnu-g++', LINK: 'aarch64-linux-gnu-g++', AR: 'aarch64-linux-gnu-ar', STRIP: 'aarch64-linux-gnu-strip' },
};
const HOST_ARCH = process.arch;

function parseArgs(argv) {
  const args = { force: false, arches: ARCHES, available: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--force') args.force = true;
    else if (argv[i] === '--available') args.available = true;
    else if (argv[i] === '--arch' && ARCHES.includes(argv[i + 1])) args.arches = [argv[++i]];
    else {
      console.error(`usage: npm run prebuilds -- [--force] [--arch ${ARCHES.join('|')} | --available]`);
      process.exit(2);
    }
  }
  return args;
}

/** What the binaries are made of: a change to any of these makes them stale. */
function sourceHash() {
  const hash = createHash('sha256');
  const inputs = [join(root, 'binding.gyp'), ...files(join(root, 'native')), join(root, 'scripts', 'prebuilds.mjs'), join(root, 'scripts', 'lib', 'node-dist.mjs')];
  inputs.push(...benchInputs(root));
  for (const file of inputs.sort()) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

/** Where a build goes: one per major (the V8-API builds) and one Node-API build. */
function target(arch, major) {
  const tag = major === 'napi' ? 'napi' : `abi${headerAbi(nodeDist(arch, major))}`;
  return join(PREBUILDS, `linux-${arch}`, `node.${tag}.glibc.node`);
}
const BUILDS = [...MAJORS, 'napi'];
/** The Node-API build is compiled against the newest headers. */
const NAPI_HEADERS = MAJORS[MAJORS.length - 1];

// ---- the benchmark's C reference programs ---------------------------------------------------

/** The sources, relative to the repository root; each becomes one program of its base name. */
const BENCH_SOURCES = ['bench/ring/cring.c', 'bench/ring/cring-rtt.c', 'bench/ring/memcpy.c', 'bench/sync/pingpong.c'];
/** Headers they include besides the system's: a change to one makes the programs stale. */
const BENCH_HEADERS = ['bench/lib/rtt.h'];

function benchInputs(root) {
  return [...BENCH_SOURCES, ...BENCH_HEADERS].map((p) => join(root, p));
}

function benchTargets(prebuilds, arch) {
  return BENCH_SOURCES.map((source) => join(prebuilds, `linux-${arch}`, 'bench', basename(source, '.c')));
}

/** Compiles every program for `arch` with `cc` and strips it with `strip`; returns the files. */
function buildBenchPrograms(root, prebuilds, arch, cc, strip) {
  const targets = benchTargets(prebuilds, arch);
  mkdirSync(join(prebuilds, `linux-${arch}`, 'bench'), { recursive: true });
  BENCH_SOURCES.forEach((source, i) => {
    const out = targets[i];
    const args = ['-O2', '-I', join(root, 'native', 'include'), '-I', join(root, 'bench', 'lib'), '-o', out, join(root, source), '-lrt'];
    execFileSync(cc, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync(strip, ['--strip-unneeded', out]);
  });
  return targets;
}

export function expectedFiles(arches = ARCHES) {
  return arches.flatMap((arch) => [...BUILDS.map((build) => target(arch, build)), ...benchTargets(PREBUILDS, arch)]);
}

function tool(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

function buildOne(arch, build) {
  const major = build === 'napi' ? NAPI_HEADERS : build;
  const nodedir = nodeDist(arch, major);
  const stage = join(root, '.cache', 'stage', `${arch}-${major}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  cpSync(join(root, 'binding.gyp'), join(stage, 'binding.gyp'));
  cpSync(join(root, 'native'), join(stage, 'native'), { recursive: true });
  const cross = arch === HOST_ARCH ? {} : CROSS[arch];
  if (cross === undefined) throw new Error(`cannot cross-compile for ${arch} from ${HOST_ARCH}`);
  const variables = build === 'napi' ? ['--shmring_node_api_only=1'] : [];
  const { status, output } = nodeGypRebuild({ cwd: stage, nodedir, arch, env: cross, quiet: true, variables });
  if (status !== 0) throw new Error(`building ${build === 'napi' ? 'the Node-API build' : `for Node ${major}`} (${arch}) failed:\n${output}`);
  const out = target(arch, build);
  mkdirSync(join(PREBUILDS, `linux-${arch}`), { recursive: true });
  execFileSync(cross.STRIP ?? 'strip', ['--strip-unneeded', '-o', out, join(stage, 'build', 'Release', 'shmring.node')]);
  rmSync(stage, { recursive: true, force: true });
  // A binary for this machine must load in its own Node before it is shipped.
  if (arch === HOST_ARCH) execFileSync(join(nodedir, 'bin', 'node'), ['-e', `require(${JSON.stringify(out)})`]);
  return out;
}

function canBuild(arch) {
  if (arch === HOST_ARCH) return true;
  const cross = CROSS[arch];
  return cross !== undefined && tool(cross.CXX) && tool(cross.CC) && tool(cross.STRIP);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  let arches = args.arches;
  for (const arch of arches.filter((a) => !canBuild(a))) {
    const needs = `${CROSS[arch]?.CXX ?? `a cross compiler for ${arch}`} (Debian: apt-get install g++-aarch64-linux-gnu)`;
    if (!args.available) {
      console.error(`prebuilds: ${arch} needs ${needs}, or build only this machine's with --arch ${HOST_ARCH}`);
      process.exit(1);
    }
    console.error(`prebuilds: skipping ${arch}: it needs ${needs}`);
  }
  if (args.available) arches = arches.filter(canBuild);
  const hash = sourceHash();
  for (const arch of arches) {
    const fresh = existsSync(stampFile(arch)) && readFileSync(stampFile(arch), 'utf8') === hash && expectedFiles([arch]).every((f) => existsSync(f));
    if (fresh && !args.force) {
      console.log(`prebuilds: linux-${arch} up to date`);
      continue;
    }
    rmSync(stampFile(arch), { force: true });
    rmSync(join(PREBUILDS, `linux-${arch}`), { recursive: true, force: true });
    for (const build of BUILDS) {
      const started = Date.now();
      const out = buildOne(arch, build);
      const what = build === 'napi' ? `Node-API, headers of Node ${NAPI_HEADERS}` : `Node ${build}`;
      console.log(`prebuilds: ${relative(root, out)} (${what}, ${readFileSync(out).length} bytes, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    const cross = arch === HOST_ARCH ? {} : CROSS[arch];
    const started = Date.now();
    const programs = buildBenchPrograms(root, PREBUILDS, arch, cross.CC ?? 'cc', cross.STRIP ?? 'strip');
    console.log(`prebuilds: ${programs.length} C reference programs of the benchmark in prebuilds/linux-${arch}/bench (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    writeFileSync(stampFile(arch), hash);
  }
}

try {
  main();
} catch (error) {
  console.error(`prebuilds: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
