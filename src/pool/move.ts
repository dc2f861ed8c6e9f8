// move(): marks a task or a result whose buffers travel without a copy of their own (their
// ArrayBuffers are detached on the sending side), as piscina's move() does. The marker is
// piscina's own pair of registered symbols, so a worker file written for piscina that returns
// Piscina.move(buffer) moves its result here too.

const TRANSFERABLE = Symbol.for('Piscina.transferable');
const VALUE = Symbol.for('Piscina.valueOf');

export interface Movable<T> {
  readonly [TRANSFERABLE]: ArrayBuffer;
  readonly [VALUE]: T;
}

/** Wraps an ArrayBuffer or a view of one (a Buffer, a typed array) so that run() or a worker's return moves it. */
export function move<T extends ArrayBuffer | ArrayBufferView>(value: T): Movable<T> {
  const buffer = ArrayBuffer.isView(value) ? value.buffer : value;
  if (!(buffer instanceof ArrayBuffer)) throw new TypeError('move(value): expected an ArrayBuffer or a view of one (not a SharedArrayBuffer)');
  return { [TRANSFERABLE]: buffer, [VALUE]: value };
}

/** Whether `value` came from move() (ours or piscina's). */
export function isMovable(value: unknown): value is Movable<unknown> {
  return value !== null && typeof value === 'object' && TRANSFERABLE in value && VALUE in value;
}

/** The value inside a movable and the buffer it moves. */
export function unwrap(value: Movable<unknown>): [value: unknown, buffer: ArrayBuffer] {
  return [value[VALUE], value[TRANSFERABLE]];
}
