// The public types as a user's TypeScript sees them (the package's own .d.ts, imported by
// name): `npm run typecheck` compiles this file, and each `@ts-expect-error` line must fail to
// compile, or the typecheck fails ("unused directive"). Never run.
import { Channel, connectParent, Mutex, Segment, Semaphore, WaitStrategy, type ChannelEvents, type Codec } from 'shmring';

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
