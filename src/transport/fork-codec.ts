// The codecs of fork(): what `serialization` means under child_process.fork, so that the same
// values arrive and the same values are refused with the same errors ('json': JSON.stringify
// and its TypeError for a BigInt or a cycle; 'advanced': v8.serialize with Node's IPC
// serializer pair and v8's "could not be cloned" Error), plus the Channel's own 'structured'
// and 'raw'. The formats are the Channel's (codec.ts); only the refusal and, for v8, the
// serializer pair are fork's. A codec is named, not passed, because the child must build the
// same one from the name its preload is given.
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import { rangeError, typeError } from '../errors.js';
import { jsonCodecRefusing, resolveCodec, v8Codec, type Codec, type Refusal } from './codec.js';

/**
 * The codecs fork() can use: Node's serializations ('json', 'advanced') and the Channel's
 * ('structured', 'raw').
 */
export type ForkCodecName = 'json' | 'advanced' | 'structured' | 'raw';

// Node's IPC serializer pair (lib/internal/child_process/serialization.js): a host object
// that is not an ArrayBufferView (a Blob, a KeyObject, a MessagePort...) travels as a plain
// copy of its own properties, where v8's default serializer refuses it. One uint32 tag before
// each host object says which.
const ARRAY_BUFFER_VIEW = 0;
const NOT_ARRAY_BUFFER_VIEW = 1;

// v8's documented host-object hooks, which @types/node does not declare.
interface HostObjectHooks {
  _writeHostObject(object: object): void;
  _readHostObject(): unknown;
}
const writeViewHost = (DefaultSerializer.prototype as unknown as HostObjectHooks)._writeHostObject;
const readViewHost = (DefaultDeserializer.prototype as unknown as HostObjectHooks)._readHostObject;

class IpcSerializer extends DefaultSerializer implements Pick<HostObjectHooks, '_writeHostObject'> {
  _writeHostObject(object: object): void {
    if (ArrayBuffer.isView(object)) {
      this.writeUint32(ARRAY_BUFFER_VIEW);
      writeViewHost.call(this, object);
      return;
    }
    this.writeUint32(NOT_ARRAY_BUFFER_VIEW);
    this.writeValue({ ...object });
  }
}

class IpcDeserializer extends DefaultDeserializer implements Pick<HostObjectHooks, '_readHostObject'> {
  _readHostObject(): unknown {
    if (this.readUint32() === ARRAY_BUFFER_VIEW) return readViewHost.call(this);
    return this.readValue();
  }
}

/** The format's own error, as child_process's send() throws it. */
const asNodeThrows: Refusal = (error) => error;

const nodeJson = jsonCodecRefusing(asNodeThrows);
const nodeAdvanced = v8Codec({ Serializer: IpcSerializer, Deserializer: IpcDeserializer }, asNodeThrows);

export function forkCodec(name: unknown): Codec {
  switch (name) {
    case 'json':
      return nodeJson;
    case 'advanced':
      return nodeAdvanced;
    case 'structured':
    case 'raw':
      return resolveCodec(name);
  }
  if (typeof name !== 'string') throw typeError('options.shm.codec', name, "a codec name: 'json', 'advanced', 'structured' or 'raw' (the child rebuilds it by name)");
  throw rangeError('options.shm.codec', name, "'json', 'advanced', 'structured' or 'raw' (the child rebuilds it by name)");
}
