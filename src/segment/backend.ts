// What each kind of shared memory provides to Segment. Kinds are siblings behind this
// interface: fd.ts (POSIX shm, files, memfd, inherited descriptors) and sysv.ts.

export interface Mapped {
  buffer: SharedArrayBuffer;
  size: number;
  /** A descriptor the segment owns (memfd and fd: kinds); closed with the segment. */
  fd?: number;
  /** [0] becomes 1 once the object was truncated under the mapping (native/sigbus.h). */
  fault: Int32Array;
}

export interface CreateRequest {
  size: number;
  mode: number;
  exclusive: boolean;
  /** Adopt an existing object whatever its owner and mode (see trust.ts). */
  trustForeign: boolean;
  /** The largest existing object this call maps. */
  maxSize: number;
}

export interface OpenRequest {
  readOnly: boolean;
  /** The smallest size the caller accepts; smaller objects are ERR_SHM_TRUNCATED. */
  minSize: number;
  /** Map the object whatever its owner (see trust.ts). */
  trustForeign: boolean;
  /** The largest object this call maps; larger ones are ERR_SHM_TOO_LARGE. */
  maxSize: number;
}
