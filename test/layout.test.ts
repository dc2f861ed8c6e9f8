// The C mirror of the ring layouts (native/include/shmring_layout.h) agrees with the
// TypeScript layout files that own them: every header field, the SPSC record and the MPMC
// registry entry and slot, and the limits a reader checks.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as header from '../src/ring/layout/header.js';
import * as mpmc from '../src/ring/layout/mpmc.js';
import * as spsc from '../src/ring/layout/spsc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

test('C and TypeScript agree on every offset and constant of both ring kinds', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shmring-layout-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const binary = join(dir, 'layout');
  execFileSync('cc', ['-std=c11', '-Wall', '-I', join(ROOT, 'native', 'include'), '-o', binary, join(ROOT, 'test', 'c', 'layout.c')]);
  const c = JSON.parse(execFileSync(binary, { encoding: 'utf8' })) as Record<string, number>;
  const h = header as unknown as Record<string, number>;
  const s = spsc as unknown as Record<string, number>;
  const m = mpmc as unknown as Record<string, number>;
  const headerNames = ['RING_MAGIC', 'RING_VERSION', 'KIND_SPSC', 'KIND_MPMC', 'STATE_FORMATTING', 'STATE_READY', 'MAGIC_OFFSET', 'VERSION_OFFSET', 'KIND_OFFSET', 'STATE_OFFSET', 'PARAM_A_OFFSET', 'PARAM_B_OFFSET', 'HEADER_SIZE_OFFSET', 'TOTAL_SIZE_OFFSET', 'PRODUCER_OWNER_OFFSET', 'CONSUMER_OWNER_OFFSET', 'PRODUCER_CLOSED_OFFSET', 'PARAM_C_OFFSET', 'LOST_OFFSET', 'CONSUMER_WAITERS_OFFSET', 'PRODUCER_WAITERS_OFFSET', 'CONSUMER_EVENT_OFFSET', 'PRODUCER_EVENT_OFFSET', 'HEADER_SIZE'];
  const spscNames = ['TAIL_OFFSET', 'HEAD_OFFSET', 'DATA_OFFSET', 'RECORD_HEADER_SIZE', 'RECORD_ALIGN', 'TYPE_MESSAGE', 'TYPE_PADDING', 'TAG_SHIFT', 'MAX_TAG', 'MIN_CAPACITY', 'MAX_CAPACITY'];
  const mpmcNames = ['ENTRY_SIZE', 'ENTRY_STATE_OFFSET', 'ENTRY_POSITION_OFFSET', 'ENTRY_ROLES_OFFSET', 'SLOT_LENGTH_OFFSET', 'SLOT_HEADER_SIZE', 'TOMBSTONE', 'ROLE_PRODUCER', 'ROLE_CONSUMER', 'STATE_IDLE', 'STATE_PRODUCING', 'STATE_CONSUMING', 'MIN_SLOT_SIZE', 'MAX_SLOT_SIZE', 'MIN_SLOTS', 'MAX_SLOTS', 'MAX_PARTICIPANTS', 'REGISTRY_OFFSET'];
  const expected: Record<string, number> = {
    ...Object.fromEntries(headerNames.map((n) => [n, h[n]!])),
    ...Object.fromEntries(spscNames.map((n) => [n, s[n]!])),
    ...Object.fromEntries(mpmcNames.map((n) => [n, m[n]!])),
    SLOTS_OFFSET_16: mpmc.slotsOffset(16),
    MPMC_SIZE_8_64_4: mpmc.mpmcRingSize(8, 64, 4),
  };
  t.true(Object.values(expected).every((v) => typeof v === 'number'), 'every name is a constant of the layout files');
  t.deepEqual(c, expected);
});
