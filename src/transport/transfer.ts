// Transfer lists, as MessagePort.postMessage(value, transferList) takes them: the
// ArrayBuffers the sender gives up. Each is detached when the message is sent; a queued
// message whose bytes view a transferred buffer keeps that buffer's memory (moved, not
// copied), so a large message that waits for room costs no defensive copy. Node 20 has no
// ArrayBuffer.prototype.transfer: structuredClone with a transfer list detaches there too.
import * as workerThreads from 'node:worker_threads';
import { dataCloneError } from './codec.js';
import { isPooledChunk } from './framing.js';

/**
 * Whether Node marked `buffer` untransferable (the memory of Buffer's pool, whose other
 * slices belong to other Buffers): MessagePort refuses such a buffer in a transfer list
 * since Node 21, as ArrayBuffer.prototype.transfer does. Node 20 has no way to ask, and its
 * structuredClone copies such a buffer instead of detaching it.
 */
const markedUntransferable: (buffer: ArrayBuffer) => boolean =
  (workerThreads as { isMarkedAsUntransferable?: (o: object) => boolean }).isMarkedAsUntransferable ?? (() => false);

/** Whether `buffer` may be in a transfer list (not a pooled chunk of ours, not marked untransferable by Node). */
export function transferable(buffer: ArrayBuffer): boolean {
  return !isPooledChunk(buffer) && !markedUntransferable(buffer);
}

/** A TypeError with a Node error code, as MessagePort throws for a bad transfer list. */
function codedTypeError(code: string, message: string): TypeError {
  return Object.assign(new TypeError(message), { code });
}

/** Moves the memory of `buffer` into a new ArrayBuffer and detaches `buffer` (no copy). */
const move: (buffer: ArrayBuffer) => ArrayBuffer =
  typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function'
    ? (buffer) => (buffer as ArrayBuffer & { transfer(): ArrayBuffer }).transfer()
    : (buffer) => structuredClone(buffer, { transfer: [buffer] });

/**
 * The transfer list of postMessage's second argument (an iterable of ArrayBuffers, or
 * `{ transfer }`), checked as MessagePort checks it; undefined when there is none.
 */
export function transferList(option: unknown): ArrayBuffer[] | undefined {
  if (option === undefined || option === null) return undefined;
  let list: unknown = option;
  if (typeof option === 'object' && !(Symbol.iterator in option)) {
    list = (option as { transfer?: unknown }).transfer;
    if (list === undefined || list === null) return undefined;
  }
  if (typeof list !== 'object' || !(Symbol.iterator in (list as object))) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', 'Optional transferList argument must be an iterable');
  }
  const buffers: ArrayBuffer[] = [];
  for (const item of list as Iterable<unknown>) {
    if (!(item instanceof ArrayBuffer)) {
      throw codedTypeError('ERR_INVALID_TRANSFER_OBJECT', 'Found invalid object in transferList: shmring transfers ArrayBuffers only');
    }
    if (buffers.includes(item)) throw dataCloneError('Transfer list contains duplicate ArrayBuffer');
    if (isPooledChunk(item)) throw dataCloneError('An ArrayBuffer shared by several received messages cannot be transferred (transfer a copy: message.slice())');
    if (markedUntransferable(item)) throw dataCloneError("An ArrayBuffer marked as untransferable (the memory of Buffer's pool) cannot be transferred (transfer a copy)");
    buffers.push(item);
  }
  return buffers.length === 0 ? undefined : buffers;
}

/**
 * Detaches every buffer of `list` (after the message was encoded). Returns the moved memory
 * of `viewed` if it is one of them (the message's bytes view it), else undefined.
 */
export function detach(list: ArrayBuffer[], viewed: ArrayBufferLike): ArrayBuffer | undefined {
  let kept: ArrayBuffer | undefined;
  for (const buffer of list) {
    if (buffer.byteLength === 0 && isDetached(buffer)) continue;
    const moved = move(buffer);
    if (buffer === viewed) kept = moved;
  }
  return kept;
}

function isDetached(buffer: ArrayBuffer): boolean {
  const detached = (buffer as { detached?: boolean }).detached;
  if (typeof detached === 'boolean') return detached;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}
