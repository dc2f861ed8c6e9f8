// Loads zeromq.js, an optional peer dependency, on the first tcp:// or ipc:// address: nothing
// else of shmring needs it, and without it such an address fails with how to get it.
import { createRequire } from 'node:module';
import { shmError } from '../../errors.js';

export type Zmq = typeof import('zeromq');

let zmq: Zmq | undefined;

/** zeromq.js, loaded once (synchronously: Channel.create stays synchronous). ERR_NOT_SUPPORTED without it. */
export function loadZmq(address: string): Zmq {
  if (zmq !== undefined) return zmq;
  try {
    zmq = createRequire(import.meta.url)('zeromq') as Zmq;
  } catch (err) {
    throw shmError('ERR_NOT_SUPPORTED', `address ${address} needs ZeroMQ, an optional peer dependency of shmring: npm install zeromq`, { cause: err, address });
  }
  return zmq;
}
