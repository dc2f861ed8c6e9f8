// The codecs of fork(): what `serialization` means under child_process.fork, so that the same
// values arrive and the same values are refused with the same errors ('json': JSON.stringify
// and its TypeError for a BigInt or a cycle; 'advanced': v8.serialize and its "could not be
// cloned" Error), plus the Channel's own 'structured' and 'raw'. A codec is named, not passed,
// because the child must build the same one from the name in its environment.
import { Buffer } from 'node:buffer';
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import { rangeError } from '../errors.js';
import { resolveCodec, type Codec } from './codec.js';

/** The environment variable that tells a forked child where its Channel is: `<fd>:<codec>`. */
export const FORK_ENV = 'SHMRING_FORK';

export type ForkCodecName = 'json' | 'advanced' | 'structured' | 'raw';

const nodeJson: Codec = {
  encode: (value) => Buffer.from(JSON.stringify(value)), // its TypeError reaches send(), as in Node
  decode: (bytes) => JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString()),
  fresh: true,
  borrows: false,
};

const nodeAdvanced: Codec = {
  encode(value) {
    const serializer = new DefaultSerializer();
    serializer.writeHeader();
    serializer.writeValue(value); // its "could not be cloned" Error reaches send(), as in Node
    return serializer.releaseBuffer();
  },
  decode(bytes) {
    const deserializer = new DefaultDeserializer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    deserializer.readHeader();
    return deserializer.readValue();
  },
  fresh: true,
  borrows: true, // a Buffer in the message is a view of the input
};

export function forkCodec(name: unknown): Codec {
  switch (name) {
    case 'json':
      return nodeJson;
    case 'advanced':
      return nodeAdvanced;
    case 'structured':
    case 'raw':
      return resolveCodec(name);
    default:
      throw rangeError('options.shm.codec', name, "'json', 'advanced', 'structured' or 'raw' (the child rebuilds it by name)");
  }
}
