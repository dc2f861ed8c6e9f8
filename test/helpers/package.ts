// The package as a user gets it: `npm pack` of this checkout, installed into scratch projects
// with the Node that runs the test, optionally with every compiler on PATH replaced by a shim
// that fails and logs its use.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { tempDir } from './resources.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD_TOOLS = ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'make', 'python', 'python3'];

/** npm's own CLI, run by the Node under test so that install scripts run in that Node too. */
const NPM_CLI = realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());

/** The environment of a user's shell: without the npm_* variables of the `npm test` running us
 * or the variables that choose a binary for the suite. */
function userEnv(extra: Record<string, string> = {}, pathFirst: string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && !['PREBUILDS_ONLY', 'SHMRING_PREBUILD', 'INIT_CWD'].includes(k)) env[k] = v;
  env.PATH = [...pathFirst, dirname(process.execPath), process.env.PATH].join(':');
  return { ...env, ...extra };
}

export function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; pathFirst?: string[]; timeout?: number }): SpawnSyncReturns<string> {
  const file = command === 'node' ? process.execPath : command;
  return spawnSync(file, args, { cwd: options.cwd, env: userEnv(options.env, options.pathFirst), encoding: 'utf8', timeout: options.timeout ?? 240_000 });
}

export function npm(args: string[], options: { cwd: string; env?: Record<string, string>; pathFirst?: string[] }): SpawnSyncReturns<string> {
  return run('node', [NPM_CLI, ...args, '--no-audit', '--no-fund', '--prefer-offline'], options);
}

/** npx as a user types it in the project `cwd` (npm's own npx, run by the Node under test). */
export function npx(args: string[], options: { cwd: string; env?: Record<string, string>; pathFirst?: string[]; timeout?: number }): SpawnSyncReturns<string> {
  return run('node', [join(dirname(NPM_CLI), 'npx-cli.js'), '--no-install', ...args], options);
}

/** The folder of a Node distribution from the registry cache (scripts/lib/node-dist.mjs fetches it once). */
export function nodeDist(arch: 'x64' | 'arm64', major: number): string {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts', 'lib', 'node-dist.mjs'), arch, String(major)], { encoding: 'utf8', timeout: 240_000 });
  if (result.status !== 0) throw new Error(`node-dist ${arch} ${major}: ${result.stderr}`);
  return result.stdout.trim();
}

let packed: string | undefined;

/**
 * The tarball `npm pack` makes of this checkout (once per test process). Packed with
 * --ignore-scripts: `npm test` has just built dist/ and the prebuilds, and a prepack rebuild
 * here would rewrite dist/ under the feet of concurrent tests.
 */
export function tarball(t: ExecutionContext): string {
  if (packed !== undefined && existsSync(packed)) return packed;
  for (const arch of ['x64', 'arm64']) {
    if (!existsSync(join(ROOT, 'prebuilds', `linux-${arch}`))) throw new Error(`prebuilds/linux-${arch} is missing: run npm run prebuilds`);
  }
  const dir = join(ROOT, '.cache', `pack-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const result = npm(['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
  if (result.status !== 0) throw new Error(`npm pack failed: ${result.stderr}`);
  const file = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (file === undefined) throw new Error(`npm pack wrote no tarball: ${result.stdout}`);
  packed = join(dir, file);
  return packed;
}

/** Removes the tarball of this test process (test.after.always). */
export function removeTarball(): void {
  if (packed !== undefined) rmSync(dirname(packed), { recursive: true, force: true });
  packed = undefined;
}

/** A directory of shims named like the build tools, each failing and logging its use. */
export function compilerShims(t: ExecutionContext): { dir: string; used(): string[] } {
  const dir = tempDir(t);
  const log = join(dir, 'used.log');
  writeFileSync(log, '');
  for (const name of BUILD_TOOLS) {
    const shim = join(dir, name);
    writeFileSync(shim, `#!/bin/sh\necho "$0" >> ${JSON.stringify(log)}\necho "no ${name} on this machine" >&2\nexit 127\n`);
    chmodSync(shim, 0o755);
  }
  return { dir, used: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

/** A scratch project with the tarball installed, and the two-process ring fixture beside it. */
export function scratchInstall(t: ExecutionContext, options: { ignoreScripts?: boolean; pathFirst?: string[] } = {}): { dir: string; install: SpawnSyncReturns<string> } {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true, type: 'module' }));
  copyFileSync(join(ROOT, 'test', 'fixtures', 'installed-ring.mjs'), join(dir, 'installed-ring.mjs'));
  const args = ['install', tarball(t)];
  if (options.ignoreScripts === true) args.push('--ignore-scripts');
  const install = npm(args, { cwd: dir, pathFirst: options.pathFirst });
  return { dir, install };
}
