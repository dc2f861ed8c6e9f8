// POSIX and System V message queues for the benchmark harness (the competitors shmring is
// measured against), reached through the package's private import `#queues`: not part of
// the public API. Thin and blocking.
import { native } from './native.js';
import { checkBytes, checkInteger } from './errors.js';

/** A POSIX message queue (mq_open); `name` starts with "/". */
export const posixQueue = {
  create(name: string, maxMessages: number, messageSize: number): number {
    return native.mqOpen(name, true, checkInteger('maxMessages', maxMessages, 1, 65536), checkInteger('messageSize', messageSize, 1, 16 * 2 ** 20));
  },
  open(name: string): number {
    return native.mqOpen(name, false, 0, 0);
  },
  send(fd: number, bytes: Uint8Array): void {
    native.mqSend(fd, checkBytes(bytes));
  },
  /** Blocks until a message arrives; returns its length (`into` must hold the queue's message size). */
  receive(fd: number, into: Uint8Array): number {
    return native.mqReceive(fd, checkBytes(into, 'into'));
  },
  close(fd: number): void {
    native.mqClose(fd);
  },
  unlink(name: string): void {
    native.mqUnlink(name);
  },
};

/** A System V message queue (msgget); messages are sent with type 1. */
export const sysvQueue = {
  create(key: number): number {
    return native.msgGet(key, true);
  },
  open(key: number): number {
    return native.msgGet(key, false);
  },
  send(id: number, bytes: Uint8Array): void {
    native.msgSend(id, checkBytes(bytes));
  },
  /** Blocks until a message arrives; returns its length. */
  receive(id: number, into: Uint8Array): number {
    return native.msgReceive(id, checkBytes(into, 'into'));
  },
  remove(id: number): void {
    native.msgRemove(id);
  },
};
