// Builds the C reference programs of the benchmark with the system compiler, once per run,
// into a temporary directory removed when the process exits.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The C mirror of the ring layout, for C programs that speak it. */
const INCLUDE = join(HERE, '..', '..', 'native', 'include');

let dir: string | undefined;
const built = new Map<string, string>();

export function buildC(source: string): string {
  const cached = built.get(source);
  if (cached !== undefined) return cached;
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'shmring-bench-'));
    process.on('exit', () => rmSync(dir!, { recursive: true, force: true }));
  }
  const out = join(dir, basename(source, '.c'));
  execFileSync('cc', ['-O2', '-march=native', '-I', INCLUDE, '-I', HERE, '-o', out, source, '-lrt'], { stdio: ['ignore', 'ignore', 'inherit'] });
  built.set(source, out);
  return out;
}
