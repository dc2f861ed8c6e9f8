// Every ProcessPool option is checked when the pool is made: a wrong one is a TypeError or
// RangeError naming it (name=value), and no worker starts.
import { availableParallelism } from 'node:os';
import test from 'ava';
import { ProcessPool } from '../src/index.js';
import { fixture } from './helpers/pools.js';

const filename = fixture('add.mjs');

const BAD: Array<[options: Record<string, unknown>, error: typeof TypeError | typeof RangeError, message: RegExp]> = [
  [{ filename: 5 }, TypeError, /^options\.filename=5: expected a path or a file: URL/],
  [{ filename: '' }, RangeError, /^options\.filename="": must be a path/],
  [{ filename: new URL('https://example.com/w.mjs') }, RangeError, /^options\.filename="https:/],
  [{ name: 1 }, TypeError, /^options\.name=1/],
  [{ minWorkers: -1 }, RangeError, /^options\.minWorkers=-1: must be an integer >= 0/],
  [{ minWorkers: 1.5 }, RangeError, /^options\.minWorkers=1\.5/],
  [{ minWorkers: NaN }, RangeError, /^options\.minWorkers=NaN/],
  [{ minWorkers: '1' }, TypeError, /^options\.minWorkers="1": expected a number/],
  [{ maxWorkers: 0 }, RangeError, /^options\.maxWorkers=0: must be an integer >= 1/],
  [{ maxWorkers: Infinity }, RangeError, /^options\.maxWorkers=Infinity/],
  [{ minWorkers: 3, maxWorkers: 2 }, RangeError, /^options\.minWorkers=3: must be at most options\.maxWorkers=2/],
  [{ idleTimeout: -1 }, RangeError, /^options\.idleTimeout=-1/],
  [{ idleTimeout: NaN }, RangeError, /^options\.idleTimeout=NaN/],
  [{ idleTimeout: 0.5 }, RangeError, /^options\.idleTimeout=0\.5/],
  [{ maxQueue: -1 }, RangeError, /^options\.maxQueue=-1/],
  [{ maxQueue: 'many' }, TypeError, /^options\.maxQueue="many"/],
  [{ concurrentTasksPerWorker: 0 }, RangeError, /^options\.concurrentTasksPerWorker=0/],
  [{ concurrentTasksPerWorker: 2.5 }, RangeError, /^options\.concurrentTasksPerWorker=2\.5/],
  [{ env: 'PATH=/bin' }, TypeError, /^options\.env="PATH=\/bin": expected an object/],
  [{ execArgv: '--inspect' }, TypeError, /^options\.execArgv="--inspect": expected an array/],
  [{ execArgv: [1] }, TypeError, /^options\.execArgv\[0\]=1/],
  [{ argv: [null] }, TypeError, /^options\.argv\[0\]=null/],
  [{ resourceLimits: 64 }, TypeError, /^options\.resourceLimits=64/],
  [{ resourceLimits: { maxOldGenerationSizeMb: 0 } }, RangeError, /^options\.resourceLimits\.maxOldGenerationSizeMb=0/],
  [{ resourceLimits: { maxOldGenerationSizeMb: 1.5 } }, RangeError, /^options\.resourceLimits\.maxOldGenerationSizeMb=1\.5/],
  [{ resourceLimits: { stackSizeMb: 4 } }, RangeError, /^options\.resourceLimits\.stackSizeMb=4: must be left out/],
  [{ closeTimeout: -5 }, RangeError, /^options\.closeTimeout=-5/],
  [{ recordTiming: 'yes' }, TypeError, /^options\.recordTiming="yes"/],
];

for (const [options, error, message] of BAD) {
  test(`new ProcessPool(${JSON.stringify(options, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v instanceof URL ? v.href : v))}) throws ${error.name}`, (t) => {
    t.throws(() => new ProcessPool({ filename, minWorkers: 0, ...options }), { instanceOf: error, message });
  });
}

test('options that are not an object are refused', (t) => {
  t.throws(() => new ProcessPool(null as never), { instanceOf: TypeError, message: /^options=null/ });
  t.throws(() => new ProcessPool(5 as never), { instanceOf: TypeError, message: /^options=5/ });
});

test("defaults and piscina's rules: one bound given moves the other's default; 'auto' is maxWorkers²", async (t) => {
  const a = new ProcessPool({ filename, minWorkers: 0, maxWorkers: 3, maxQueue: 'auto', resourceLimits: { maxOldGenerationSizeMb: 64 } });
  t.is(a.options.maxQueue, 9);
  t.is(a.options.name, 'default');
  t.is(a.options.idleTimeout, 0);
  t.is(a.options.concurrentTasksPerWorker, 1);
  t.true(a.options.execArgv.includes('--max-old-space-size=64'));
  const b = new ProcessPool({ filename, minWorkers: 0, maxWorkers: 1 });
  t.is(b.minWorkers, 0);
  t.is(b.maxWorkers, 1);
  const c = new ProcessPool({ filename, minWorkers: availableParallelism() + 1 });
  t.is(c.maxWorkers, availableParallelism() + 1, 'maxWorkers follows a larger minWorkers');
  await c.destroy();
  t.is(c.workers.length, 0);
  await Promise.all([a.destroy(), b.destroy()]);
});
