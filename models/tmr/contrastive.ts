/**
 * TMR's contrastive loss (Mathux/TMR, `src/model/losses.py` `InfoNCE_with_filtering`, with the
 * `configs/model/tmr.yaml` values temperature 0.1, threshold_selfsim 0.8), on the host in float64
 * with its gradient w.r.t. both embedding batches (B is a batch of pairs: small).
 *
 * For x (B, C) (TMR passes the text latents) and y (B, C) (motion latents):
 *
 *   S[i, j] = cos(x_i, y_j) / temperature          cos via x / max(|x|, 1e-12) (F.normalize)
 *   S[i, j] = -inf  for i != j when filtering and  e_i . e_j > 2 * threshold - 1
 *   loss    = (CE(S, diag) + CE(S^T, diag)) / 2     cross-entropy averaged over the B rows
 *
 * The filter removes false negatives: pairs of different samples whose sentence embeddings
 * `e` (TMR: all-mpnet-base-v2, unit rows) are near-duplicates, so neither counts as the other's
 * negative. TMR maps the [0, 1] threshold to a cosine with `2 t - 1` and compares the raw dot
 * products, as here. TMR subtracts the diagonal before comparing, so the positives (diagonal)
 * are kept for thresholds of at least 0.5; below 0.5 TMR would mask them too and return an
 * infinite loss, so such thresholds are rejected. A threshold of 0 (or null), or no sentence
 * embeddings, disables the filter, as in TMR.
 * @module
 */

/** Options of {@linkcode tmrInfoNce}. */
export interface TmrInfoNceOptions {
  /** Softmax temperature; TMR's config uses 0.1 (the class default is 0.7). Default 0.1. */
  temperature?: number;
  /** `threshold_selfsim` in [0.5, 1], or 0/null for no filtering. Default 0.8. */
  threshold?: number | null;
  /** Sentence embeddings (B, E), row-major; null or absent disables the filter. */
  sentEmb?: ArrayLike<number> | null;
  /** E, the width of `sentEmb` (needed with `sentEmb`). */
  sentDim?: number;
}

/** Loss value and gradients. */
export interface TmrInfoNceResult {
  loss: number;
  dx: Float64Array; // (B, C) d loss / d x
  dy: Float64Array; // (B, C) d loss / d y
  /** Number of (i, j) pairs masked out by the filter. */
  filtered: number;
}

/** F.normalize's lower bound on the norm. */
const NORM_EPS = 1e-12;

/** Rows of `v` (B, C) divided by max(norm, 1e-12); returns the unit rows and the divisors. */
function normalizeRows(v: ArrayLike<number>, B: number, C: number) {
  const unit = new Float64Array(B * C); // (B, C)
  const div = new Float64Array(B); // (B)
  for (let i = 0; i < B; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += v[i * C + c] * v[i * C + c];
    div[i] = Math.max(Math.sqrt(s), NORM_EPS);
    for (let c = 0; c < C; c++) unit[i * C + c] = v[i * C + c] / div[i];
  }
  return { unit, div };
}

/** d v from d unit for unit = v / max(|v|, eps): project out the radial part unless clamped. */
function normalizeBackward(dUnit: Float64Array, unit: Float64Array, div: Float64Array, C: number) {
  const B = div.length;
  const dv = new Float64Array(B * C); // (B, C)
  for (let i = 0; i < B; i++) {
    const clamped = div[i] === NORM_EPS;
    let dot = 0;
    if (!clamped) { for (let c = 0; c < C; c++) dot += unit[i * C + c] * dUnit[i * C + c]; }
    for (let c = 0; c < C; c++) {
      dv[i * C + c] = (dUnit[i * C + c] - dot * unit[i * C + c]) / div[i];
    }
  }
  return dv;
}

/**
 * TMR's symmetric InfoNCE between x (B, C) and y (B, C) (matching rows are the positives) and
 * its gradient w.r.t. both; see the module doc.
 */
export function tmrInfoNce(
  x: ArrayLike<number>, // (B, C)
  y: ArrayLike<number>, // (B, C)
  B: number,
  C: number,
  opts: TmrInfoNceOptions = {},
): TmrInfoNceResult {
  const tau = opts.temperature ?? 0.1;
  const threshold = opts.threshold === undefined ? 0.8 : opts.threshold;
  if (!Number.isInteger(B) || B <= 0 || !Number.isInteger(C) || C <= 0) {
    throw new RangeError(`Cannot compute TMR InfoNCE: B ${B} and C ${C} must be positive integers`);
  }
  if (x.length < B * C || y.length < B * C) {
    throw new RangeError(
      `Cannot compute TMR InfoNCE: x has ${x.length} and y ${y.length} values, need ${B * C}`,
    );
  }
  if (!(tau > 0)) {
    throw new RangeError(`Cannot compute TMR InfoNCE: temperature must be positive, got ${tau}`);
  }
  if (threshold && !(threshold >= 0.5 && threshold <= 1)) {
    throw new RangeError(
      `Cannot compute TMR InfoNCE: threshold must be in [0.5, 1] or 0 to disable, got ` +
        `${threshold} (below 0.5 the positives themselves would be masked)`,
    );
  }

  // Filter mask (B, B): true = pair removed.
  const masked = new Uint8Array(B * B);
  let filtered = 0;
  const e = opts.sentEmb ?? null;
  if (e !== null && threshold) {
    const E = opts.sentDim ?? 0;
    if (!Number.isInteger(E) || E <= 0 || e.length < B * E) {
      throw new RangeError(
        `Cannot compute TMR InfoNCE: sentEmb needs sentDim > 0 and ${B} rows, got sentDim ` +
          `${E} and ${e.length} values`,
      );
    }
    const real = 2 * threshold - 1;
    for (let i = 0; i < B; i++) {
      for (let j = 0; j < B; j++) {
        if (i === j) continue;
        let s = 0;
        for (let k = 0; k < E; k++) s += e[i * E + k] * e[j * E + k];
        if (s > real) {
          masked[i * B + j] = 1;
          filtered++;
        }
      }
    }
  }

  const nx = normalizeRows(x, B, C), ny = normalizeRows(y, B, C);
  const S = new Float64Array(B * B); // (B, B) logits
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < B; j++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += nx.unit[i * C + c] * ny.unit[j * C + c];
      S[i * B + j] = masked[i * B + j] ? -Infinity : s / tau;
    }
  }

  // Softmax over rows (CE(S)) and over columns (CE(S^T)); masked entries get probability 0.
  // dS = (P_row - I) / (2B) + (P_col - I) / (2B).
  const dS = new Float64Array(B * B); // (B, B)
  let loss = 0;
  for (let pass = 0; pass < 2; pass++) {
    // pass 0: row i over j; pass 1: column i over j (S transposed)
    const at = (i: number, j: number) => (pass === 0 ? i * B + j : j * B + i);
    for (let i = 0; i < B; i++) {
      let max = -Infinity;
      for (let j = 0; j < B; j++) max = Math.max(max, S[at(i, j)]);
      let sum = 0;
      for (let j = 0; j < B; j++) sum += Math.exp(S[at(i, j)] - max);
      const lse = max + Math.log(sum);
      loss += (lse - S[at(i, i)]) / (2 * B);
      for (let j = 0; j < B; j++) {
        const p = Math.exp(S[at(i, j)] - lse);
        dS[at(i, j)] += (p - (i === j ? 1 : 0)) / (2 * B);
      }
    }
  }

  // S = xn yn^T / tau: dxn = dS yn / tau, dyn = dS^T xn / tau.
  const dxn = new Float64Array(B * C), dyn = new Float64Array(B * C); // (B, C)
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < B; j++) {
      const g = dS[i * B + j] / tau;
      if (g === 0) continue;
      for (let c = 0; c < C; c++) {
        dxn[i * C + c] += g * ny.unit[j * C + c];
        dyn[j * C + c] += g * nx.unit[i * C + c];
      }
    }
  }
  return {
    loss,
    dx: normalizeBackward(dxn, nx.unit, nx.div, C),
    dy: normalizeBackward(dyn, ny.unit, ny.div, C),
    filtered,
  };
}
