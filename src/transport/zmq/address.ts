// Which addresses mean ZeroMQ (tcp://host:port and ipc://path), and their checks: every other
// address keeps meaning shared memory.
import { isIP } from 'node:net';
import { rangeError, typeError } from '../../errors.js';

export type ZmqAddress = `tcp://${string}` | `ipc://${string}`;

export function isZmqAddress(address: unknown): address is ZmqAddress {
  return typeof address === 'string' && (address.startsWith('tcp://') || address.startsWith('ipc://'));
}

export interface Endpoint {
  /** The address as ZeroMQ takes it. */
  readonly zmq: string;
  /** tcp: the host as written (a name that needs resolving when not an IP literal). */
  readonly host?: string;
  readonly port?: number;
}

const TCP = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]\s]+):(\d{1,5}|\*)$/;

/**
 * Parses `address`. `bind`: the port may be 0 or * (any free port; the channel's address then
 * names the one chosen) and the host may be * or 0.0.0.0 (every interface).
 */
export function parseZmqAddress(address: string, bind: boolean): Endpoint {
  if (address.startsWith('ipc://')) {
    const path = address.slice('ipc://'.length);
    if (path.length === 0 || path.includes('\0') || Buffer.byteLength(path) > 107) {
      throw rangeError('address', address, 'ipc:// and a socket path of 1 to 107 bytes');
    }
    return { zmq: address };
  }
  const m = TCP.exec(address);
  if (m === null) throw rangeError('address', address, 'tcp://HOST:PORT or ipc://PATH');
  let host = m[1]!;
  const port = m[2] === '*' ? 0 : Number(m[2]);
  if (port > 65535 || (!bind && port === 0)) throw rangeError('address', address, `a port from ${bind ? 0 : 1} to 65535`);
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) throw rangeError('address', address, 'an IPv6 address inside [ ]');
  }
  if (host === '*' && !bind) throw rangeError('address', address, 'a host to connect to (* only binds)');
  const zmqHost = isIP(host) === 6 ? `[${host}]` : host;
  return { zmq: `tcp://${zmqHost}:${port === 0 ? '*' : port}`, host, port };
}

export function checkAddressType(address: unknown): void {
  if (typeof address !== 'string') throw typeError('address', address, 'a string');
}
