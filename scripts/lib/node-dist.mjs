// Node.js distributions from the npm registry (the node-linux-<arch> packages ship bin/node
// and the full include/node headers), cached in .cache/node/ of the repository. Used to build
// the prebuilt binaries for every supported major and to run the suite on those majors.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './paths.mjs';

/** The majors shmring supports, and the release of each taken from the registry (pinned, so
 * a cache stays valid and a build can be repeated). ABI is per major, so any release serves. */
export const MAJORS = [20, 22, 24, 26];
const RELEASES = {
  x64: { 20: '20.8.0', 22: '22.23.3', 24: '24.9.0', 26: '26.12.1' },
  arm64: { 20: '20.5.1', 22: '22.23.3', 24: '24.22.0', 26: '26.6.0' },
};
export const ARCHES = Object.keys(RELEASES);

const CACHE = join(root, '.cache', 'node');

/** The folder of a Node distribution (bin/node, include/node), fetched once into the cache. */
export function nodeDist(arch, major) {
  const release = RELEASES[arch]?.[major];
  if (release === undefined) throw new Error(`no Node ${major} for ${arch}: supported ${JSON.stringify(RELEASES)}`);
  const dir = join(CACHE, `${arch}-${release}`);
  if (existsSync(join(dir, 'include', 'node', 'node_version.h'))) return dir;
  mkdirSync(CACHE, { recursive: true });
  const scratch = mkdtempSync(join(CACHE, '.fetch-'));
  try {
    const spec = `node-linux-${arch}@${release}`;
    execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', scratch], { stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack ${spec} gave no tarball`);
    execFileSync('tar', ['xzf', join(scratch, tarball), '-C', scratch]);
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(scratch, 'package'), dir);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return dir;
}

/** NODE_MODULE_VERSION (the ABI a V8-API addon is built for) of a header folder. */
export function headerAbi(nodedir) {
  const text = readFileSync(join(nodedir, 'include', 'node', 'node_version.h'), 'utf8');
  const abi = /#define NODE_MODULE_VERSION (\d+)/.exec(text);
  if (abi === null) throw new Error(`no NODE_MODULE_VERSION in ${nodedir}/include/node/node_version.h`);
  return Number(abi[1]);
}

/** The Node major of a header folder. */
export function headerMajor(nodedir) {
  const text = readFileSync(join(nodedir, 'include', 'node', 'node_version.h'), 'utf8');
  const major = /#define NODE_MAJOR_VERSION (\d+)/.exec(text);
  if (major === null) throw new Error(`no NODE_MAJOR_VERSION in ${nodedir}/include/node/node_version.h`);
  return Number(major[1]);
}

// `node scripts/lib/node-dist.mjs x64 22` prints the folder (fetching it first): for CI.
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const [arch, major] = process.argv.slice(2);
  console.log(nodeDist(arch, Number(major)));
}
