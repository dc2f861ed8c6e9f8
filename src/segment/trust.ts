// What shmring accepts of a shared memory object it did not create itself: who owns it,
// how wide its permissions are, and how large it is. Another local user can create a name
// first (squatting) and read or write what we put there; a huge sparse object would eat
// this process's address space. The backends call these checks right after opening, on
// the object itself (fstat / IPC_STAT), so nothing can swap it in between.
import { shmError } from '../errors.js';

/** Largest segment shmring maps unless asked for more (maxSize): 1 TiB. */
export const MAX_SEGMENT_SIZE = 2 ** 40;

/** The user this process acts as (the owner of what it creates). */
const me = process.geteuid?.() ?? 0;

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

/**
 * Refuses (ERR_SHM_NOT_TRUSTED) an object this call did not create when it belongs to another
 * user than this one or root, or, for a create, when its mode grants more than `wanted`.
 * `owners` lists every uid that controls the object (System V: its owner and its creator).
 */
export function checkTrusted(address: string, owners: readonly number[], mode: number, wanted: number | undefined): void {
  for (const uid of owners) {
    if (uid !== me && uid !== 0) {
      throw shmError(
        'ERR_SHM_NOT_TRUSTED',
        `${address} belongs to uid ${uid}, not to this user (uid ${me}) or root: another user may read and write it; pass trustForeign: true to use it anyway`,
        { address },
      );
    }
  }
  if (wanted !== undefined && (mode & ~wanted & 0o777) !== 0) {
    throw shmError(
      'ERR_SHM_NOT_TRUSTED',
      `${address} exists with mode ${octal(mode & 0o777)}, wider than the ${octal(wanted)} asked; pass trustForeign: true to use it anyway`,
      { address },
    );
  }
}

/**
 * Refuses (ERR_SHM_TOO_LARGE) an object larger than `maxSize` bytes, or one whose size a
 * JavaScript number cannot hold exactly (maxSize is at most Number.MAX_SAFE_INTEGER, and a
 * larger size never rounds below it).
 */
export function checkMapSize(address: string, size: number, maxSize: number): void {
  if (size > maxSize) {
    throw shmError('ERR_SHM_TOO_LARGE', `${address} holds ${size} bytes, more than maxSize=${maxSize}; raise maxSize to map it`, { address });
  }
}
