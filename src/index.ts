// The public surface of shmring: everything users import comes from here.
export { ShmError } from './errors.js';
export type { ShmErrorCode } from './errors.js';
export { Segment, MAX_SEGMENT_SIZE } from './segment/segment.js';
export type { CreateOptions, OpenOptions } from './segment/segment.js';
export { parseAddress } from './segment/address.js';
export type { Address } from './segment/address.js';
