// Runs node-gyp (the copy npm ships, or the one npm names) against a chosen header folder.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

function npmOnPath() {
  const found = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  return found ? join(dirname(realpathSync(found)), '..') : undefined;
}

function nodeGypPath() {
  const named = process.env.npm_config_node_gyp;
  if (named && existsSync(named)) return named;
  // node-gyp comes with npm: the npm beside the node that runs us, or the one on PATH.
  const npmDirs = [join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm'), join(dirname(process.execPath), 'node_modules', 'npm'), npmOnPath()];
  const candidates = npmDirs.filter(Boolean).map((dir) => join(dir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`cannot find node-gyp (looked at ${[named, ...candidates].filter(Boolean).join(', ')}); install it or set npm_config_node_gyp`);
  return found;
}

/**
 * `node-gyp rebuild` in `cwd` against the headers in `nodedir` (a folder holding
 * include/node). `arch` other than the host's cross-compiles with the given tools.
 * Returns the exit status; output goes to ours, or is returned when `quiet`.
 */
export function nodeGypRebuild({ cwd, nodedir, arch, env = {}, quiet = false, variables = [] }) {
  const args = [nodeGypPath(), 'rebuild', '-j', '2', ...variables];
  if (nodedir !== undefined) args.push(`--nodedir=${nodedir}`);
  if (arch !== undefined) args.push(`--arch=${arch}`);
  // An npmrc nodedir must not override the one chosen here.
  const childEnv = { ...process.env, ...env };
  delete childEnv.npm_config_nodedir;
  delete childEnv.NPM_CONFIG_NODEDIR;
  const result = spawnSync(process.execPath, args, { cwd, env: childEnv, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
  return { status: result.status ?? 1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
