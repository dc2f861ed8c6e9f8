// The package's install script. Uses a prebuilt binary when one loads in this Node
// (node-gyp-build's own choice: build/Release, then prebuilds/<platform>-<arch>/ by ABI),
// and builds from source only when none loads, when the user asks
// (npm_config_build_from_source, `npm install --build-from-source`) or with --force.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { headerMajor } from './lib/node-dist.mjs';
import { nodeGypRebuild } from './lib/node-gyp.mjs';
import { root } from './lib/paths.mjs';

const MAJOR = Number(process.versions.node.split('.')[0]);

function truthy(value) {
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/** Loads the binary node-gyp-build picks, in a child process so that a bad one cannot hurt us. */
function probe() {
  const script = `
    const file = require(require.resolve('node-gyp-build', { paths: [${JSON.stringify(root)}] })).resolve(${JSON.stringify(root)});
    process.stdout.write(file);
    require(file);`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, PREBUILDS_ONLY: '' } });
  const lines = (result.stderr || '').split('\n').filter((l) => /Error|error:/.test(l));
  return { ok: result.status === 0, file: result.stdout || undefined, why: lines[0]?.trim() || (result.signal ? `killed by ${result.signal}` : `exit ${result.status}`) };
}

/** Headers of this Node: npm's nodedir only if it is the same major, else the ones beside node. */
function chooseNodedir() {
  const requested = process.env.npm_config_nodedir || process.env.NPM_CONFIG_NODEDIR;
  const candidates = [];
  if (requested) candidates.push(['npm config nodedir', resolve(requested)]);
  candidates.push(['the headers beside this node', join(dirname(process.execPath), '..')]);
  for (const [what, dir] of candidates) {
    if (!existsSync(join(dir, 'include', 'node', 'node_version.h'))) continue;
    const major = headerMajor(dir);
    if (major === MAJOR) return dir;
    console.error(`shmring: not building against ${what} (${dir}): it holds the headers of Node ${major}, this is Node ${MAJOR}`);
  }
  console.error(`shmring: no local headers of Node ${MAJOR}; node-gyp will download them`);
  return undefined;
}

function buildFromSource() {
  const { status } = nodeGypRebuild({ cwd: root, nodedir: chooseNodedir() });
  if (status !== 0) {
    console.error('shmring: the source build failed. It needs python3, make and a C++ compiler (g++ or clang++); ' +
      'prebuilt binaries cover linux-x64 and linux-arm64 with glibc >= 2.34 on Node 20, 22, 24 and 26.');
  }
  return status;
}

const force = process.argv.includes('--force') || truthy(process.env.npm_config_build_from_source);
if (!force) {
  const found = probe();
  if (found.ok) process.exit(0);
  if (found.file) console.error(`shmring: the prebuilt binary ${found.file} does not load in Node ${process.versions.node}: ${found.why}; building from source`);
  else console.error(`shmring: no prebuilt binary for ${process.platform}-${process.arch} Node ${process.versions.node} (ABI ${process.versions.modules}); building from source`);
}
process.exit(buildFromSource());
