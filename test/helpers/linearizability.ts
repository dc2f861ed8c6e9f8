// A checker of recorded queue histories: whether the enqueues and dequeues that processes
// logged (each with the monotonic time before and after the call) can be put in one order
// that respects real time and is a FIFO queue's. Values are unique, so for enqueues and
// dequeues the classic violations of a queue are necessary and sufficient (Henzinger,
// Sezgin, Vafeiadis: "Aspect-oriented linearizability proofs", CONCUR 2013): a value
// dequeued that was never enqueued, or dequeued twice, or dequeued before its enqueue began;
// a value enqueued before another (its enqueue ended before the other's began) but dequeued
// after it (its dequeue began after the other's ended); and, with everything drained, a
// value never dequeued. Empty answers are checked by a sufficient condition only: one value
// in the queue for all of the answer (several values that together cover it are not seen).
// All checks are O(n log n).

/** One logged call: [start, end] in ns, and the value (producer id and sequence). */
export interface Operation {
  start: number;
  end: number;
  value: string;
}

export interface History {
  enqueues: Operation[];
  dequeues: Operation[];
  /** Calls that answered "empty". */
  empties: Array<{ start: number; end: number }>;
}

export interface Violations {
  /** Dequeued, never enqueued (or dequeued before its enqueue began). */
  fresh: string[];
  /** Dequeued more than once. */
  repeated: string[];
  /** [a, b]: a enqueued before b, b dequeued before a. */
  reordered: Array<[string, string]>;
  /** Enqueued, never dequeued (the history is drained). */
  lost: string[];
  /** Empty answers while a value was in the queue throughout. */
  falseEmpty: number;
}

/** The largest `key` of the items whose `by` is below each query, by sorting and a prefix maximum. */
function prefixMax<T>(items: T[], by: (x: T) => number, key: (x: T) => number): { bounds: number[]; max: number[] } {
  const sorted = [...items].sort((x, y) => by(x) - by(y));
  const bounds = sorted.map(by);
  const max: number[] = [];
  let m = -Infinity;
  for (const x of sorted) max.push((m = Math.max(m, key(x))));
  return { bounds, max };
}

/** The prefix maximum over the items whose bound is strictly below `limit` (-Infinity if none). */
function below(index: { bounds: number[]; max: number[] }, limit: number): number {
  let lo = 0;
  let hi = index.bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (index.bounds[mid]! < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? -Infinity : index.max[lo - 1]!;
}

export function check(history: History): Violations {
  const enq = new Map(history.enqueues.map((o) => [o.value, o]));
  const deq = new Map<string, Operation>();
  const v: Violations = { fresh: [], repeated: [], reordered: [], lost: [], falseEmpty: 0 };
  for (const d of history.dequeues) {
    const e = enq.get(d.value);
    if (e === undefined || d.end < e.start) v.fresh.push(d.value);
    if (deq.has(d.value)) v.repeated.push(d.value);
    else deq.set(d.value, d);
  }
  for (const value of enq.keys()) if (!deq.has(value)) v.lost.push(value);
  // Pairs both enqueued and dequeued: a, b with enq(a).end < enq(b).start and deq(b).end < deq(a).start.
  const pairs = [...deq.keys()].filter((x) => enq.has(x)).map((x) => ({ value: x, e: enq.get(x)!, d: deq.get(x)! }));
  const byEnqEnd = prefixMax(pairs, (p) => p.e.end, (p) => p.d.start);
  const witness = new Map(pairs.map((p) => [p.d.start, p.value]));
  for (const b of pairs) {
    const latest = below(byEnqEnd, b.e.start);
    if (latest > b.d.end) v.reordered.push([witness.get(latest)!, b.value]);
  }
  // An empty answer while some value was enqueued before it began and dequeued after it ended.
  for (const empty of history.empties) if (below(byEnqEnd, empty.start) > empty.end) v.falseEmpty++;
  return v;
}

/** A history from the peers' logs: [start, end, id, seq] rows, id -1 for an empty answer. */
export function historyOf(produced: number[][][], consumed: number[][][]): History {
  const op = ([start, end, id, seq]: number[]): Operation => ({ start: start!, end: end!, value: `${id}:${seq}` });
  return {
    enqueues: produced.flat().map(op),
    dequeues: consumed.flat().filter((r) => r[2] !== -1).map(op),
    empties: consumed.flat().filter((r) => r[2] === -1).map(([start, end]) => ({ start: start!, end: end! })),
  };
}
