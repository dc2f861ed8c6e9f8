// Waking a Channel's event loop. Each thread has one doorbell: an abstract-namespace Unix
// datagram socket (nothing in the file system; any process may ring it by name) watched by
// uv_poll on the thread's own loop, so a wake-up costs the sender one sendto and the
// receiver one epoll return: no waiter thread, no libuv pool thread, one descriptor for all
// the thread's channels. A datagram carries a token that names the channel to look at.
// Where the socket cannot be made (or wake: 'futex' asks for it), a side sleeps in
// futex.waitAsync on a counter in its wake line (the `token` word), which every ring
// increments before its futex wake: the waiter reads the counter before it looks at the
// channel and waits only while it is unchanged, so no ring is lost between the look and the
// wait (one native waiter thread serves up to 127 such words).
//
// Who rings: a side that published data swaps the peer's `armed` word to 0 and rings only
// if it was 1; the same with `need room` after freeing room. A peer that closes rings
// always. A doorbell holds few datagrams (net.unix.max_dgram_qlen, 10 by default): a ring
// that finds it full (EAGAIN) is sent again a millisecond later, until it goes through or
// the doorbell is gone, so a wake-up is delayed, never lost.
import { native } from '../native.js';
import * as futex from '../sync/futex.js';
import { NAME_LENGTH, MAX_NAME, TOKEN, WAKE_FUTEX, WAKE_KIND, WAKE_SOCKET, wakeNameOffset, wakeWordIndex } from './layout.js';

/** What a doorbell calls: the channel side to look at its rings and words. */
export interface WakeTarget {
  onWake(): void;
}

const EAGAIN = 11;
/** Rings that found their doorbell full, sent again by one timer of this thread. */
const retries = new Map<string, { name: string; token: number }>();
let retryTimer: NodeJS.Timeout | undefined;

function ringSocket(name: string, token: number): void {
  if (native.doorbellRing(name, token) !== EAGAIN) return;
  retries.set(`${token}@${name}`, { name, token });
  retryTimer ??= setTimeout(retryRings, 1);
}

function retryRings(): void {
  retryTimer = undefined;
  const pending = [...retries.values()];
  retries.clear();
  for (const { name, token } of pending) ringSocket(name, token);
}

class Doorbell {
  readonly fd: number;
  readonly name: string;
  readonly #poll: number;
  readonly #tokens = new Uint32Array(256);
  readonly #targets = new Map<number, WakeTarget>();
  #nextToken = 1;
  #refs = 0;

  constructor() {
    [this.fd, this.name] = native.doorbellOpen();
    this.#poll = native.pollStart(this.fd, () => this.#onReadable());
    native.pollRef(this.#poll, false);
  }

  add(target: WakeTarget): number {
    const token = this.#nextToken;
    this.#nextToken = (this.#nextToken + 1) >>> 0 || 1;
    this.#targets.set(token, target);
    return token;
  }

  remove(token: number): void {
    this.#targets.delete(token);
  }

  /** Counts the channels that keep this thread alive; the poll handle is ref'd while any does. */
  ref(delta: 1 | -1): void {
    const before = this.#refs;
    this.#refs += delta;
    if ((before === 0) !== (this.#refs === 0)) native.pollRef(this.#poll, this.#refs > 0);
  }

  #onReadable(): void {
    for (;;) {
      const n = native.doorbellDrain(this.fd, this.#tokens);
      for (let i = 0; i < n; i++) this.#targets.get(this.#tokens[i]!)?.onWake();
      if (n < this.#tokens.length) break;
    }
  }
}

let doorbell: Doorbell | null | undefined;

/** This thread's doorbell, made on first use; null where none can be made. */
function threadDoorbell(): Doorbell | null {
  if (doorbell === undefined) {
    try {
      doorbell = new Doorbell();
    } catch {
      doorbell = null;
    }
  }
  return doorbell;
}

/** How one side of one channel is woken; it writes the wake line the peer reads. */
export interface Wakeup {
  ref(on: boolean): void;
  close(): void;
}

/**
 * Registers `target` to be woken and describes how in its wake line (`line`: byte offset of
 * the line in `i32`'s buffer). kind 'socket' falls back to 'futex' where no doorbell exists.
 */
export function makeWakeup(i32: Int32Array, line: number, target: WakeTarget, kind: 'socket' | 'futex'): Wakeup {
  const bell = kind === 'socket' ? threadDoorbell() : null;
  if (bell !== null) {
    const token = bell.add(target);
    writeName(i32, line, bell.name);
    Atomics.store(i32, wakeWordIndex(line, TOKEN), token);
    Atomics.store(i32, wakeWordIndex(line, WAKE_KIND), WAKE_SOCKET);
    let refed = false;
    return {
      ref(on) {
        if (on !== refed) bell.ref((refed = on) ? 1 : -1);
      },
      close() {
        if (refed) bell.ref(-1);
        refed = false;
        bell.remove(token);
      },
    };
  }
  Atomics.store(i32, wakeWordIndex(line, WAKE_KIND), WAKE_FUTEX);
  return futexWakeup(i32, wakeWordIndex(line, TOKEN), target);
}

/** The futex fallback: one waitAsync on the ring counter always pending while open. */
function futexWakeup(i32: Int32Array, counter: number, target: WakeTarget): Wakeup {
  let refed = false;
  let closed = false;
  let pending: AbortController | undefined;
  let seen = Atomics.load(i32, counter);
  const wait = (): void => {
    if (closed) return;
    const controller = new AbortController();
    pending = controller;
    futex.waitAsync(i32, counter, seen, { ref: refed, signal: controller.signal }).then(
      () => {
        if (pending !== controller) return;
        seen = Atomics.load(i32, counter); // before the look: a ring after it changes the counter
        target.onWake();
        wait();
      },
      () => {}, // aborted to change ref, or the segment closed
    );
  };
  wait();
  return {
    ref(on) {
      if (on === refed || closed) return;
      refed = on;
      pending?.abort();
      wait();
    },
    close() {
      closed = true;
      pending?.abort();
      pending = undefined;
    },
  };
}

function writeName(i32: Int32Array, line: number, name: string): void {
  const bytes = Buffer.from(name, 'latin1');
  if (bytes.length > MAX_NAME) throw new RangeError(`doorbell name of ${bytes.length} bytes`);
  new Uint8Array(i32.buffer, i32.byteOffset + wakeNameOffset(line), MAX_NAME).set(bytes);
  Atomics.store(i32, wakeWordIndex(line, NAME_LENGTH), bytes.length);
}

/** How to ring the side whose wake line is at `line`: read once that side has written it. */
export interface Bell {
  ring(): void;
}

/** Reads a peer's wake line; undefined while the peer has not written it (not connected yet). */
export function readBell(i32: Int32Array, line: number): Bell | undefined {
  const kind = Atomics.load(i32, wakeWordIndex(line, WAKE_KIND));
  const length = Atomics.load(i32, wakeWordIndex(line, NAME_LENGTH));
  if (kind === WAKE_SOCKET && length > 0 && length <= MAX_NAME) {
    const name = Buffer.from(new Uint8Array(i32.buffer, i32.byteOffset + wakeNameOffset(line), length)).toString('latin1');
    const token = Atomics.load(i32, wakeWordIndex(line, TOKEN)) >>> 0;
    return { ring: () => ringSocket(name, token) };
  }
  if (kind !== WAKE_FUTEX) return undefined;
  const counter = wakeWordIndex(line, TOKEN);
  return {
    ring: () => {
      Atomics.add(i32, counter, 1);
      futex.wake(i32, counter);
    },
  };
}
