// The environment of a control-group child whose liveness check gives one answer for every
// process (test/fixtures/liveness.mjs): 'alive' removes dead-owner detection, 'dead' removes
// the protection of slow but live participants.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FIXTURES } from './processes.js';

export function livenessEnv(answer: 'alive' | 'dead'): NodeJS.ProcessEnv {
  const hooks = pathToFileURL(join(FIXTURES, 'liveness.mjs')).href;
  return { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${hooks}`.trim(), SHMRING_TEST_LIVENESS: answer };
}
