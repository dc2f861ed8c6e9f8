// The linux-arm64 prebuilt binaries, each run in its own Node under qemu-user: a segment
// shared by two arm64 processes, with Atomics and a futex wake between them. The full ring is
// not run there: its plain copy mapping needs mremap, which qemu-user does not emulate.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { nodeDist, ROOT } from './helpers/package.js';
import { shmAddress } from './helpers/resources.js';

const QEMU = 'qemu-aarch64-static';
const SYSROOT = '/usr/aarch64-linux-gnu';
const MAJORS = [20, 22, 24, 26];
const hasQemu = spawnSync('sh', ['-c', `command -v ${QEMU}`]).status === 0 && existsSync(join(SYSROOT, 'lib'));

for (const major of MAJORS) {
  const title = `arm64 prebuild for Node ${major}: two arm64 processes share a segment, Atomics and a futex wake`;
  if (!hasQemu) {
    test.skip(`${title} (needs ${QEMU} and ${SYSROOT}: apt-get install qemu-user-static g++-aarch64-linux-gnu)`, () => {});
    continue;
  }
  test(title, (t) => {
    const node = join(nodeDist('arm64', major), 'bin', 'node');
    const command = [QEMU, '-L', SYSROOT, node];
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', PREBUILDS_ONLY: '1', SMOKE_NODE: JSON.stringify(command) };
    const result = spawnSync(command[0]!, [...command.slice(1), join(ROOT, 'test', 'fixtures', 'arm64-smoke.mjs'), shmAddress(t)], { env, encoding: 'utf8', timeout: 110_000 });
    t.is(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    t.is(report.arch, 'arm64');
    t.true(report.shared);
    t.is(report.sum, report.expected);
    t.is(report.addon, join(ROOT, 'prebuilds', 'linux-arm64', `node.abi${String(report.abi)}.glibc.node`));
  });
}
