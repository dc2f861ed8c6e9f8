// Who may connect to a created channel: the ZAP handler (ZeroMQ RFC 27) that ZeroMQ asks at
// each client's handshake. A channel has one peer: the first client that passes (with CURVE,
// one whose public key is in the allow list; without, any ZeroMQ client) is admitted, and
// every later one is refused, as a third party is refused a shared-memory channel
// (ERR_ROLE_TAKEN); its side sees EACCES. One handler serves every created channel of the
// process (ZeroMQ finds it at one inproc address per context); each channel's socket has a
// ZAP domain of its own naming its entry.
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

interface Door {
  /** The public keys allowed in (CURVE), or undefined: any client (NULL). */
  readonly allow: ReadonlySet<string> | undefined;
  /** A client was let in: the channel's peer. */
  admitted: boolean;
}

const doors = new Map<string, Door>();
let handler: Router | undefined;

/** Registers a channel's door (CURVE: its allow list); returns its ZAP domain and the function that removes it. */
export function admitOne(zmq: Zmq, allow: readonly string[] | undefined): { domain: string; remove: () => void } {
  const domain = `shmring-${randomUUID()}`;
  doors.set(domain, { allow: allow === undefined ? undefined : new Set(allow), admitted: false });
  if (handler === undefined) startHandler(zmq);
  return {
    domain,
    remove: () => {
      doors.delete(domain);
      if (doors.size === 0 && handler !== undefined) {
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
      const door = doors.get(domain?.toString() ?? '');
      const curve = mechanism?.toString() === 'CURVE';
      let refusal: string | undefined;
      if (version?.toString() !== '1.0' || door === undefined) refusal = 'unknown channel';
      else if (door.admitted) refusal = 'the channel has its peer';
      else if (door.allow === undefined ? mechanism?.toString() !== 'NULL' : !curve || key?.length !== 32 || !door.allow.has(z85Encode(key))) {
        refusal = 'client key not allowed';
      } else door.admitted = true;
      const ok = refusal === undefined;
      try {
        await router.send([routing, empty, '1.0', requestId, ok ? '200' : '400', refusal ?? 'OK', ok && curve ? z85Encode(key!) : '', '']);
      } catch {
        return;
      }
    }
  })();
}
