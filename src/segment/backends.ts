// The kinds of shared memory behind Segment, as one table: each address kind maps to how
// to create, open and unlink it. The backends are siblings behind this interface:
// fd.ts (POSIX shm objects, regular files, memfds and inherited descriptors, all mapped
// through a descriptor) and sysv.ts (System V). Segment looks a kind up here instead of
// switching on it.
import { typeError } from '../errors.js';
import type { Address } from './address.js';
import type { CreateRequest, Mapped, OpenRequest } from './backend.js';
import { createPath, openInherited, openPath, unlinkPath } from './fd.js';
import { createSysv, openSysv, sysvKey, unlinkSysv } from './sysv.js';

export interface Backend<A extends Address> {
  create(address: A, req: CreateRequest): Mapped;
  open(address: A, req: OpenRequest): Mapped;
  unlink(address: A): void;
}

type Kind<K extends Address['kind']> = Extract<Address, { kind: K }>;

const sysv: Backend<Kind<'sysv'> | Kind<'sysv-ftok'>> = {
  create: (a, req) => createSysv(sysvKey(a), a.text, req),
  open: (a, req) => openSysv(sysvKey(a), a.text, req),
  unlink: (a) => unlinkSysv(sysvKey(a)),
};

const BACKENDS: { [K in Address['kind']]: Backend<Kind<K>> } = {
  shm: {
    create: (a, req) => createPath('shm', `/${a.name}`, a.text, req),
    open: (a, req) => openPath('shm', `/${a.name}`, a.text, req),
    unlink: (a) => unlinkPath('shm', `/${a.name}`),
  },
  file: {
    create: (a, req) => createPath('file', a.path, a.text, req),
    open: (a, req) => openPath('file', a.path, a.text, req),
    unlink: (a) => unlinkPath('file', a.path),
  },
  sysv,
  'sysv-ftok': sysv,
  fd: {
    create: (a) => {
      throw typeError('address', a.text, 'a creatable address: use Segment.anonymous() and pass its fd');
    },
    open: (a, req) => openInherited(a.fd, a.text, req),
    unlink: (a) => {
      throw typeError('address', a.text, 'a named address (fd: segments have no name to unlink)');
    },
  },
};

/** The backend of an address's kind. */
export function backendOf<A extends Address>(address: A): Backend<A> {
  return BACKENDS[address.kind] as unknown as Backend<A>;
}
