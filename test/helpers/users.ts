// Running a child as another user (nobody) to test permissions for real.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

/** Why a child cannot run as nobody here, or undefined when it can. */
export function cannotRunAsNobody(): string | undefined {
  if (process.getuid?.() !== 0) return 'the tests do not run as root, so they cannot switch to user nobody';
  const probe = spawnSync(NOBODY[0]!, [...NOBODY.slice(1), process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(join(ROOT, 'src', 'index.ts'))})`], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (probe.error) return `setpriv is not usable: ${probe.error.message}`;
  if (probe.status !== 0) return `user nobody cannot read the project at ${ROOT}: ${probe.stderr.trim().split('\n')[0]}`;
  return undefined;
}
