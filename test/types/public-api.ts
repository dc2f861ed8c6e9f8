// The public types as a user's TypeScript sees them (the package's own .d.ts, imported by
// name): `npm run typecheck` compiles this file, and each `@ts-expect-error` line must fail to
// compile, or the typecheck fails ("unused directive"). Never run.
import { array, Channel, connectParent, Mutex, Schema, Segment, Semaphore, SpscRing, struct, WaitStrategy, type ChannelEvents, type Codec, type Infer } from 'shmring';

interface Job {
  id: number;
  text: string;
}
interface Done {
  id: number;
}

export async function channels(): Promise<void> {
  const ch = Channel.create<Done, Job>('shm:types');
  ch.postMessage({ id: 1, text: 'x' });
  // @ts-expect-error: a message of the wrong type
  ch.postMessage({ id: 'one', text: 'x' });
  ch.on('message', (done) => {
    const id: number = done.id;
    // @ts-expect-error: a field the message type does not have
    void done.text;
    void id;
  });
  // @ts-expect-error: a misspelt event
  ch.on('mesage', () => {});
  ch.on('close', (reason) => void reason?.message);
  ch.once('drain', () => {});
  for await (const done of ch) {
    const id: number = done.id;
    void id;
  }
  const taken = ch.receiveMessage();
  if (taken !== undefined) void (taken.message.id satisfies number);

  const peer = Channel.connect<Job, Done>(ch.address);
  peer.postMessage({ id: 2 });
  const untyped = Channel.connect('shm:other');
  untyped.postMessage(new Map([[1, 2n]])); // unknown by default: anything structured clone carries
  const parent = connectParent<Job, Done>();
  parent.postMessage({ id: 3 });
  const events: ChannelEvents<Job>['message'] = [{ id: 1, text: '' }];
  void events;
}

export function closedSurface(segment: Segment, codec: Codec): void {
  const mutex = Mutex.create(segment, 0);
  // @ts-expect-error: the lock word is not part of the API
  void mutex.i32;
  const semaphore = Semaphore.create(segment, 64, { initial: 1 });
  // @ts-expect-error: nor is the count word
  void semaphore.word;
  const strategy = new WaitStrategy();
  // @ts-expect-error: the wait loop is internal
  strategy.wake({ i32: new Int32Array(new SharedArrayBuffer(8)), word: 0, waiters: 1 });
  // @ts-expect-error: internal
  segment.checkIntact();
  const ch = Channel.create();
  // @ts-expect-error: internal (process exit does it)
  ch.closeOnExit();
  void codec.encode({});
}

/** Exactly T (not a supertype nor a subtype): `exact<T>()(value)` compiles only if value's type is T. */
type Same<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function same<A, B>(verdict: Same<A, B>): void {
  void verdict;
}

export function schemas(bytes: Uint8Array, ring: SpscRing): void {
  const Tick = struct({ id: 'u32', ts: 'f64', payload: 'utf8(40)' });
  same<typeof Tick, Schema<{ id: number; ts: number; payload: string }>>(true);
  const Point = struct({ x: 'f64', y: 'f64' });
  const All = struct({
    i8: 'i8', u16: 'u16', f32: 'f32', big: 'u64', signed: 'i64', small: 'u64:number', neg: 'i64:number', ok: 'bool',
    name: 'utf8(16)', fixed: 'utf8[8]', blob: 'bytes(4)', key: 'bytes[32]',
    vec: 'f64[3]', grid: 'u8[2][3]', names: 'utf8(4)[2]', keys: 'bytes[8][2]',
    at: Point, path: array(Point, 4), labels: array('utf8(8)', 2), deep: array(array('i16', 2), 3),
    rest: 'bytes*',
  });
  same<
    Infer<typeof All>,
    {
      i8: number; u16: number; f32: number; big: bigint; signed: bigint; small: number; neg: number; ok: boolean;
      name: string; fixed: string; blob: Uint8Array; key: Uint8Array;
      vec: number[]; grid: number[][]; names: string[]; keys: Uint8Array[];
      at: { x: number; y: number }; path: Array<{ x: number; y: number }>; labels: string[]; deep: number[][];
      rest: Uint8Array;
    }
  >(true);

  const tick = Tick.decode(bytes);
  void (tick.id satisfies number);
  void (tick.payload satisfies string);
  // @ts-expect-error: a field the schema does not have
  void tick.price;
  Tick.encode({ id: 1, ts: 2, payload: 'x' });
  // @ts-expect-error: a wrong field type passed to encode
  Tick.encode({ id: '1', ts: 2, payload: 'x' });
  // @ts-expect-error: a missing field
  Tick.encode({ id: 1, ts: 2 });
  // @ts-expect-error: u64 is a bigint (u64:number is a number)
  All.encodedLength({ ...All.decode(bytes), big: 1 });
  const view = Tick.view(bytes);
  void (view.ts satisfies number);
  // @ts-expect-error: a view is read-only
  view.id = 2;
  // @ts-expect-error: a field the schema does not have
  void view.price;
  const read = Tick.tryRead(ring);
  if (read !== null) void (read.payload satisfies string);
  Tick.drain(ring, (v) => void (v.id satisfies number));
  Tick.tryWrite(ring, { id: 1, ts: 2, payload: '' });
  // @ts-expect-error: a wrong field type written into a ring
  Tick.tryWrite(ring, { id: 1, ts: 2, payload: 3 });
  const codec: Codec<{ id: number; ts: number; payload: string }> = Tick;
  const any: Codec = Tick;
  void codec;
  void any;
  const ch = Channel.create<Infer<typeof Tick>>('shm:ticks', { codec: Tick });
  ch.postMessage({ id: 1, ts: 2, payload: 'x' });
  // @ts-expect-error: not a Tick
  ch.postMessage({ id: 1 });
  // The message type follows the schema, both ways, without naming it.
  const inferred = Channel.connect('shm:ticks', { codec: Tick });
  inferred.on('message', (m) => void (m.payload satisfies string));
  // @ts-expect-error: not a Tick
  inferred.postMessage({ id: 1, ts: 2, payload: 3 });
}
