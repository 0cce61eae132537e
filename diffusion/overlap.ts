/**
 * Jobs whose device work (a rollout) overlaps the host's work around it: job j is queued, then
 * the job before it is finished (its result read back and used: embedded, scored, recorded), then
 * the host does job j's work that needs no result, and only then is job j's read-back started.
 * On Deno, starting a read-back waits for the GPU to finish everything queued
 * (kernels/webgpu/runtime.ts), so a GPU runs job j while the host works. The same calls in the
 * same order as one job at a time: the same results. Used by `eval-humanml` (plain and
 * composite) and the held-out reward.
 * @module
 */

/** A job's queued device work. */
export interface QueuedJob<R> {
  /** Starts the read-back of the result and frees what the job holds; called exactly once. */
  read(): Promise<R>;
}

/** The three parts of every job. */
export interface OverlapSteps<J, R> {
  /** Queues job `index`'s device work (host work it needs first, such as its text features). */
  queue(job: J, index: number): Promise<QueuedJob<R>>;
  /** Host work of job `index` that needs no result, done while the device runs it. */
  host?(job: J, index: number): Promise<void> | void;
  /** Uses job `index`'s result; called in job order. */
  finish(job: J, result: R, index: number): Promise<void> | void;
}

/** Runs `jobs` in order, each queued before the one before it is finished (see the module doc). */
export async function runOverlapped<J, R>(
  jobs: readonly J[],
  steps: OverlapSteps<J, R>,
): Promise<void> {
  let pending: { job: J; index: number; result: Promise<R> } | null = null;
  const finishPending = async () => {
    const p = pending;
    pending = null;
    if (p !== null) await steps.finish(p.job, await p.result, p.index);
  };
  for (const [index, job] of jobs.entries()) {
    const queued = await steps.queue(job, index);
    let result: Promise<R>;
    try {
      await finishPending();
      await steps.host?.(job, index);
    } finally {
      // also when the host work failed: the read frees the job's buffers
      result = queued.read();
      result.catch(() => {}); // a failure is thrown where it is awaited
    }
    pending = { job, index, result };
  }
  await finishPending();
}
