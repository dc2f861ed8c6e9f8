// What shmring's fork() changes on a ChildProcess (parent side) and on `process` (child side):
// send() posts into the shared-memory Channel with Node's argument checks and errors, and the
// Channel's messages are emitted as 'message' on the target. Node's own IPC pipe stays open
// beside the Channel for everything else: it owns `connected`, 'disconnect', ref counting
// (`channel.ref()/unref()`, 'message'/'disconnect' listeners keeping a child alive) and the
// news that the other side died, exactly as under child_process.fork. Two rules keep the two
// paths in order:
// - a message whose send() returned is in shared memory before this side's pipe can close
//   (disconnect() first writes what waits in the Channel's queue);
// - before 'disconnect' is emitted here, every message the peer published is emitted.
// A message that cannot be decoded is emitted as 'messageerror', never as 'error'.
import type { EventEmitter } from 'node:events';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { Channel } from './channel.js';
import { channelClosed, invalidArgType, invalidHandleType, missingArgs } from './node-errors.js';
import { shmError } from '../errors.js';

/** The parts of a ChildProcess, or of `process` in a forked child, that fork() rewires. */
export interface IpcTarget extends EventEmitter {
  connected: boolean;
  /** Node's IPC pipe; null once Node has disconnected it. */
  channel?: unknown;
  send?: (...args: any[]) => boolean;
  disconnect?: () => void;
}

type SendCallback = (error: Error | null) => void;

function rethrow(error: unknown): never {
  throw error;
}

/** A handle Node could pass over its pipe (or a native one, as `socket._handle`): shared memory cannot carry it. */
function isNodeHandle(handle: unknown): boolean {
  if (handle instanceof net.Socket || handle instanceof net.Server || handle instanceof dgram.Socket) return true;
  const name = (handle as object).constructor?.name;
  return name === 'TCP' || name === 'Pipe' || name === 'UDP';
}

/**
 * Node's IPC hands a message whose `cmd` starts with NODE_ to 'internalMessage' (its own
 * listeners: handles, cluster), not to 'message'; the same message does the same here.
 */
function eventOf(message: unknown): 'message' | 'internalMessage' {
  if (message === null || typeof message !== 'object') return 'message';
  const { cmd } = message as { cmd?: unknown };
  return typeof cmd === 'string' && cmd.length > 5 && cmd.startsWith('NODE_') ? 'internalMessage' : 'message';
}

/**
 * Rewires `target` onto `channel`. The target's own disconnect() (Node's: closes the pipe,
 * clears `connected`, emits 'disconnect' on the next tick) is kept and called after ours.
 */
export function installIpc(target: IpcTarget, channel: Channel): void {
  const nodeDisconnect = target.disconnect!.bind(target);
  let forwarding = false;
  const forward = (message: unknown): void => {
    target.emit(eventOf(message), message, undefined);
  };

  // 'message' listeners on the target receive the Channel's messages; until the first one
  // exists, the Channel keeps them (as a MessagePort does). The Channel never keeps the
  // process alive by itself: Node's pipe does that, by Node's rules.
  const follow = (): void => {
    const want = target.listenerCount('message') > 0;
    if (want === forwarding || channel.closed) return;
    forwarding = want;
    if (want) channel.on('message', forward);
    else channel.off('message', forward);
    channel.unref();
  };
  target.on('newListener', (event) => {
    if (event === 'message') queueMicrotask(follow);
  });
  target.on('removeListener', (event) => {
    if (event === 'message') follow();
  });
  channel.unref();
  // A message that cannot be decoded is a 'messageerror' on the target, as worker_threads
  // emits one for a message it cannot deserialize: the process lives on without a listener.
  // (Node's IPC throws on such bytes and the process exits; a peer must not crash us.)
  channel.on('messageerror', (error) => target.emit('messageerror', error));

  // Everything the peer published comes before 'disconnect' (the pipe closes after it).
  // Node emits 'disconnect' itself; a listener of ours would count as one of the user's
  // (a 'disconnect' listener keeps a child's channel ref'd), so the hook is on emit().
  const emit = target.emit;
  target.emit = function (this: IpcTarget, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'disconnect' && !channel.closed) {
      if (target.listenerCount('message') > 0) {
        for (let next = channel.receiveMessage(); next !== undefined; next = channel.receiveMessage()) {
          try {
            emit.call(this, eventOf(next.message), next.message, undefined);
          } catch (error) {
            process.nextTick(rethrow, error); // a listener that throws holds back nothing, 'disconnect' included
          }
        }
      }
      channel.close();
    }
    return emit.call(this, event, ...args);
  } as IpcTarget['emit'];

  // Node's checks in Node's order: the options, then the connection (a closed channel reports
  // ERR_IPC_CHANNEL_CLOSED whatever the message), then the message and the handle.
  target.send = function send(message: unknown, handle?: unknown, options?: unknown, callback?: unknown): boolean {
    if (typeof handle === 'function') {
      callback = handle;
      handle = undefined;
      options = undefined;
    } else if (typeof options === 'function') {
      callback = options;
      options = undefined;
    } else if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
      throw invalidArgType('options', ['object'], options);
    }
    const done = typeof callback === 'function' ? (callback as SendCallback) : undefined;
    if (!target.connected) {
      const error = channelClosed();
      if (done !== undefined) process.nextTick(done, error);
      else process.nextTick(() => target.emit('error', error));
      return false;
    }
    if (message === undefined) throw missingArgs('message');
    if (typeof message !== 'string' && typeof message !== 'object' && typeof message !== 'number' && typeof message !== 'boolean') {
      throw invalidArgType('message', ['string', 'object', 'number', 'boolean'], message);
    }
    if (handle) {
      if (!isNodeHandle(handle)) throw invalidHandleType();
      throw shmError('ERR_NOT_SUPPORTED', 'sockets, servers and dgram sockets cannot travel through shared memory: send handles with child_process.fork');
    }
    const belowMark = channel.postMessage(message); // encoding errors throw here, nothing sent
    if (done !== undefined) channel.afterWritten(() => done(null));
    return belowMark;
  };

  let deferred = false;
  target.disconnect = function disconnect(): void {
    // Node calls this too, when its pipe reaches its end (the other side went away), and then
    // drops the pipe without emitting 'disconnect' if this side was already disconnecting.
    if (deferred) return; // the deferred disconnect below ends it
    if (!target.connected || channel.queuedBytes === 0) {
      nodeDisconnect(); // Node's own: 'disconnect' on the next tick, or ERR_IPC_DISCONNECTED
      return;
    }
    // Messages still wait for room in the ring: Node would cancel them with the pipe. Stop
    // new sends at once, write them, then close the pipe.
    target.connected = false;
    deferred = true;
    channel.afterWritten(() => {
      deferred = false;
      if (target.channel === null || target.channel === undefined) {
        // Node's pipe ended meanwhile and Node dropped it: 'disconnect' is ours to emit
        // (Node's own disconnect would now trip its assertion on the missing pipe).
        target.emit('disconnect');
        return;
      }
      target.connected = true;
      nodeDisconnect();
    });
  };
}
