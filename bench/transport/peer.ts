// The far end of each transport competitor, in its own process:
//   peer channel ADDRESS CODEC sink|echo [socket|futex]   a shmring Channel (CODEC schema:tick or
//                                          schema:record64: a schema of payloads.ts)
//   peer fork sink|echo                    a child of child_process.fork (its IPC channel)
//   peer unix PATH sink|echo               a Unix socket carrying length-prefixed JSON
//   peer ceiling ADDRESS msgpackr|json|bytes   the JS ceiling's far end (ceiling.ts), a sink
// sink: counts messages until the end marker (the string 'end', or one byte for 'raw'),
// then replies with the count ({ count }, or 8 bytes for 'raw' and 'bytes'). echo: sends every message back.
import { connect } from 'node:net';
import { Channel, Segment } from 'shmring';
import { sink, type CeilingCodec } from './ceiling.js';
import { jsonFrame, jsonFrameReader } from './json-frames.js';
import { countBytes, isEnd, SCHEMAS, schemaCount, type SchemaName } from './payloads.js';

const [kind, ...rest] = process.argv.slice(2);

function behave(onMessage: (handler: (m: unknown) => void) => void, send: (m: unknown) => void, mode: string, raw = false, reply = (count: number): unknown => ({ count })): void {
  let count = 0;
  onMessage((m) => {
    if (mode === 'echo') return void send(m);
    if (isEnd(m)) {
      send(raw ? countBytes(count) : reply(count));
      count = 0;
    } else {
      count++;
    }
  });
}

if (kind === 'channel') {
  const [address, codec, mode, wake] = rest;
  const schema = codec!.startsWith('schema:') ? (codec!.slice('schema:'.length) as SchemaName) : undefined;
  const ch = Channel.connect(address!, { codec: schema === undefined ? (codec as 'json') : SCHEMAS[schema], wake: wake as 'futex' | undefined });
  const reply = schema === undefined ? undefined : (count: number) => schemaCount(schema, count);
  behave((h) => ch.on('message', h), (m) => ch.postMessage(m), mode!, codec === 'raw', reply);
} else if (kind === 'fork') {
  const [mode] = rest;
  behave((h) => process.on('message', h), (m) => process.send!(m as object), mode!);
  process.on('disconnect', () => process.exit(0));
} else if (kind === 'unix') {
  const [path, mode] = rest;
  const socket = connect(path!);
  const handlers: Array<(m: unknown) => void> = [];
  socket.on('data', jsonFrameReader((message) => handlers.forEach((h) => h(message))));
  const send = (m: unknown) => socket.write(jsonFrame(m));
  behave((h) => handlers.push(h), send, mode!);
  socket.on('close', () => process.exit(0));
} else if (kind === 'ceiling') {
  const [address, codec] = rest;
  const segment = Segment.open(address!);
  void sink(segment, codec as CeilingCodec).then(() => segment.close());
} else {
  throw new Error(`unknown peer kind ${kind}`);
}
