// What each kind of shared memory provides to Segment. Kinds are siblings behind this
// interface: fd.ts (POSIX shm, files, memfd, inherited descriptors) and sysv.ts.

export interface Mapped {
  buffer: SharedArrayBuffer;
  size: number;
  /** A descriptor the segment owns (memfd and fd: kinds); closed with the segment. */
  fd?: number;
}

export interface CreateRequest {
  size: number;
  mode: number;
  exclusive: boolean;
}

export interface OpenRequest {
  readOnly: boolean;
  /** The smallest size the caller accepts; smaller objects are ERR_SHM_TRUNCATED. */
  minSize: number;
}
