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
// that finds it full (EAGAIN) is sent again later (after 1 ms, then doubling up to
// RETRY_MAX_MS) on an unref'd timer, for as long as the side that rings is open, so a
// wake-up is delayed, never lost, and a peer that never reads its doorbell costs us one
// sendto per RETRY_MAX_MS, never a process kept alive. A bell holds at most one pending
// ring: a ring only says "look", so one sent later covers every ring before it. Once the
// ringing side has closed, its last ring (the one that says "closed") is retried for
// CLOSED_RETRY_MS more, then dropped: a peer whose doorbell stays full that long sees the
// close the next time it looks at the channel, or when this process exits (its pidfd).
//
// Whom we ring: the name comes from the peer's wake line, and the datagram we send there
// carries our credentials (a receiver with SO_PASSCRED sees our pid, uid and gid). So a
// name is used only if it has the form the kernel's autobind gives (unix(7): 5 bytes of
// [0-9a-f] after the leading NUL): a peer cannot aim our datagrams at a service's chosen
// name. Our own doorbell is used only if its name has that form, so an honest peer never
// writes one we refuse; a peer that writes another name is never rung (nothing is sent;
// it sees our messages only when it looks for another reason).
import { native } from '../native.js';
import * as futex from '../sync/futex.js';
import { NAME_LENGTH, MAX_NAME, TOKEN, WAKE_FUTEX, WAKE_KIND, WAKE_SOCKET, wakeNameOffset, wakeWordIndex } from './layout.js';

/** What a doorbell calls: the channel side to look at its rings and words. */
export interface WakeTarget {
  onWake(): void;
}

const EAGAIN = 11;
/** The first retry of a ring that found its doorbell full, then twice as long each time, up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 1;
const RETRY_MAX_MS = 100;
/** How long after its side closed a ring that finds the doorbell full is still retried. */
export const CLOSED_RETRY_MS = 2000;
/** Bytes of a name the kernel's autobind gives (after the leading NUL), each one of [0-9a-f]. */
export const AUTOBIND_NAME_LENGTH = 5;

/** Whether `name` (the bytes after the leading NUL) has the form of a kernel autobind name. */
export function isAutobindName(name: Uint8Array): boolean {
  if (name.length !== AUTOBIND_NAME_LENGTH) return false;
  for (const c of name) {
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * This process's side of a channel, known by the buffer its header lives in: makeWakeup
 * registers it, its close() stamps closedAt, and the bells that side reads from the same
 * header retry while it is open (they ring on its behalf).
 */
interface RingingSide {
  closedAt: number;
}
const sides = new WeakMap<ArrayBufferLike, RingingSide>();

/** Rings one peer doorbell by name, retrying a full one (see the top of this file). */
class SocketBell implements Bell {
  readonly #name: string;
  readonly #token: number;
  readonly #side: RingingSide;
  #retry: NodeJS.Timeout | undefined;
  #delay = RETRY_FIRST_MS;

  constructor(name: string, token: number, side: RingingSide) {
    this.#name = name;
    this.#token = token;
    this.#side = side;
  }

  ring(): void {
    // A pending retry is sent after this ring's publication: it says "look" for both.
    if (this.#retry === undefined) this.#send();
  }

  readonly #send = (): void => {
    this.#retry = undefined;
    if (native.doorbellRing(this.#name, this.#token) !== EAGAIN || performance.now() >= this.#side.closedAt + CLOSED_RETRY_MS) {
      this.#delay = RETRY_FIRST_MS;
      return;
    }
    this.#retry = setTimeout(this.#send, this.#delay).unref();
    this.#delay = Math.min(this.#delay * 2, RETRY_MAX_MS);
  };
}

/** The bell of a peer whose wake line names a doorbell we refuse: it rings nothing. */
const MUTE_BELL: Bell = { ring() {} };

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
    if (!isAutobindName(Buffer.from(this.name, 'latin1'))) {
      native.closeFd(this.fd);
      throw new Error(`doorbell name ${JSON.stringify(this.name)} is not a kernel autobind name: peers would refuse it`);
    }
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
  const side: RingingSide = { closedAt: Infinity };
  sides.set(i32.buffer, side);
  const wakeup = waitFor(i32, line, target, kind);
  return {
    ref: (on) => wakeup.ref(on),
    close() {
      if (side.closedAt === Infinity) side.closedAt = performance.now();
      wakeup.close();
    },
  };
}

/** How this side waits: its thread's doorbell, or the futex fallback. */
function waitFor(i32: Int32Array, line: number, target: WakeTarget, kind: 'socket' | 'futex'): Wakeup {
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

/**
 * Reads a peer's wake line; undefined while the peer has not written it (not connected yet).
 * A socket line naming anything but a kernel autobind name gives a bell that rings nothing.
 */
export function readBell(i32: Int32Array, line: number): Bell | undefined {
  const kind = Atomics.load(i32, wakeWordIndex(line, WAKE_KIND));
  if (kind === WAKE_SOCKET) {
    const length = Atomics.load(i32, wakeWordIndex(line, NAME_LENGTH));
    if (length !== AUTOBIND_NAME_LENGTH) return MUTE_BELL;
    // A copy, checked: the peer may rewrite the line while we read it.
    const name = Buffer.from(new Uint8Array(i32.buffer, i32.byteOffset + wakeNameOffset(line), length));
    if (!isAutobindName(name)) return MUTE_BELL;
    const token = Atomics.load(i32, wakeWordIndex(line, TOKEN)) >>> 0;
    // Bells ring on behalf of this process's side of the same header; without one, a full
    // doorbell is retried as if that side had just closed.
    const side = sides.get(i32.buffer) ?? { closedAt: performance.now() };
    return new SocketBell(name.toString('latin1'), token, side);
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
