/**
 * Symmetric eigendecomposition in float64: Householder reduction to tridiagonal form followed by
 * the implicit QL iteration with Wilkinson-style shifts (Golub & Van Loan, "Matrix Computations",
 * §8.3; Wilkinson & Reinsch, "Handbook for Automatic Computation II", tred2/tql2). The FID needs
 * it twice at D = 512: once with eigenvectors (the square root of a covariance) and once for the
 * eigenvalues alone, which skips the O(D^3) vector work.
 */

/** Eigenvalues in ascending order, and optionally the matching orthonormal eigenvectors. */
export interface SymmetricEigen {
  /** (n) ascending eigenvalues. */
  values: Float64Array;
  /** (n, n) row-major; row i is the unit eigenvector of `values[i]`. Absent when not asked for. */
  vectors?: Float64Array;
}

/** Limit on QL sweeps per eigenvalue; convergence is cubic, so 60 is never hit by sane input. */
const MAX_SWEEPS = 60;
/**
 * Sweeps after which an off-diagonal also counts as negligible against the matrix's norm. Full-rank
 * covariances converge on the local test within 6 sweeps (FID sizes, measured); a rank-deficient
 * one (fewer samples than dimensions) never does: its null-space entries are rounding noise of the
 * large eigenvalues' scale, which the local test measures against themselves.
 */
const LOCAL_SWEEPS = 10;

/**
 * Eigendecomposition of the symmetric matrix `a` (n, n), row-major, read only (it is copied).
 * Only the lower triangle is read, so a matrix symmetric up to rounding is fine.
 *
 * @param a (n, n) symmetric matrix, row-major.
 * @param n the order.
 * @param opts `vectors: true` also returns the eigenvectors (rows of `vectors`).
 * @returns ascending eigenvalues and, if asked for, eigenvectors with `A v_i = lambda_i v_i`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { symmetricEigen } from "./linalg.ts";
 * const { values } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
 * assert.ok(Math.abs(values[0] - 1) < 1e-12 && Math.abs(values[1] - 3) < 1e-12);
 * ```
 */
export function symmetricEigen(
  a: ArrayLike<number>,
  n: number,
  opts: { vectors?: boolean } = {},
): SymmetricEigen {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Cannot decompose matrix: order ${n} is not a positive integer`);
  }
  if (a.length !== n * n) {
    throw new RangeError(`Cannot decompose matrix: ${a.length} elements do not make a ${n}x${n}`);
  }
  const w = new Float64Array(n * n); // (n, n) working copy; only its lower triangle is used
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = a[i * n + j];
      if (!Number.isFinite(v)) {
        throw new RangeError(`Cannot decompose matrix: element (${i}, ${j}) is ${v}`);
      }
      w[i * n + j] = v;
    }
  }
  const diag = new Float64Array(n); // (n) tridiagonal diagonal
  const off = new Float64Array(n); // (n) off[i] couples rows i and i+1; off[n-1] = 0
  const wantVectors = opts.vectors ?? false;
  // (n, n) row i = column i of Q, so that QL rotations touch two contiguous rows.
  const z = tridiagonalise(w, n, diag, off, wantVectors);
  tridiagonalQl(diag, off, n, z);
  return sortAscending(diag, z, n);
}

/**
 * Householder reduction `A = Q T Q^T` in place on the lower triangle of `w` (n, n). Step k reflects rows and columns
 * k+1..n-1 with `H = I - 2 v v^T` (|v| = 1) so that column k is zero below its subdiagonal.
 * Returns Q^T (n, n) when asked for (row i = column i of Q), else undefined.
 */
function tridiagonalise(
  w: Float64Array,
  n: number,
  diag: Float64Array,
  off: Float64Array,
  wantVectors: boolean,
): Float64Array | undefined {
  const reflectors: (Float64Array | null)[] = []; // step k: (n - k - 1) unit vector or null
  const p = new Float64Array(n); // (n) A22 v
  for (let k = 0; k < n - 2; k++) {
    const m0 = k + 1; // first row of the trailing block
    const x0 = w[m0 * n + k];
    let below2 = 0;
    for (let i = m0 + 1; i < n; i++) below2 += w[i * n + k] * w[i * n + k];
    // Already tridiagonal in this column: nothing to reflect.
    if (below2 === 0) {
      off[k] = x0;
      reflectors.push(null);
      continue;
    }
    // alpha has the sign opposite to x0 so that x0 - alpha does not cancel.
    const norm = Math.sqrt(x0 * x0 + below2);
    const alpha = x0 >= 0 ? -norm : norm;
    const m = n - m0;
    const v = new Float64Array(m); // (m) Householder vector, normalised below
    v[0] = x0 - alpha;
    for (let i = 1; i < m; i++) v[i] = w[(m0 + i) * n + k];
    let vn = 0;
    for (let i = 0; i < m; i++) vn += v[i] * v[i];
    vn = Math.sqrt(vn);
    for (let i = 0; i < m; i++) v[i] /= vn;
    // p = A22 v, K = v^T p, q = p - K v; A22 <- A22 - 2 v q^T - 2 q v^T (= H A22 H).
    // Only the lower triangle of A22 is read and updated: half the work of the full update.
    p.fill(0, 0, m);
    for (let i = 0; i < m; i++) {
      const row = (m0 + i) * n + m0, vi = v[i];
      let s = 0;
      for (let j = 0; j < i; j++) {
        const aij = w[row + j];
        s += aij * v[j];
        p[j] += aij * vi;
      }
      p[i] += s + w[row + i] * vi;
    }
    let kk = 0;
    for (let i = 0; i < m; i++) kk += v[i] * p[i];
    for (let i = 0; i < m; i++) p[i] -= kk * v[i];
    for (let i = 0; i < m; i++) {
      const row = (m0 + i) * n + m0;
      const vi2 = 2 * v[i], qi2 = 2 * p[i];
      for (let j = 0; j <= i; j++) w[row + j] -= vi2 * p[j] + qi2 * v[j];
    }
    off[k] = alpha;
    reflectors.push(v);
  }
  for (let i = 0; i < n; i++) diag[i] = w[i * n + i];
  if (n >= 2) off[n - 2] = w[(n - 1) * n + (n - 2)];
  off[n - 1] = 0;
  if (!wantVectors) return undefined;

  // Q = H_0 H_1 ... H_{n-3}, accumulated backwards: Q <- H_k Q touches rows/cols k+1.. only.
  const q = new Float64Array(n * n); // (n, n) row-major Q
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const t = new Float64Array(n); // (n) v^T Q restricted to the trailing columns
  for (let k = reflectors.length - 1; k >= 0; k--) {
    const v = reflectors[k];
    if (v === null) continue;
    const m0 = k + 1, m = n - m0;
    t.fill(0);
    for (let i = 0; i < m; i++) {
      const row = (m0 + i) * n + m0, vi = v[i];
      for (let j = 0; j < m; j++) t[j] += vi * q[row + j];
    }
    for (let i = 0; i < m; i++) {
      const row = (m0 + i) * n + m0, vi2 = 2 * v[i];
      for (let j = 0; j < m; j++) q[row + j] -= vi2 * t[j];
    }
  }
  const qt = new Float64Array(n * n); // (n, n) Q^T
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) qt[j * n + i] = q[i * n + j];
  return qt;
}

/**
 * Implicit QL on the tridiagonal (diag, off) in place: on return `diag` holds the eigenvalues
 * (unsorted). Each plane rotation of rows i, i+1 is also applied to the rows of `z` (n, n) when
 * given, turning Q^T into the eigenvector rows.
 */
function tridiagonalQl(
  diag: Float64Array,
  off: Float64Array,
  n: number,
  z: Float64Array | undefined,
): void {
  // The tridiagonal's norm (max row sum): the reduction to it is accurate to EPSILON times this.
  let norm = 0;
  for (let i = 0; i < n; i++) {
    norm = Math.max(
      norm,
      Math.abs(diag[i]) + Math.abs(off[i]) + (i > 0 ? Math.abs(off[i - 1]) : 0),
    );
  }
  for (let l = 0; l < n; l++) {
    for (let sweep = 0;; sweep++) {
      // Split where an off-diagonal is negligible against its two diagonal neighbours, or, once
      // that has failed for LOCAL_SWEEPS sweeps, against the norm (rounding noise of the matrix).
      const floor = sweep >= LOCAL_SWEEPS ? Number.EPSILON * norm : 0;
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(diag[m]) + Math.abs(diag[m + 1]);
        const e = Math.abs(off[m]);
        if (e <= Number.EPSILON * dd || e <= floor) break;
      }
      if (m === l) break;
      if (sweep === MAX_SWEEPS) {
        throw new RangeError(
          `Cannot decompose matrix: QL did not converge for eigenvalue ${l} in ${MAX_SWEEPS} sweeps`,
        );
      }
      // Shift from the leading 2x2 block, expressed so that it does not overflow.
      let g = (diag[l + 1] - diag[l]) / (2 * off[l]);
      let r = Math.hypot(g, 1);
      g = diag[m] - diag[l] + off[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * off[i], b = c * off[i];
        r = Math.hypot(f, g);
        off[i + 1] = r;
        if (r === 0) {
          // Underflow: the block splits here; undo the pending shift and sweep again.
          diag[i + 1] -= p;
          off[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = diag[i + 1] - p;
        r = (diag[i] - g) * s + 2 * c * b;
        p = s * r;
        diag[i + 1] = g + p;
        g = c * r - b;
        if (z !== undefined) {
          const ri = i * n, rj = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const zj = z[rj + k], zi = z[ri + k];
            z[rj + k] = s * zi + c * zj;
            z[ri + k] = c * zi - s * zj;
          }
        }
      }
      if (r === 0 && i >= l) continue;
      diag[l] -= p;
      off[l] = g;
      off[m] = 0;
    }
  }
}

/** Sorts eigenvalues ascending, permuting the eigenvector rows alike. */
function sortAscending(
  diag: Float64Array,
  z: Float64Array | undefined,
  n: number,
): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => diag[x] - diag[y]);
  const values = new Float64Array(n); // (n)
  for (let i = 0; i < n; i++) values[i] = diag[order[i]];
  if (z === undefined) return { values };
  const vectors = new Float64Array(n * n); // (n, n) row i = eigenvector of values[i]
  for (let i = 0; i < n; i++) vectors.set(z.subarray(order[i] * n, order[i] * n + n), i * n);
  return { values, vectors };
}
