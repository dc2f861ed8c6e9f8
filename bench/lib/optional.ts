// Competitors the package does not install: piscina is measured where the user's project
// has it (it is an optional peer of shmring: SharedResults works with it, and nothing else
// needs it). Elsewhere its rows are skipped with the reason, and the rest of the run goes on.
import { createRequire } from 'node:module';
import { PACKAGE_ROOT } from './paths.js';

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
