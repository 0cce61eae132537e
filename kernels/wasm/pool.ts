/**
 * Worker threads for the CPU backend's WASM kernels: the GEMM (kernels/wasm/gemm_f32.ts), the
 * whole-call attention (kernels/wasm/attention_f32.ts), GELU (kernels/wasm/elementwise_f32.ts)
 * and random normals (kernels/wasm/philox_f32.ts). The modules import shared memories, each
 * worker runs its own instances of them on the same memories, and a call's independent items
 * (rows or column panels of a product, batch entries of an attention call, elements) are split
 * between the calling thread and the ready workers. Each item is computed whole by one thread with
 * the operations it would get on one thread, so results are the same bits for every thread count.
 *
 * The threads meet through a small shared control block: the caller writes the job into slot 0
 * and each worker's share into its slot, bumps the worker's sequence number and wakes it; the
 * worker polls for a moment (the next call usually follows within microseconds), then sleeps in
 * `Atomics.wait`. The workers are started on first use and become ready asynchronously; until a
 * worker is ready the caller simply does its share. They are unref'd: they never keep the process
 * alive.
 *
 * The thread count (the caller included) is `setCpuThreads(n)`, or `MOTION_GRPO_CPU_THREADS`, or
 * by default the machine's logical CPUs, at most DEFAULT_MAX_THREADS. Where workers cannot be
 * started (a program run without read permission for this module) the kernels say so once and
 * run on the calling thread.
 */
import { Worker } from "node:worker_threads";
import { attentionMemory } from "./_attention_instance.ts";
import { gemmInstance } from "./_gemm_instance.ts";
import { growTo, newSharedMemory, PAGE } from "./_shared_memory.ts";
import { JOB_KIND, MEMORY_PAGES_AT, SLOT, SLOT_WORDS } from "./_control_block.ts";
import { elementwiseMemory } from "./elementwise_f32.ts";

/** What a job computes; the worker dispatches on it (kernels/wasm/pool_worker.ts). */
export const JobKind = {
  gemmRows: 1,
  attentionForward: 2,
  attentionBackward: 3,
  geluForward: 4,
  geluBackward: 5,
  randn: 6,
  gemmCols: 7,
} as const;

/**
 * Milliseconds a thread polls a flag before sleeping on it: a worker stays awake through the short
 * stretches of other work between calls (waking it from `Atomics.wait` costs about 30
 * microseconds), and sleeps when the calls stop.
 */
export const SPIN_MS = 2;

/** Most threads a pool runs (the caller included). */
export const MAX_CPU_THREADS = 64;
/**
 * Most threads by default: the mini and official MDM calls are split at most this many ways
 * with a gain (more threads only add waking and waiting).
 */
export const DEFAULT_MAX_THREADS = 8;

/** The environment variable that sets the default thread count. */
export const THREADS_ENV = "MOTION_GRPO_CPU_THREADS";

/**
 * Milliseconds the caller waits for a worker's share before giving up on it: no share of any call
 * of these models comes near (a minute of one thread is over a TFLOP of products), so only a
 * worker that stopped (killed, out of memory) ends there.
 */
export const WORKER_TIMEOUT_MS = 120_000;

/**
 * Waits until `ctl[at]` is `target` (`equal`) or differs from it (not `equal`): polls for up to
 * SPIN_MS, then sleeps on it. Returns false when `timeoutMs` passed first (never, without one).
 */
export function awaitWord(
  ctl: Int32Array,
  at: number,
  target: number,
  equal: boolean,
  timeoutMs?: number,
): boolean {
  const done = () => (Atomics.load(ctl, at) === target) === equal;
  if (done()) return true;
  const start = performance.now(), until = start + SPIN_MS;
  for (let polls = 1;; polls++) {
    if (done()) return true;
    if ((polls & 1023) === 0 && performance.now() > until) break;
  }
  for (;;) {
    const seen = Atomics.load(ctl, at);
    if ((seen === target) === equal) return true;
    if (timeoutMs === undefined) {
      Atomics.wait(ctl, at, seen);
    } else {
      const left = start + timeoutMs - performance.now();
      if (left <= 0) return false;
      Atomics.wait(ctl, at, seen, left);
    }
  }
}

/** Threads requested by `setCpuThreads`, or null for the environment's (or the default). */
let requested: number | null = null;
/** The environment's thread count, read once. */
let fromEnv: number | null = null;

/**
 * Sets the threads of the WASM kernels, the calling thread included (1 = no workers; null = back
 * to the environment's). Results do not depend on it.
 */
export function setCpuThreads(n: number | null): void {
  requested = n === null ? null : checkThreads(n, "setCpuThreads()");
  fromEnv = null;
  if (pool !== null && pool.threads !== cpuThreads()) closeKernelPool();
}

/**
 * The thread count in effect: `setCpuThreads`, else `MOTION_GRPO_CPU_THREADS`, else the logical
 * CPUs up to DEFAULT_MAX_THREADS; 1 where workers could not be started.
 */
export function cpuThreads(): number {
  if (unavailable) return 1;
  if (requested !== null) return requested;
  if (fromEnv === null) {
    let env: string | undefined;
    try {
      env = Deno.env.get(THREADS_ENV);
    } catch {
      env = undefined; // no --allow-env: the default
    }
    fromEnv = env === undefined || env === ""
      ? defaultThreads()
      : checkThreads(Number(env), THREADS_ENV);
  }
  return fromEnv;
}

/**
 * The logical CPUs, fewer where a cgroup CPU quota allows fewer (a container on a large server),
 * at most DEFAULT_MAX_THREADS (1 when unknown).
 */
export function defaultThreads(): number {
  let cpus = navigator.hardwareConcurrency;
  if (!Number.isInteger(cpus) || cpus < 1) return 1;
  const quota = cgroupCpus();
  if (quota !== null) cpus = Math.min(cpus, quota);
  return Math.min(cpus, DEFAULT_MAX_THREADS);
}

/** CPUs this process's cgroup quota allows (cgroup v2 `cpu.max`, or v1 CFS), null for none. */
function cgroupCpus(): number | null {
  const read = (path: string): string | null => {
    try {
      // never prompt for a permission: without it there is just no quota known
      if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return null;
      return Deno.readTextFileSync(path);
    } catch {
      return null; // absent
    }
  };
  const v2 = read("/sys/fs/cgroup/cpu.max");
  if (v2 !== null) return cpusOfQuota(v2);
  const quota = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  const period = read("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  return quota === null || period === null ? null : cpusOfQuota(`${quota} ${period}`);
}

/**
 * CPUs of a quota "QUOTA PERIOD" (cgroup v2 `cpu.max`; "max" or a negative quota: none), rounded
 * up; null when there is none or the text is not a quota.
 */
export function cpusOfQuota(text: string): number | null {
  const [quota, period] = text.trim().split(/\s+/).map(Number);
  if (!(quota > 0 && period > 0)) return null;
  return Math.max(1, Math.ceil(quota / period));
}

/** Set when starting a worker failed: the kernels then stay on the calling thread. */
let unavailable = false;

/** `n` when it is a whole number in 1..MAX_CPU_THREADS; a RangeError naming `what` otherwise. */
function checkThreads(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CPU_THREADS) {
    throw new RangeError(
      `${what}: the CPU thread count must be a whole number from 1 to ${MAX_CPU_THREADS}, ` +
        `got ${n}`,
    );
  }
  return n;
}

/**
 * The shared memories the workers instantiate the kernel modules on, and a scratch memory for
 * results computed outside them (normals).
 */
export interface PoolMemories {
  gemm: WebAssembly.Memory;
  attention: WebAssembly.Memory;
  elementwise: WebAssembly.Memory;
  scratch: WebAssembly.Memory;
}

/** The memories in the order of their sizes at MEMORY_PAGES_AT. */
export const MEMORY_NAMES = ["gemm", "attention", "elementwise", "scratch"] as const;

/**
 * Brings this thread's view of the shared `memories` up to the sizes the caller published at
 * MEMORY_PAGES_AT (`known`: the sizes this thread last saw, updated). A memory grown by another
 * thread before this one received it keeps its old `buffer` length here until `grow(0)`.
 * Returns whether any size changed (views made from `buffer` must then be made again).
 */
export function syncMemories(ctl: Int32Array, memories: PoolMemories, known: number[]): boolean {
  let changed = false;
  for (let k = 0; k < MEMORY_NAMES.length; k++) {
    const pages = ctl[MEMORY_PAGES_AT + k];
    if (pages !== known[k]) {
      memories[MEMORY_NAMES[k]].grow(0);
      known[k] = pages;
      changed = true;
    }
  }
  return changed;
}

/** The scratch memory, created with the first pool and kept for the process. */
let scratch: WebAssembly.Memory | null = null;

/** The scratch memory, created on first use. */
function scratchMemory(): WebAssembly.Memory {
  scratch ??= newSharedMemory();
  return scratch;
}

/** A float32 view of the pool's scratch memory, grown to at least `floats`. */
export function poolScratch(floats: number): Float32Array {
  const memory = scratchMemory();
  growTo(memory, floats * 4, "the CPU kernels' scratch");
  return new Float32Array(memory.buffer);
}

/** The module a worker runs. */
const WORKER_MODULE = new URL("./pool_worker.ts", import.meta.url).href;

/** Workers sharing the kernel memories. */
export class KernelPool {
  readonly threads: number;
  readonly memories: PoolMemories;
  /** The control block: slot 0 the job, slot w worker w. */
  readonly control: Int32Array;
  /** float64 view of the control block (for the jobs' float64 words). */
  readonly control64: Float64Array;
  readonly #workers: Worker[] = [];
  /** Calls run with at least one worker so far. */
  sharedRuns = 0;
  /** How long `run` waits for a worker's share (WORKER_TIMEOUT_MS). */
  timeoutMs = WORKER_TIMEOUT_MS;

  constructor(memories: PoolMemories, threads: number) {
    this.threads = threads;
    this.memories = memories;
    const sab = new SharedArrayBuffer(threads * SLOT_WORDS * 4);
    this.control = new Int32Array(sab);
    this.control64 = new Float64Array(sab);
    try {
      for (let slot = 1; slot < threads; slot++) {
        const worker = new Worker(new URL(WORKER_MODULE));
        worker.postMessage({ memories, control: sab, slot });
        worker.unref();
        this.#workers.push(worker);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Slots (1..threads-1) of the workers that are ready now. */
  readySlots(): number[] {
    const slots: number[] = [];
    for (let slot = 1; slot < this.threads; slot++) {
      if (Atomics.load(this.control, slot * SLOT_WORDS + SLOT.ready) === 1) slots.push(slot);
    }
    return slots;
  }

  /**
   * Runs the job already written into slot 0 (words from JOB_AT) over items [0, n): the caller
   * (part 0) and the ready workers (parts 1, 2, ...) each take a contiguous share, a multiple of
   * `step` items; the caller's share runs through `own(from, to)`. Returns when every share is
   * done.
   */
  run(kind: number, n: number, step: number, own: (from: number, to: number) => void): void {
    const ctl = this.control, slots = this.readySlots();
    const share = Math.ceil(Math.ceil(n / step) / (slots.length + 1)) * step;
    ctl[JOB_KIND] = kind;
    for (let k = 0; k < MEMORY_NAMES.length; k++) {
      ctl[MEMORY_PAGES_AT + k] = this.memories[MEMORY_NAMES[k]].buffer.byteLength / PAGE;
    }
    const started: number[] = [];
    for (let i = 0; i < slots.length && (i + 1) * share < n; i++) {
      const base = slots[i] * SLOT_WORDS, from = (i + 1) * share;
      ctl[base + SLOT.from] = from;
      ctl[base + SLOT.to] = Math.min(n, from + share);
      ctl[base + SLOT.part] = i + 1;
      Atomics.store(ctl, base + SLOT.seq, (ctl[base + SLOT.seq] + 1) | 0);
      Atomics.notify(ctl, base + SLOT.seq);
      started.push(base);
    }
    if (started.length > 0) this.sharedRuns++;
    // the workers must be done with the memories before this returns, even when own() throws
    let ownError: unknown = null;
    try {
      own(0, Math.min(n, share));
    } catch (e) {
      ownError = e;
    }
    let failed = false;
    for (const base of started) {
      // the worker copies the sequence number into done when its share is finished
      if (!awaitWord(ctl, base + SLOT.done, ctl[base + SLOT.seq], true, this.timeoutMs)) {
        this.close();
        if (pool === this) pool = null;
        const seconds = this.timeoutMs / 1000;
        throw new Error(
          `CPU kernel worker ${base / SLOT_WORDS} gave no answer in ${seconds} s (stopped?); ` +
            "its pool is closed, the next call starts a new one",
        );
      }
      if (Atomics.load(ctl, base + SLOT.failed) !== 0) {
        Atomics.store(ctl, base + SLOT.failed, 0);
        failed = true;
      }
    }
    if (ownError !== null) throw ownError;
    if (failed) throw new Error("A CPU kernel worker thread failed (see its error above)");
  }

  /**
   * Stops the workers: each is told through its slot (a thread busy in a loop does not heed
   * `terminate` alone), leaves its loop and clears its ready flag.
   */
  close(): void {
    const ctl = this.control;
    for (let slot = 1; slot < this.threads; slot++) {
      const base = slot * SLOT_WORDS;
      Atomics.store(ctl, base + SLOT.stop, 1);
      Atomics.store(ctl, base + SLOT.seq, (ctl[base + SLOT.seq] + 1) | 0);
      Atomics.notify(ctl, base + SLOT.seq);
    }
    for (const worker of this.#workers) worker.terminate();
    this.#workers.length = 0;
  }
}

let pool: KernelPool | null = null;

/**
 * The pool at the current thread count, started on first use; null on one thread. (Releasing the
 * GEMM instance, the one memory that can be replaced, closes the pool: `releaseGemmF32`.)
 */
export function kernelPool(): KernelPool | null {
  const threads = cpuThreads();
  if (pool !== null && pool.threads === threads) return pool;
  closeKernelPool();
  if (threads === 1) return null;
  try {
    // a local worker module needs read permission; ask, never prompt for it
    const url = new URL(WORKER_MODULE);
    if (
      url.protocol === "file:" &&
      Deno.permissions.querySync({ name: "read", path: url.pathname }).state !== "granted"
    ) {
      throw new Error(`no read permission for "${url.pathname}" (run with --allow-read)`);
    }
    pool = new KernelPool({
      gemm: gemmInstance().exports.memory,
      attention: attentionMemory(),
      elementwise: elementwiseMemory(),
      scratch: scratchMemory(),
    }, threads);
  } catch (e) {
    unavailable = true;
    console.warn(`The CPU kernels run on one thread: their worker threads could not start (${e})`);
    return null;
  }
  return pool;
}

/** Stops the workers of the current pool, if any. */
export function closeKernelPool(): void {
  pool?.close();
  pool = null;
}
