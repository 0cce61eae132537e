/**
 * TMR's retrieval scores (Mathux/TMR, `src/model/tmr.py` `get_sim_matrix`, `get_score_matrix`):
 * cosine similarity of the mu's, and TMR's [0, 1] score `cos / 2 + 0.5`.
 * @module
 */

/**
 * Score matrix (Bx, By) between the rows of x (Bx, C) and y (By, C): `cos(x_i, y_j) / 2 + 0.5`,
 * or the plain cosine when `raw` is true. Norms are clamped at 1e-12 (F.normalize).
 */
export function tmrScoreMatrix(
  x: ArrayLike<number>, // (Bx, C)
  y: ArrayLike<number>, // (By, C)
  C: number,
  raw = false,
): Float64Array {
  if (!Number.isInteger(C) || C <= 0 || x.length % C !== 0 || y.length % C !== 0) {
    throw new RangeError(
      `Cannot compute TMR scores: ${x.length} and ${y.length} values are not whole rows of ${C}`,
    );
  }
  const Bx = x.length / C, By = y.length / C;
  const norm = (v: ArrayLike<number>, i: number) => {
    let s = 0;
    for (let c = 0; c < C; c++) s += v[i * C + c] * v[i * C + c];
    return Math.max(Math.sqrt(s), 1e-12);
  };
  const ny = Float64Array.from({ length: By }, (_, j) => norm(y, j)); // (By)
  const out = new Float64Array(Bx * By); // (Bx, By)
  for (let i = 0; i < Bx; i++) {
    const nx = norm(x, i);
    for (let j = 0; j < By; j++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += x[i * C + c] * y[j * C + c];
      const cos = s / (nx * ny[j]);
      out[i * By + j] = raw ? cos : cos / 2 + 0.5;
    }
  }
  return out;
}
