// What the benchmark harness can use on this machine, and where: the package it belongs to
// (the same files whether it runs from source in a clone or compiled in an installed
// package), the competitors the package does not install (piscina, an optional peer of
// shmring: measured where the user's project has it, otherwise its rows are skipped with the
// reason), and the C reference programs (bench/**/*.c): the prebuilt binary shipped for this
// arch (prebuilds/linux-<arch>/bench/, built by scripts/prebuilds.mjs) if it runs here, else
// compiled with the system compiler once per run into a temporary directory, else none, and
// the rows that need one say why (the error thrown by buildC).
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

// ---- the package ------------------------------------------------------------------------

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'shmring') return dir;
    if (dirname(dir) === dir) throw new Error(`the benchmark harness at ${from} is not inside the shmring package`);
  }
}

/** The package's root directory (its package.json). */
export const PACKAGE_ROOT = findRoot(HERE);

// ---- competitors the package does not install --------------------------------------------

/** Why `name` cannot be measured here, or undefined when it can be loaded. */
export function missing(name: string): string | undefined {
  try {
    // Resolved as the peers resolve it: from inside the package, then up through the project.
    createRequire(`${PACKAGE_ROOT}/package.json`).resolve(name);
    return undefined;
  } catch {
    return `${name} is not installed here (npm install ${name} in this project to measure it)`;
  }
}

/** Loads `name`, or throws the reason it cannot be measured here. */
export async function load<T>(name: string): Promise<T> {
  const reason = missing(name);
  if (reason !== undefined) throw new Error(reason);
  return (await import(name)) as T;
}

// ---- the C reference programs -------------------------------------------------------------

/** The C mirror of the ring layout, for C programs that speak it. */
const INCLUDE = join(PACKAGE_ROOT, 'native', 'include');
/** Where scripts/prebuilds.mjs puts the C references of each arch. */
export const PREBUILT_DIR = join(PACKAGE_ROOT, 'prebuilds', `linux-${process.arch}`, 'bench');
/** The compiler the harness builds with where no prebuilt binary is found. */
const CC = process.env.CC ?? 'cc';

let dir: string | undefined;
const built = new Map<string, string>();
/** How the C references of this run were obtained, for the machine description. */
const how = new Set<string>();

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a prebuilt program runs on this machine: started without arguments it prints its
 * usage and exits with 2 (a glibc older than the one it was linked against, or another libc,
 * fails to load it; then the program is compiled here if a compiler exists).
 */
function runsHere(file: string): boolean {
  return executable(file) && spawnSync(file, [], { stdio: 'ignore', timeout: 10_000 }).status === 2;
}

function compilerFound(): boolean {
  return spawnSync(CC, ['--version'], { stdio: 'ignore' }).status === 0;
}

function compile(source: string): string {
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'shmring-bench-'));
    process.on('exit', () => rmSync(dir!, { recursive: true, force: true }));
  }
  const out = join(dir, basename(source, '.c'));
  execFileSync(CC, ['-O2', '-march=native', '-I', INCLUDE, '-I', HERE, '-o', out, source, '-lrt'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return out;
}

/**
 * The binary of the C reference `source` (a .c file beside the scenario). Throws, with the
 * reason, when there is neither a prebuilt binary for this arch nor a compiler.
 */
export function buildC(source: string): string {
  const cached = built.get(source);
  if (cached !== undefined) return cached;
  const prebuilt = join(PREBUILT_DIR, basename(source, '.c'));
  let binary: string;
  if (process.env.SHMRING_BENCH_COMPILE !== '1' && runsHere(prebuilt)) {
    binary = prebuilt;
    how.add(`prebuilt for linux-${process.arch} (-O2, generic ${process.arch})`);
  } else if (compilerFound()) {
    binary = compile(source);
    how.add(`compiled here with ${CC} -O2 -march=native`);
  } else {
    throw new Error(`no C reference: no prebuilt binary for linux-${process.arch} and no C compiler (${CC}) on this machine`);
  }
  built.set(source, binary);
  return binary;
}

/** How this run's C references were obtained ('' if none ran). */
export function cReferencesUsed(): string {
  return [...how].join('; ');
}
