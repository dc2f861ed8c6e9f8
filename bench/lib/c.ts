// The C reference programs of the benchmark (bench/**/*.c): the prebuilt binary shipped for
// this machine's arch (prebuilds/linux-<arch>/bench/, built by scripts/prebuilds.mjs), else
// compiled with the system compiler once per run into a temporary directory, else none, and
// the rows that need one are skipped with the reason (the error thrown here).
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from './paths.js';

const HERE = dirname(fileURLToPath(import.meta.url));

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
  if (process.env.SHMRING_BENCH_COMPILE !== '1' && executable(prebuilt)) {
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
