// The benchmark's C reference programs, prebuilt for each arch beside the addon's prebuilds
// (prebuilds/linux-<arch>/bench/<name>), so that `npx shmring bench` has its C rows on a
// machine without a compiler (bench/lib/c.ts looks there first). Built -O2 for the arch's
// baseline (no -march=native: they run on the user's CPU), stripped.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The sources, relative to the repository root; each becomes one program of its base name. */
export const BENCH_SOURCES = ['bench/ring/cring.c', 'bench/ring/cring-rtt.c', 'bench/ring/memcpy.c', 'bench/sync/pingpong.c'];
/** Headers they include besides the system's: a change to one makes the programs stale. */
const BENCH_HEADERS = ['bench/lib/rtt.h'];

export function benchInputs(root) {
  return [...BENCH_SOURCES, ...BENCH_HEADERS].map((p) => join(root, p));
}

export function benchTargets(prebuilds, arch) {
  return BENCH_SOURCES.map((source) => join(prebuilds, `linux-${arch}`, 'bench', basename(source, '.c')));
}

/** Compiles every program for `arch` with `cc` and strips it with `strip`; returns the files. */
export function buildBenchPrograms(root, prebuilds, arch, cc, strip) {
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
