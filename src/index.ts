// The public surface of shmring: everything users import comes from here.
export { ShmError } from './errors.js';
export type { ShmErrorCode } from './errors.js';
export { Segment, MAX_SEGMENT_SIZE } from './segment/segment.js';
export type { CreateOptions, OpenOptions } from './segment/segment.js';
export { parseAddress } from './segment/address.js';
export type { Address } from './segment/address.js';
export * as futex from './sync/futex.js';
export type { WaitResult, WaitAsyncOptions } from './sync/futex.js';
export { WaitStrategy, DEFAULT_SPINS } from './sync/wait-strategy.js';
export type { WaitStrategyOptions, WaitPoint } from './sync/wait-strategy.js';
export { Semaphore } from './sync/semaphore.js';
export type { SemaphoreOptions, AcquireOptions, AcquireAsyncOptions } from './sync/semaphore.js';
export { Mutex } from './sync/mutex.js';
export type { Locked, LockOptions, LockAsyncOptions } from './sync/mutex.js';
