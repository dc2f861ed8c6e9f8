// Permissions: a segment created with the default mode 0600 cannot be opened by another
// (non-root) user; a deliberately widened mode can. The opener runs as user nobody.
import test, { type ExecutionContext } from 'ava';
import { Segment } from '../src/index.js';
import { fileAddress, shmAddress, sweep, sysvAddress } from './helpers/resources.js';
import { runFixture } from './helpers/processes.js';
import { cannotRunAsNobody, NOBODY } from './helpers/users.js';

test.after.always(sweep);

const reason = cannotRunAsNobody();
if (reason !== undefined) console.log(`segment-permissions: skipped: ${reason}`);
const maybe = reason === undefined ? test : test.skip;

async function openAsNobody(t: ExecutionContext, address: string) {
  const result = await runFixture(t, 'segment-open', [address], { prefix: NOBODY });
  t.is(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim()) as { ok: boolean; code?: string; name?: string };
}

for (const [kind, make] of [
  ['shm', shmAddress],
  ['file', fileAddress],
  ['sysv', sysvAddress],
] as const) {
  maybe(`${kind}: default mode 0600 refuses another user with EACCES`, async (t) => {
    const address = make(t);
    const seg = Segment.create(address, { size: 4096 });
    t.teardown(() => seg.close());
    const outcome = await openAsNobody(t, address);
    t.deepEqual({ ok: outcome.ok, name: outcome.name, code: outcome.code }, { ok: false, name: 'ShmError', code: 'EACCES' });
  });

  maybe(`${kind}: mode 0666 lets another user open it`, async (t) => {
    const address = make(t);
    const seg = Segment.create(address, { size: 4096, mode: 0o666 });
    t.teardown(() => seg.close());
    const outcome = await openAsNobody(t, address);
    t.true(outcome.ok, JSON.stringify(outcome));
  });
}
