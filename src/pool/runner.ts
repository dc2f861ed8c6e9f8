// The main module of each ProcessPool worker process: joins the pool's Channel (its memfd,
// inherited at the descriptor the spec names), loads the user's worker module (a piscina
// worker file: CommonJS or ESM, its default export or a named one), answers each task with
// the function's value or what it threw, and exits when the pool closes the Channel or the
// parent dies (the Channel ends with ERR_PEER_DEAD, Node's IPC pipe with 'disconnect').
import { pathToFileURL } from 'node:url';
import { Channel } from '../transport/channel.js';
import { transferable } from '../transport/transfer.js';
import { isMovable, unwrap } from './move.js';
import { poolCodec, travelsAsBytes } from './codec.js';
import { BYTES_FOLLOW, ERROR, READY, RESULT, SPEC_VARIABLE, taskAnnounces, type TaskMessage, type WorkerSpec } from './protocol.js';

type Handler = (task: unknown) => unknown;

const spec = JSON.parse(process.env[SPEC_VARIABLE] ?? 'null') as WorkerSpec | null;
if (spec === null) throw new Error('shmring pool runner: started without its spec (it is started by ProcessPool)');
delete process.env[SPEC_VARIABLE]; // the user's module sees the environment the pool was given

const channel = Channel.connect(`fd:${spec.fd}`, { codec: poolCodec(taskAnnounces) });

/** Ends the worker: the pool closed the Channel (idle, close(), destroy()) or the parent died. */
function end(): void {
  process.exit(0);
}
channel.on('close', end);
process.on('disconnect', end);

const modules = new Map<string, Promise<Record<string, unknown>>>();
const handlers = new Map<string, Handler>();

function load(filename: string): Promise<Record<string, unknown>> {
  let module = modules.get(filename);
  if (module === undefined) {
    module = import(pathToFileURL(filename).href) as Promise<Record<string, unknown>>;
    modules.set(filename, module);
  }
  return module;
}

/**
 * The function `name` of a module: its export of that name; for a CommonJS module, also a
 * property of module.exports, and module.exports itself for 'default' (`module.exports = fn`).
 */
function pick(module: Record<string, unknown>, name: string, filename: string): Handler {
  let handler = module[name];
  const exports = module.default as Record<string, unknown> | undefined;
  if (typeof handler !== 'function' && exports !== null && (typeof exports === 'object' || typeof exports === 'function')) {
    handler = exports[name]; // module.exports.name, or a transpiled module's exports.default
  }
  if (typeof handler !== 'function') throw new TypeError(`No handler function "${name}" exported from ${filename}`);
  return handler as Handler;
}

async function handlerOf(filename: string, name: string): Promise<Handler> {
  const key = `${name}\u0000${filename}`;
  let handler = handlers.get(key);
  if (handler === undefined) {
    handler = pick(await load(filename), name, filename);
    handlers.set(key, handler);
  }
  return handler;
}

function reply(id: number, value: unknown): void {
  let transfer: ArrayBuffer[] | undefined;
  if (isMovable(value)) {
    const [inner, buffer] = unwrap(value);
    value = inner;
    // Buffer's pool cannot be moved (other Buffers share it): such a result is copied
    if (transferable(buffer)) transfer = [buffer];
  }
  try {
    if (travelsAsBytes(value)) {
      channel.postMessage([id, RESULT, null, BYTES_FOLLOW]);
      channel.postMessage(value, transfer);
    } else channel.postMessage([id, RESULT, value], transfer);
  } catch (error) {
    fail(id, error); // a value the codec cannot carry (a function, a DataCloneError)
  }
}

function fail(id: number, error: unknown): void {
  try {
    channel.postMessage([id, ERROR, error]);
  } catch (cloneError) {
    channel.postMessage([id, ERROR, cloneError]); // the thrown value itself cannot be carried
  }
}

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** Runs one task; a synchronous function's answer is posted before the next message is read. */
function run(handler: Handler, id: number, task: unknown): void {
  let value: unknown;
  try {
    value = handler(task);
  } catch (error) {
    fail(id, error);
    return;
  }
  if (isPromise(value)) value.then((v) => reply(id, v), (error: unknown) => fail(id, error));
  else reply(id, value);
}

let defaultHandler: Handler | undefined;

/** A task whose value is the next message (bytes). */
let announced: TaskMessage | undefined;

channel.on('message', (message) => {
  if (announced === undefined && taskAnnounces(message)) {
    announced = message as TaskMessage;
    return;
  }
  let next = message as TaskMessage;
  if (announced !== undefined) {
    next = announced;
    next[1] = message;
    announced = undefined;
  }
  const [id, task, name, filename] = next;
  if (name === null && filename === null && defaultHandler !== undefined) {
    run(defaultHandler, id, task);
    return;
  }
  const file = filename ?? spec.filename;
  if (file === null) {
    fail(id, new TypeError('filename must be provided to run() or in the ProcessPool options'));
    return;
  }
  handlerOf(file, name ?? spec.name).then((handler) => run(handler, id, task), (error: unknown) => fail(id, error));
});

// READY once the default module is loaded (or failed to load: its tasks then get that error).
const loaded = spec.filename === null ? Promise.resolve() : handlerOf(spec.filename, spec.name).then((handler) => void (defaultHandler = handler));
loaded.then(
  () => channel.postMessage([0, READY, null]),
  () => channel.postMessage([0, READY, null]),
);
