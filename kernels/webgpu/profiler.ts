/**
 * GPU time per kernel from timestamp queries: while profiling, the runtime gives every dispatch
 * its own compute pass whose beginning and end write a timestamp, resolves the batch's queries
 * when it submits, and reads them back without blocking; `report()` waits for the last ones.
 * Separate passes cost a little, so profile to see where time goes, not to time a whole step.
 */

/** GPU time of the dispatches of one kernel name. */
export interface KernelTime {
  name: string;
  dispatches: number;
  /** Sum of the passes' durations, milliseconds. */
  ms: number;
}

/** Records the passes of one runtime; `capacity` dispatches per submission at most. */
export class KernelProfiler {
  readonly #device: GPUDevice;
  readonly #querySet: GPUQuerySet;
  readonly #resolve: GPUBuffer;
  /** Kernel name of each pass of the batch being encoded. */
  #names: string[] = [];
  #pending: Promise<void>[] = [];
  #totals = new Map<string, KernelTime>();

  constructor(device: GPUDevice, capacity: number) {
    this.#device = device;
    this.#querySet = device.createQuerySet({ type: "timestamp", count: 2 * capacity });
    this.#resolve = device.createBuffer({
      size: 2 * capacity * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
  }

  /** Whether `device` can write timestamps in compute passes. */
  static supported(device: GPUDevice): boolean {
    return device.features.has("timestamp-query");
  }

  /** The pass descriptor of the next dispatch, named `name`. */
  pass(name: string): GPUComputePassDescriptor {
    const i = this.#names.length;
    this.#names.push(name);
    return {
      timestampWrites: {
        querySet: this.#querySet,
        beginningOfPassWriteIndex: 2 * i,
        endOfPassWriteIndex: 2 * i + 1,
      },
    };
  }

  /** Encodes the resolve of the batch's timestamps; returns the read-back to start after submit. */
  resolve(encoder: GPUCommandEncoder): (() => void) | null {
    const names = this.#names;
    if (names.length === 0) return null;
    this.#names = [];
    const bytes = names.length * 16;
    const read = this.#device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    encoder.resolveQuerySet(this.#querySet, 0, 2 * names.length, this.#resolve, 0);
    encoder.copyBufferToBuffer(this.#resolve, 0, read, 0, bytes);
    return () => {
      this.#pending.push(
        read.mapAsync(GPUMapMode.READ).then(() => {
          const ticks = new BigUint64Array(read.getMappedRange()); // (n, 2) nanoseconds
          names.forEach((name, i) => {
            const t = this.#totals.get(name) ?? { name, dispatches: 0, ms: 0 };
            t.dispatches++;
            t.ms += Number(ticks[2 * i + 1] - ticks[2 * i]) / 1e6;
            this.#totals.set(name, t);
          });
          read.destroy();
        }),
      );
    };
  }

  /** GPU time per kernel name since the start, largest first (after the work submitted so far). */
  async report(): Promise<KernelTime[]> {
    await Promise.all(this.#pending);
    this.#pending = [];
    return [...this.#totals.values()].sort((a, b) => b.ms - a.ms);
  }

  destroy(): void {
    this.#querySet.destroy();
    this.#resolve.destroy();
  }
}
