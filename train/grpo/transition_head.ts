/**
 * The loss head of the trained GRPO transitions: from the squared distances of a transition
 * (`rowSumSqDiff` of x' to the policy, reference and rollout means, and between the policy and
 * reference means) to the clipped GRPO loss, its statistics over the step, and the per-frame
 * scales `rowLogp`, `rowKl` (N*T) of the mean's gradient:
 *
 *   dmean = rowLogp (x' - mean) + rowKl (mean - meanRef)      (per frame, broadcast over F)
 *
 * Two implementations with the formulas of kernels/grpo_loss/transition_wgsl.ts:
 * - `hostTransitionHead` (CPU backend): reads the distances and computes in float64 on the host
 *   (reads cost nothing there);
 * - `deviceTransitionHead` (WebGPU): one dispatch per transition and ONE read per step, so the
 *   GPU queue never drains between transitions.
 * @module
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import { GRPO_STATS, grpoLoss as grpoLossHost, GrpoStat } from "../../kernels/grpo_loss/cpu.ts";
import {
  TRANSITION_STATS,
  transitionKernel,
  TransitionStat,
} from "../../kernels/grpo_loss/transition_wgsl.ts";
import type { WebGpuBackend } from "../../kernels/webgpu_backend.ts";
import type { SamplingStep } from "../../diffusion/plan.ts";
import { logProbFromSqDist, logProbRowScale } from "../../diffusion/transition.ts";

/** Policy-loss statistics accumulated over the trained transitions (means over them). */
export interface UpdateStats {
  loss: number;
  policyLoss: number;
  klPenalty: number;
  meanRatio: number;
  clipFraction: number;
  approxKl: number;
  logpCurrent: number;
  logpRef: number;
  logpOld: number;
}

/** The squared distances of one transition, (N) each, on the engine. */
export interface TransitionDistances {
  /** sum_valid (x' - mean)^2: the current policy. */
  sq: Tensor;
  /** sum_valid (x' - meanRef)^2: the reference. */
  sqRef: Tensor;
  /** sum_valid (x' - meanOld)^2: the rollout (recorded with it). */
  sqOld: Tensor;
  /** sum_valid (mean - meanRef)^2. */
  klSq: Tensor;
}

/** What the head is built from, once per step. */
export interface TransitionHeadSetup {
  be: Backend;
  /** Samples N. */
  lengths: Int32Array; // (N)
  /** Valid elements per sample (the log-prob averaging count). */
  count: ArrayLike<number>; // (N)
  advantages: Float32Array; // (N)
  /** Frames T of the rollout. */
  T: number;
  /** Trained transitions K. */
  K: number;
  clipEpsilon: number;
  klBeta: number;
}

/** One step's loss head. */
export interface TransitionHead {
  /** (N*T) scales of (x' - mean), written by `add`. */
  readonly rowLogp: Tensor;
  /** (N*T) scales of (mean - meanRef), written by `add`. */
  readonly rowKl: Tensor;
  /** Runs the loss of one transition: writes the row scales, accumulates the statistics. */
  add(d: TransitionDistances, step: SamplingStep): Promise<void>;
  /**
   * The statistics accumulated so far; with `extra`, also a host copy of it, read in the same
   * read-back (one GPU round trip for both).
   */
  stats(extra?: Tensor | null): Promise<{ stats: UpdateStats; extra: Float32Array | null }>;
  free(): void;
}

/** The head for `setup.be`: the device head on WebGPU, the host head on the CPU. */
export function transitionHead(setup: TransitionHeadSetup): TransitionHead {
  return setup.be.kind === "cpu" ? hostTransitionHead(setup) : deviceTransitionHead(setup);
}

function emptyStats(): UpdateStats {
  return {
    loss: 0,
    policyLoss: 0,
    klPenalty: 0,
    meanRatio: 0,
    clipFraction: 0,
    approxKl: 0,
    logpCurrent: 0,
    logpRef: 0,
    logpOld: 0,
  };
}

function mean1(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Host head: float64 arithmetic on read-back distances (any backend; the CPU's default). */
export function hostTransitionHead(setup: TransitionHeadSetup): TransitionHead {
  const { be, lengths, count, advantages, T, K } = setup;
  const N = lengths.length;
  const rowLogp = be.tensor([N * T]), rowKl = be.tensor([N * T]);
  const acc = emptyStats();
  const params = { clipEpsilon: setup.clipEpsilon, klBeta: setup.klBeta };
  return {
    rowLogp,
    rowKl,
    async add(d, st) {
      const [sqH, sqRefH, klSqH, oldH] = await Promise.all([
        be.read(d.sq),
        be.read(d.sqRef),
        be.read(d.klSq),
        be.read(d.sqOld),
      ]);
      const logp64 = logProbFromSqDist(sqH, count, st),
        logpOld64 = logProbFromSqDist(oldH, count, st);
      const logpRef = logProbFromSqDist(sqRefH, count, st);
      // The loss sees them rounded to float32, where the engine would hold them.
      const logp = Float32Array.from(logp64), logpOld = Float32Array.from(logpOld64);
      const variance = st.std * st.std;
      const kl = Float32Array.from(klSqH, (v, b) => v / (2 * variance * count[b]));
      const s = new Float64Array(GRPO_STATS), grad = new Float32Array(N); // (N) dloss/dlogp
      grpoLossHost(s, grad, logp, logpOld, advantages, kl, N, params);
      acc.loss += s[GrpoStat.loss] / K;
      acc.policyLoss += s[GrpoStat.policyLoss] / K;
      acc.klPenalty += (params.klBeta * s[GrpoStat.klMean]) / K;
      acc.meanRatio += s[GrpoStat.meanRatio] / K;
      acc.clipFraction += s[GrpoStat.clipFraction] / K;
      acc.approxKl += s[GrpoStat.approxKl] / K;
      acc.logpCurrent += mean1(logp64) / K;
      acc.logpRef += mean1(logpRef) / K;
      acc.logpOld += mean1(logpOld64) / K;
      const gLogp = Float64Array.from(grad, (v) => v / K);
      const gKl = new Float64Array(N).fill(s[GrpoStat.dkl] / K);
      be.write(rowLogp, logProbRowScale(gLogp, lengths, count, st, N, T));
      be.write(rowKl, logProbRowScale(gKl, lengths, count, st, N, T));
    },
    stats: async (extra) => ({ stats: { ...acc }, extra: extra ? await be.read(extra) : null }),
    free() {
      be.free(rowLogp);
      be.free(rowKl);
    },
  };
}

/** Device head: one `grpo_transition` dispatch per transition, one read of the statistics. */
export function deviceTransitionHead(setup: TransitionHeadSetup): TransitionHead {
  if (setup.be.kind !== "webgpu") {
    throw new Error(`The device GRPO loss head needs the WebGPU backend, got ${setup.be.kind}`);
  }
  const gpu = setup.be as WebGpuBackend;
  const { lengths, T, K } = setup;
  const N = lengths.length;
  const valid = new Float32Array(N * T); // (N, T) 1 on valid frames
  for (let b = 0; b < N; b++) valid.fill(1, b * T, b * T + Math.min(lengths[b], T));
  const acc = gpu.tensor([TRANSITION_STATS]);
  const tValid = gpu.tensor([N * T], valid);
  const tCount = gpu.tensor([N], Float32Array.from(setup.count));
  const tAdv = gpu.tensor([N], setup.advantages);
  const rowLogp = gpu.tensor([N * T]), rowKl = gpu.tensor([N * T]);
  const buf = (t: Tensor) => gpu.bufferOf(t);
  return {
    rowLogp,
    rowKl,
    add(d, st) {
      if (!(st.std > 0)) {
        throw new RangeError(`Cannot train transition t=${st.modelT}: it is deterministic`);
      }
      gpu.dispatch(transitionKernel({
        acc: buf(acc),
        rowLogp: buf(rowLogp),
        rowKl: buf(rowKl),
        sq: buf(d.sq),
        sqRef: buf(d.sqRef),
        sqOld: buf(d.sqOld),
        klSq: buf(d.klSq),
        count: buf(tCount),
        adv: buf(tAdv),
        valid: buf(tValid),
      }, {
        N,
        T,
        K,
        std: st.std,
        clipEpsilon: setup.clipEpsilon,
        klBeta: setup.klBeta,
      }));
      return Promise.resolve();
    },
    async stats(extra) {
      const [a, e] = await gpu.readMany(extra ? [acc, extra] : [acc]);
      const at = (k: keyof typeof TransitionStat) => a[TransitionStat[k]];
      const stats = {
        loss: at("loss"),
        policyLoss: at("policyLoss"),
        klPenalty: at("klPenalty"),
        meanRatio: at("meanRatio"),
        clipFraction: at("clipFraction"),
        approxKl: at("approxKl"),
        logpCurrent: at("logpCurrent"),
        logpRef: at("logpRef"),
        logpOld: at("logpOld"),
      };
      return { stats, extra: e ?? null };
    },
    free() {
      for (const t of [acc, tValid, tCount, tAdv, rowLogp, rowKl]) gpu.free(t);
    },
  };
}
