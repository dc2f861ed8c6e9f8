// CURVE's allow list: the ZAP handler (ZeroMQ RFC 27) that ZeroMQ asks, for each client
// handshake on a CURVE server socket, whether that client's public key may come in. One
// handler serves every CURVE server channel of the process (ZeroMQ finds it at one inproc
// address per context); each server socket has a ZAP domain of its own naming its allow list.
import { randomUUID } from 'node:crypto';
import type { Zmq } from './load.js';

const ZAP_ADDRESS = 'inproc://zeromq.zap.01';
const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** The Z85 text of 32 key bytes (ZeroMQ RFC 32), to compare with the allow list. */
export function z85Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    let value = ((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) + (bytes[i + 2]! << 8) + bytes[i + 3]!;
    let chunk = '';
    for (let j = 0; j < 5; j++) {
      chunk = Z85[value % 85] + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

type Router = InstanceType<Zmq['Router']>;

const allowLists = new Map<string, ReadonlySet<string>>();
let handler: Router | undefined;

/** Registers an allow list; returns its ZAP domain and the function that removes it. */
export function allowClients(zmq: Zmq, allow: readonly string[]): { domain: string; remove: () => void } {
  const domain = `shmring-${randomUUID()}`;
  allowLists.set(domain, new Set(allow));
  if (handler === undefined) startHandler(zmq);
  return {
    domain,
    remove: () => {
      allowLists.delete(domain);
      if (allowLists.size === 0 && handler !== undefined) {
        handler.close(); // its pending receive would keep the process alive
        handler = undefined;
      }
    },
  };
}

function startHandler(zmq: Zmq): void {
  const router = new zmq.Router({ linger: 0 });
  router.bindSync(ZAP_ADDRESS);
  handler = router;
  void (async () => {
    // A request: [routing id, '', '1.0', request id, domain, address, identity, mechanism, key].
    for (;;) {
      let request: Buffer[];
      try {
        request = await router.receive();
      } catch {
        return; // closed
      }
      const [routing, empty, version, requestId, domain, , , mechanism, key] = request;
      if (routing === undefined || empty === undefined || requestId === undefined) continue;
      const allowed = allowLists.get(domain?.toString() ?? '');
      const ok =
        version?.toString() === '1.0' &&
        mechanism?.toString() === 'CURVE' &&
        key?.length === 32 &&
        allowed !== undefined &&
        allowed.has(z85Encode(key));
      try {
        await router.send([routing, empty, '1.0', requestId, ok ? '200' : '400', ok ? 'OK' : 'client key not allowed', ok ? z85Encode(key!) : '', '']);
      } catch {
        return;
      }
    }
  })();
}
