// The C mirror of the ring layout (native/include/shmring_layout.h) agrees with the
// TypeScript layout files that own it.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as header from '../src/ring/layout/header.js';
import * as spsc from '../src/ring/layout/spsc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

test('C and TypeScript agree on every offset of the SPSC ring', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shmring-layout-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const binary = join(dir, 'layout');
  execFileSync('cc', ['-std=c11', '-Wall', '-I', join(ROOT, 'native', 'include'), '-o', binary, join(ROOT, 'test', 'c', 'layout.c')]);
  const c = JSON.parse(execFileSync(binary, { encoding: 'utf8' })) as Record<string, number>;
  t.deepEqual(c, {
    MAGIC: header.RING_MAGIC,
    VERSION: header.RING_VERSION,
    PRODUCER_OWNER_OFFSET: header.PRODUCER_OWNER_OFFSET,
    CONSUMER_OWNER_OFFSET: header.CONSUMER_OWNER_OFFSET,
    PRODUCER_CLOSED_OFFSET: header.PRODUCER_CLOSED_OFFSET,
    PARAM_C_OFFSET: header.PARAM_C_OFFSET,
    LOST_OFFSET: header.LOST_OFFSET,
    TAIL_OFFSET: spsc.TAIL_OFFSET,
    HEAD_OFFSET: spsc.HEAD_OFFSET,
    CONSUMER_WAITERS_OFFSET: header.CONSUMER_WAITERS_OFFSET,
    PRODUCER_WAITERS_OFFSET: header.PRODUCER_WAITERS_OFFSET,
    CONSUMER_EVENT_OFFSET: header.CONSUMER_EVENT_OFFSET,
    PRODUCER_EVENT_OFFSET: header.PRODUCER_EVENT_OFFSET,
    DATA_OFFSET: spsc.DATA_OFFSET,
    RECORD_HEADER_SIZE: spsc.RECORD_HEADER_SIZE,
    TYPE_MESSAGE: spsc.TYPE_MESSAGE,
    TYPE_PADDING: spsc.TYPE_PADDING,
  });
});
