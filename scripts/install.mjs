// Builds the native addon with node-gyp when no usable build exists (or with --force).
// Runs as the package's install script, so `npm ci` needs no manual step.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');
const built = join(root, 'build', 'Release', 'shmring.node');

if (!force && existsSync(built)) process.exit(0);

// node-gyp comes with npm; npm names it in the environment of install scripts.
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const nodeGyp = process.env.npm_config_node_gyp || bundled;
if (!existsSync(nodeGyp)) {
  console.error(`shmring: cannot find node-gyp (looked at ${nodeGyp}); install it or set npm_config_node_gyp`);
  process.exit(1);
}

// Build against the headers installed beside this Node (no download) when they exist.
const env = { ...process.env };
const localHeaders = join(dirname(process.execPath), '..', 'include', 'node', 'node.h');
if (!env.npm_config_nodedir && existsSync(localHeaders)) {
  env.npm_config_nodedir = join(dirname(process.execPath), '..');
}

const result = spawnSync(process.execPath, [nodeGyp, 'rebuild'], { cwd: root, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
