// Coordination of the two (or more) processes of a cross-process throughput run through a
// small control block at the end of the run's shared segment:
//   i32[0] ready   consumers that are ready for the current repetition
//   i32[1] rep     the repetition the producers may start
//   i32[2] count   messages received in this repetition (MPMC consumers share it)
//   i32[3] producersDone
//   f64[4 + r]     duration of repetition r in ns (first send → last receipt)
//   i64[2]         start of the current repetition (hrtime ns)
// Times are CLOCK_MONOTONIC (process.hrtime), which all processes share.

export const CONTROL_BYTES = 4096;
const MAX_REPS = 400;

export class Control {
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly f64: Float64Array;

  constructor(buffer: SharedArrayBuffer, size: number) {
    const base = size - CONTROL_BYTES;
    this.i32 = new Int32Array(buffer, base, 16);
    this.i64 = new BigInt64Array(buffer, base, 8);
    this.f64 = new Float64Array(buffer, base + 64, MAX_REPS);
  }

  /** Producer side: waits until `consumers` said ready for rep r, then stamps the start. */
  begin(rep: number, consumers: number): void {
    while (Atomics.load(this.i32, 0) < consumers * (rep + 1)) Atomics.wait(this.i32, 15, 0, 0.05);
    Atomics.store(this.i64, 2, process.hrtime.bigint());
    Atomics.store(this.i32, 1, rep + 1);
  }

  /** Consumer side: says ready for rep r and waits for the producers to start it. */
  ready(rep: number): void {
    Atomics.add(this.i32, 0, 1);
    while (Atomics.load(this.i32, 1) < rep + 1) Atomics.wait(this.i32, 15, 0, 0.05);
  }

  /** Counts `n` received messages; the receipt that completes `total` records the duration. */
  received(rep: number, n: number, total: number): boolean {
    const after = Atomics.add(this.i32, 2, n) + n;
    if (after === total) {
      this.f64[rep] = Number(process.hrtime.bigint() - Atomics.load(this.i64, 2));
      Atomics.store(this.i32, 2, 0);
      Atomics.add(this.i32, 3, 1);
      return true;
    }
    return after > total;
  }

  /** Waits until repetition r has been received completely. */
  waitDone(rep: number): void {
    while (Atomics.load(this.i32, 3) < rep + 1) Atomics.wait(this.i32, 15, 0, 0.05);
  }

  durations(reps: number): number[] {
    return Array.from(this.f64.subarray(0, reps));
  }
}
