// Byte streams over a Channel, with Node's backpressure: a Writable whose chunks become
// messages (a write's callback comes once its chunk is in shared memory, which is when the
// chunk may be reused; end() closes the Channel after the last one) and a Readable that
// takes messages only when its buffer wants more (pull mode: the Channel leaves what is not
// wanted in the ring, so a slow reader holds the writer back instead of growing memory).
// A stream owns its Channel: use one Channel per stream, with codec 'raw' for bytes as they are.
import { Buffer } from 'node:buffer';
import { Readable, Writable } from 'node:stream';
import { checkInteger, checkOptions, typeError } from '../errors.js';
import { Channel, postKept } from './channel.js';

/** Options of createReadStream and createWriteStream. */
export interface StreamOptions {
  /** Node's stream highWaterMark (bytes buffered in the stream object itself): an integer >= 0. */
  highWaterMark?: number;
}

/**
 * Checks the arguments before anything is attached to the channel, so a bad one changes nothing.
 */
function checkStreamArgs(channel: unknown, options: StreamOptions | undefined): number | undefined {
  if (!(channel instanceof Channel)) throw typeError('channel', channel, 'a Channel');
  const { highWaterMark } = checkOptions(options);
  return highWaterMark === undefined ? undefined : checkInteger('highWaterMark', highWaterMark, 0, Number.MAX_SAFE_INTEGER);
}

function toBuffer(message: unknown): Buffer {
  if (Buffer.isBuffer(message)) return message;
  if (message instanceof Uint8Array) return Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  throw typeError('stream chunk', message, 'bytes (a Uint8Array): was the other end written as a stream?');
}

/** A Writable whose chunks travel as messages; end() closes the Channel after the last one. */
export function createWriteStream(channel: Channel, options?: StreamOptions): Writable {
  const highWaterMark = checkStreamArgs(channel, options);
  return new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      try {
        postKept(channel, chunk); // the chunk is the stream's until written: no copy while it waits
      } catch (err) {
        callback(err as Error);
        return;
      }
      // The callback says the chunk may be reused: only once it is in the ring (at once when
      // it fit); a channel that ends first fails it.
      if (channel.queuedBytes === 0) callback();
      else channel.afterWritten((error) => callback(error ?? null));
    },
    final(callback) {
      channel.afterWritten((error) => {
        channel.close();
        callback(error ?? null);
      });
    },
    destroy(error, callback) {
      channel.close();
      callback(error);
    },
  });
}

/** A Readable of the messages that arrive (as Buffers); it ends when the peer closes. */
export function createReadStream(channel: Channel, options?: StreamOptions): Readable {
  const highWaterMark = checkStreamArgs(channel, options);
  const messages = channel[Symbol.asyncIterator]();
  // Node calls read() again only after a push: each call pushes one message. The Channel's
  // iterator takes it at once when one is there within this turn's budget, else on a later
  // turn: a busy writer never keeps this process's event loop from its other work.
  return new Readable({
    highWaterMark,
    read() {
      messages.next().then(
        (next) => {
          if (next.done === true) {
            this.push(null);
            return;
          }
          try {
            this.push(toBuffer(next.value));
          } catch (err) {
            this.destroy(err as Error);
          }
        },
        (err: Error) => this.destroy(err),
      );
    },
    destroy(error, callback) {
      channel.close();
      callback(error);
    },
  });
}
