// The messages between a ProcessPool and its worker processes, over one Channel per worker
// (codec 'structured': structured-clone values, Errors with their stack). Arrays, not
// objects, so that each message is a few bytes around the task or the result.
//
//   pool → worker   [id, task, name | null, filename | null]   null: the pool's default
//   worker → pool   [id, RESULT, value] | [id, ERROR, thrown] | [0, READY, null]
//
// A task or result that is a large Uint8Array (codec.ts) is sent as bytes in the next
// message, announced by one more element, BYTES_FOLLOW, in place of the value:
//   pool → worker   [id, null, name, filename, BYTES_FOLLOW] then the bytes
//   worker → pool   [id, RESULT, null, BYTES_FOLLOW] then the bytes
//
// A worker answers each task once, in any order (tasks returning promises overlap). READY
// comes once, after the worker module was loaded (or failed to load: then each task is
// answered with that error), so the pool hands tasks only to a worker that can start them.

export const RESULT = 0;
export const ERROR = 1;
export const READY = 2;
/** The last element of a message whose value is the next message, as bytes. */
export const BYTES_FOLLOW = 1;

/** Whether a task message announces its task as the next message (the worker's decoder). */
export const taskAnnounces = (m: unknown): boolean => (m as unknown[]).length === 5;
/** Whether a reply announces its result as the next message (the pool's decoder). */
export const replyAnnounces = (m: unknown): boolean => (m as unknown[]).length === 4;

export type TaskMessage = [id: number, task: unknown, name: string | null, filename: string | null, follows?: typeof BYTES_FOLLOW];
export type ReplyMessage = [id: number, kind: typeof RESULT | typeof ERROR | typeof READY, value: unknown, follows?: typeof BYTES_FOLLOW];

/** The environment variable that hands a worker its start-up spec; the runner removes it before user code runs. */
export const SPEC_VARIABLE = 'SHMRING_POOL_WORKER';

/** What a worker process needs to start: where its Channel is and which module it loads first. */
export interface WorkerSpec {
  /** The worker's descriptor of the Channel's memfd. */
  fd: number;
  /** The pool's default module, loaded before READY; null if run() always names one. */
  filename: string | null;
  name: string;
}
