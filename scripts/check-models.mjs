#!/usr/bin/env node
// Checks the Promela models of the ring protocols (docs/models/*.pml) with spin, exhaustively:
// each configuration is generated (spin -a), compiled (cc -DSAFETY -DCOLLAPSE) and run, and
// must end as expected: no error for the protocol as built, an error for each deliberately
// broken variant (the check would be worthless if those passed). Prints the state counts.
//   node scripts/check-models.mjs [--json] [--only NAME]
// Exit 0 when every configuration ended as expected, 1 otherwise, 2 when spin or a C
// compiler is missing (the message says which). Each run is bounded in time and memory.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MODELS = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'models');
/** Longest a single configuration may run (the largest takes ~25 s on the CI machine). */
const RUN_TIMEOUT_MS = 240_000;
/** Memory for the state store, in MB (the largest configuration stores ~850 MB). */
const MEMORY_MB = 4096;

/**
 * Every configuration: the model, its -D flags, and whether spin must find an error (for a
 * broken variant, the error it must find: another one, say an index out of range from a typo
 * in the variant, does not count).
 */
export const CONFIGURATIONS = [
  { name: 'spsc', model: 'spsc.pml', defines: [], expect: 'pass' },
  { name: 'spsc, producer killed', model: 'spsc.pml', defines: ['KILL_PRODUCER'], expect: 'pass' },
  { name: 'spsc, consumer killed', model: 'spsc.pml', defines: ['KILL_CONSUMER'], expect: 'pass' },
  { name: 'spsc batched, producer killed', model: 'spsc.pml', defines: ['BATCH', 'KILL_PRODUCER'], expect: 'pass' },
  { name: 'spsc batched, consumer killed', model: 'spsc.pml', defines: ['BATCH', 'KILL_CONSUMER'], expect: 'pass' },
  { name: 'spsc broken: tail published before the record header', model: 'spsc.pml', defines: ['MUTATE_PUBLISH_FIRST'], expect: 'fail', error: /^assertion violated/ },
  { name: 'spsc broken: park without the re-check', model: 'spsc.pml', defines: ['MUTATE_NO_RECHECK'], expect: 'fail', error: /^invalid end state/ },
  { name: 'mpmc', model: 'mpmc.pml', defines: [], expect: 'pass' },
  { name: 'mpmc, producer killed', model: 'mpmc.pml', defines: ['KILL_PRODUCER'], expect: 'pass' },
  { name: 'mpmc, consumer killed', model: 'mpmc.pml', defines: ['KILL_CONSUMER'], expect: 'pass' },
  { name: 'mpmc broken: tombstone written before the CAS', model: 'mpmc.pml', defines: ['MUTATE_TOMBSTONE_FIRST', 'KILL_PRODUCER'], expect: 'fail', error: /^assertion violated .*returned\[j\]/ },
  { name: 'mpmc broken: repair without the liveness check', model: 'mpmc.pml', defines: ['MUTATE_REPAIR_LIVE', 'KILL_PRODUCER'], expect: 'fail', error: /^assertion violated .*alive\[/ },
  { name: 'mpmc broken: announcement after the claiming CAS', model: 'mpmc.pml', defines: ['MUTATE_ANNOUNCE_AFTER_CAS', 'KILL_PRODUCER'], expect: 'fail', error: /^invalid end state/ },
];

/** Why the models cannot be checked here (spin or a C compiler missing), or undefined. */
export function missingTools() {
  for (const [tool, args] of [['spin', ['-V']], ['cc', ['--version']]]) {
    const r = spawnSync(tool, args, { stdio: 'ignore' });
    if (r.error !== undefined) return `${tool} is not installed (Debian: apt-get install ${tool === 'spin' ? 'spin' : 'gcc'})`;
  }
  return undefined;
}

/** Runs one configuration: { name, expect, errors, states, seconds, ok, detail }. */
export function check(configuration) {
  const dir = mkdtempSync(join(tmpdir(), 'shmring-model-'));
  const started = Date.now();
  try {
    copyFileSync(join(MODELS, configuration.model), join(dir, configuration.model));
    execFileSync('spin', ['-a', ...configuration.defines.map((d) => `-D${d}`), configuration.model], { cwd: dir, stdio: 'pipe', timeout: 60_000 });
    execFileSync('cc', ['-O2', '-DSAFETY', '-DCOLLAPSE', `-DMEMLIM=${MEMORY_MB}`, '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe', timeout: 120_000 });
    const run = spawnSync('./pan', ['-m100000'], { cwd: dir, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
    const out = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    const errors = Number(/errors: (\d+)/.exec(out)?.[1] ?? NaN);
    const states = Number(/([\d.e+]+) states, stored/.exec(out)?.[1] ?? NaN);
    const finished = run.error === undefined && run.signal === null && Number.isFinite(errors);
    // A search cut short (depth or memory) proves nothing: only a full one may pass.
    const truncated = /max search depth too small|out of memory|search not completed/i.test(out);
    const found = /^pan:\d+: (.*)$/m.exec(out)?.[1];
    const ok = finished && (configuration.expect === 'pass' ? errors === 0 && !truncated : errors > 0 && configuration.error.test(found ?? ''));
    const detail = !finished ? `did not finish (${run.error?.message ?? run.signal ?? 'no result'})` : found ?? (truncated ? 'search incomplete' : 'no error');
    return { name: configuration.name, expect: configuration.expect, errors, states, seconds: (Date.now() - started) / 1000, ok, detail };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main() {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const missing = missingTools();
  if (missing !== undefined) {
    console.error(`check-models: ${missing}`);
    process.exit(2);
  }
  const results = CONFIGURATIONS.filter((c) => only === undefined || c.name.includes(only)).map(check);
  if (json) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    for (const r of results) {
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: expected ${r.expect}, ${r.errors} error(s), ${r.states.toLocaleString('en')} states, ${r.seconds.toFixed(1)} s (${r.detail})`);
    }
  }
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
