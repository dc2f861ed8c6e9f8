// The linux-arm64 prebuilt binaries, each run in its own Node under qemu-user: a segment
// shared by two arm64 processes, with Atomics and a futex wake between them. The full ring is
// not run there: its plain copy mapping needs mremap, which qemu-user does not emulate. And
// the benchmark's prebuilt arm64 C programs, each run once, briefly, with its output checked.
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

(hasQemu ? test : test.skip)(`the benchmark's arm64 C programs run and report${hasQemu ? '' : ` (needs ${QEMU} and ${SYSROOT})`}`, (t) => {
  const dir = join(ROOT, 'prebuilds', 'linux-arm64', 'bench');
  const runs: Array<[string, string[], (out: unknown) => boolean]> = [
    ['memcpy', ['64', '1000'], (o) => typeof (o as { seconds: number }).seconds === 'number'],
    ['cring', ['64', '1000', '2', 'fenced', '1'], (o) => Array.isArray(o) && o.length === 2 && o.every((ns) => ns > 0)],
    ['cring-rtt', ['futex', '200', '20000', '5000', '2000'], (o) => (o as { rounds: number; median: number }).rounds === 200 && (o as { median: number }).median > 0],
    ['pingpong', ['futex', '200', '20000', '5000'], (o) => (o as { median: number }).median > 0],
  ];
  for (const [name, args, ok] of runs) {
    const result = spawnSync(QEMU, ['-L', SYSROOT, join(dir, name), ...args], { encoding: 'utf8', timeout: 60_000 });
    t.is(result.status, 0, `${name}: ${result.stderr}`);
    t.true(ok(JSON.parse(result.stdout.trim())), `${name}: ${result.stdout}`);
  }
});
