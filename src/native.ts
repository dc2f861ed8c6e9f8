// Loads the addon (a prebuilt binary, or one built by node-gyp at install) and types its
// thin surface. Everything here takes already-validated arguments; callers in src/ check first.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShmError } from './errors.js';

export interface NativeAddon {
  setErrorFactory(factory: (code: string, errno: number | undefined, syscall: string | undefined, message: string, address: string | undefined) => Error): void;
  openFd(kind: 'shm' | 'file', path: string, create: boolean, exclusive: boolean, readOnly: boolean, mode: number): [fd: number, created: boolean];
  unlink(kind: 'shm' | 'file', path: string): void;
  memfdCreate(name: string): number;
  fdSeal(fd: number): void;
  fdStat(fd: number): [size: number, isRegular: boolean, mode: number, uid: number];
  fdReserve(fd: number, size: number): void;
  closeFd(fd: number): void;
  dupFd(fd: number): number;
  /** The mapping and its fault word (1 once a SIGBUS replaced the mapping with zero pages). */
  mapFd(fd: number, size: number, readOnly: boolean): [buffer: SharedArrayBuffer, fault: SharedArrayBuffer];
  sysvGet(key: number, size: number, create: boolean, exclusive: boolean, mode: number): [id: number, created: boolean];
  sysvStat(id: number): [size: number, attachments: number, creatorPid: number, mode: number, uid: number, creatorUid: number];
  sysvAttach(id: number, size: number): [buffer: SharedArrayBuffer, fault: SharedArrayBuffer];
  /** Up to `max` bytes from `offset` (default 0), through a read-only attachment detached at once. */
  sysvPeek(id: number, max: number, offset?: number): Uint8Array;
  sysvRemove(id: number): void;
  ftok(path: string, proj: number): number;
  unmap(buffer: SharedArrayBuffer): void;
  flush(buffer: SharedArrayBuffer): void;
  /** The fault word of the mapping `buffer` views whole (in any thread), or undefined if it is not one of ours. */
  faultOf(buffer: SharedArrayBuffer): SharedArrayBuffer | undefined;
  alias(buffer: SharedArrayBuffer): ArrayBuffer | undefined;
  unalias(buffer: ArrayBuffer): void;
  futexWait(i32: Int32Array, index: number, expected: number, timeoutMs: number): 0 | 1 | 2;
  futexWake(i32: Int32Array, index: number, count: number): number;
  spinWait(i32: Int32Array, index: number, expected: number, spinUs: number, yieldUs: number): 0 | 1 | 2 | 3;
  asyncInit(callback: (ids: number[], results: number[]) => void): void;
  asyncAdd(i32: Int32Array, index: number, expected: number, timeoutMs: number): number;
  asyncCancel(id: number): boolean;
  asyncRef(ref: boolean): void;
  pollStart(fd: number, callback: () => void): number;
  pollRef(id: number, ref: boolean): void;
  pollStop(id: number): void;
  doorbellOpen(): [fd: number, name: string];
  doorbellRing(name: string, token: number): number;
  doorbellDrain(fd: number, tokens: Uint32Array): number;
  pidfdOpen(pid: number): number;
  mqOpen(name: string, create: boolean, maxMessages: number, messageSize: number): number;
  mqSend(fd: number, bytes: Uint8Array): void;
  mqReceive(fd: number, bytes: Uint8Array): number;
  mqClose(fd: number): void;
  mqUnlink(name: string): void;
  msgGet(key: number, create: boolean): number;
  msgSend(id: number, bytes: Uint8Array): void;
  msgReceive(id: number, bytes: Uint8Array): number;
  msgRemove(id: number): void;
}

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };

/**
 * The binary node-gyp-build picks (build/Release, else prebuilds/<platform>-<arch>/ by ABI),
 * loaded with an error that names the file and the way out instead of a bare dlopen message.
 */
function load(): NativeAddon {
  let file: string;
  try {
    file = nodeGypBuild.resolve(root);
  } catch (error) {
    throw new Error(
      `shmring: no native binary for ${process.platform}-${process.arch} on Node ${process.versions.node} (ABI ${process.versions.modules}). ` +
        'Reinstall with python3, make and a C++ compiler available (npm rebuild shmring --build-from-source).',
      { cause: error },
    );
  }
  try {
    return require(file) as NativeAddon;
  } catch (error) {
    throw new Error(
      `shmring: the native binary ${file} does not load in Node ${process.versions.node}: ${(error as Error).message.split('\n')[0]}. ` +
        'Rebuild it with npm rebuild shmring --build-from-source.',
      { cause: error },
    );
  }
}

export const native = load();

native.setErrorFactory((code, errno, syscall, message, address) => new ShmError(code, message, { errno, syscall, address }));
