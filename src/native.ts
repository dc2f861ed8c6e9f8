// Loads the addon (built by node-gyp at install) and types its thin surface. Everything
// here takes already-validated arguments; callers in src/ check types and ranges first.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShmError } from './errors.js';

export interface NativeAddon {
  setErrorFactory(factory: (code: string, errno: number | undefined, syscall: string | undefined, message: string, address: string | undefined) => Error): void;
  openFd(kind: 'shm' | 'file', path: string, create: boolean, exclusive: boolean, readOnly: boolean, mode: number): [fd: number, created: boolean];
  unlink(kind: 'shm' | 'file', path: string): void;
  memfdCreate(name: string): number;
  fdStat(fd: number): [size: number, isRegular: boolean, mode: number, uid: number];
  fdReserve(fd: number, size: number): void;
  closeFd(fd: number): void;
  dupFd(fd: number): number;
  mapFd(fd: number, size: number, readOnly: boolean): SharedArrayBuffer;
  sysvGet(key: number, size: number, create: boolean, exclusive: boolean, mode: number): [id: number, created: boolean];
  sysvStat(id: number): [size: number, attachments: number, creatorPid: number, mode: number, uid: number];
  sysvAttach(id: number, size: number): SharedArrayBuffer;
  sysvRemove(id: number): void;
  ftok(path: string, proj: number): number;
  unmap(buffer: SharedArrayBuffer): void;
  flush(buffer: SharedArrayBuffer): void;
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
  threadRegister(threadId: number): void;
  threadAlive(threadLowBits: number): boolean;
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
const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;

export const native = nodeGypBuild(root) as NativeAddon;

native.setErrorFactory((code, errno, syscall, message, address) => new ShmError(code, message, { errno, syscall, address }));
