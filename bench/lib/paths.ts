// Where the harness finds the package it belongs to: the same files whether it runs from
// source in a clone (bench/lib) or compiled in an installed package (dist/bench/lib).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'shmring') return dir;
    if (dirname(dir) === dir) throw new Error(`the benchmark harness at ${from} is not inside the shmring package`);
  }
}

/** The package's root directory (its package.json). */
export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
