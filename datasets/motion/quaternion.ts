/**
 * Quaternion and rotation helpers for the HumanML3D motion representation.
 *
 * Conventions follow the public HumanML3D code: quaternions are `(w, x, y, z)` (w first),
 * `qrot(q, v) = v + 2 (w (u × v) + u × (u × v))` with `u = q.xyz`, and the continuous 6D
 * rotation of a matrix is its first two COLUMNS, `[R[:,0], R[:,1]]`.
 *
 * Every function works on flat arrays of N items (`(N, 4)` quaternions, `(N, 3)` vectors,
 * `(N, 9)` row-major matrices, `(N, 6)` 6D rotations) and writes into `out` when given (which may
 * alias an input of the same layout), else into a new Float32Array. Arithmetic is float64.
 *
 * @module
 */

/** A flat float buffer: Float32Array for outputs, Float64Array for internal work. */
export type FloatArray = Float32Array | Float64Array;

function count(a: ArrayLike<number>, width: number, name: string): number {
  if (a.length % width !== 0) {
    throw new RangeError(`Cannot read ${name}: length ${a.length} is not a multiple of ${width}`);
  }
  return a.length / width;
}

function output(out: FloatArray | undefined, n: number, name: string): FloatArray {
  if (out === undefined) return new Float32Array(n);
  if (out.length !== n) {
    throw new RangeError(`Cannot write ${name}: out has length ${out.length}, expected ${n}`);
  }
  return out;
}

/** Hamilton product `q * r` (apply r first, then q). q, r: (N, 4) → (N, 4). */
export function qmul(q: ArrayLike<number>, r: ArrayLike<number>, out?: FloatArray): FloatArray {
  const n = count(q, 4, "q");
  if (r.length !== q.length) throw new RangeError(`Cannot multiply: q has ${n} items, r differs`);
  const o = output(out, n * 4, "qmul");
  for (let i = 0; i < n * 4; i += 4) {
    const w1 = q[i], x1 = q[i + 1], y1 = q[i + 2], z1 = q[i + 3];
    const w2 = r[i], x2 = r[i + 1], y2 = r[i + 2], z2 = r[i + 3];
    o[i] = w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2;
    o[i + 1] = w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2;
    o[i + 2] = w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2;
    o[i + 3] = w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2;
  }
  return o;
}

/** Conjugate `(w, -x, -y, -z)`: the inverse of a unit quaternion. q: (N, 4) → (N, 4). */
export function qinv(q: ArrayLike<number>, out?: FloatArray): FloatArray {
  const n = count(q, 4, "q");
  const o = output(out, n * 4, "qinv");
  for (let i = 0; i < n * 4; i += 4) {
    o[i] = q[i];
    o[i + 1] = -q[i + 1];
    o[i + 2] = -q[i + 2];
    o[i + 3] = -q[i + 3];
  }
  return o;
}

/** Scales each quaternion to unit norm. q: (N, 4) → (N, 4). */
export function qnormalize(q: ArrayLike<number>, out?: FloatArray): FloatArray {
  const n = count(q, 4, "q");
  const o = output(out, n * 4, "qnormalize");
  for (let i = 0; i < n * 4; i += 4) {
    const s = 1 / Math.hypot(q[i], q[i + 1], q[i + 2], q[i + 3]);
    o[i] = q[i] * s;
    o[i + 1] = q[i + 1] * s;
    o[i + 2] = q[i + 2] * s;
    o[i + 3] = q[i + 3] * s;
  }
  return o;
}

/**
 * Rotates vectors by unit quaternions: `v + 2 (w (u × v) + u × (u × v))`.
 * q: (N, 4), v: (N, 3) → (N, 3).
 */
export function qrot(q: ArrayLike<number>, v: ArrayLike<number>, out?: FloatArray): FloatArray {
  const n = count(q, 4, "q");
  if (v.length !== n * 3) throw new RangeError(`Cannot rotate: ${n} quaternions, v differs`);
  const o = output(out, n * 3, "qrot");
  for (let i = 0; i < n; i++) {
    const w = q[4 * i], ux = q[4 * i + 1], uy = q[4 * i + 2], uz = q[4 * i + 3];
    const vx = v[3 * i], vy = v[3 * i + 1], vz = v[3 * i + 2];
    const cx = uy * vz - uz * vy, cy = uz * vx - ux * vz, cz = ux * vy - uy * vx; // u × v
    const ccx = uy * cz - uz * cy, ccy = uz * cx - ux * cz, ccz = ux * cy - uy * cx; // u × (u × v)
    o[3 * i] = vx + 2 * (w * cx + ccx);
    o[3 * i + 1] = vy + 2 * (w * cy + ccy);
    o[3 * i + 2] = vz + 2 * (w * cz + ccz);
  }
  return o;
}

/**
 * The shortest-arc rotation taking direction v0 onto direction v1:
 * `normalize(|v0||v1| + v0·v1, v0 × v1)`. For exactly opposite vectors, where that formula is
 * 0/0 (NaN in the public code), this returns a half turn about an axis perpendicular to v0.
 * v0, v1: (N, 3) → (N, 4).
 */
export function qbetween(
  v0: ArrayLike<number>,
  v1: ArrayLike<number>,
  out?: FloatArray,
): FloatArray {
  const n = count(v0, 3, "v0");
  if (v1.length !== v0.length) throw new RangeError(`Cannot compute qbetween: v1 differs from v0`);
  const o = output(out, n * 4, "qbetween");
  for (let i = 0; i < n; i++) {
    const ax = v0[3 * i], ay = v0[3 * i + 1], az = v0[3 * i + 2];
    const bx = v1[3 * i], by = v1[3 * i + 1], bz = v1[3 * i + 2];
    let x = ay * bz - az * by, y = az * bx - ax * bz, z = ax * by - ay * bx;
    const na = Math.hypot(ax, ay, az), nb = Math.hypot(bx, by, bz);
    let w = na * nb + (ax * bx + ay * by + az * bz);
    let norm = Math.hypot(w, x, y, z);
    if (!(norm > 1e-9 * na * nb)) {
      // Opposite directions: a half turn about any axis perpendicular to v0 works. Take the part
      // of +Y (or of +X when v0 is nearly vertical) perpendicular to v0, so that opposite
      // horizontal facings give a pure yaw.
      const vertical = Math.abs(ay) > 0.9 * na;
      const ex = vertical ? 1 : 0, ey = vertical ? 0 : 1;
      const k = (ax * ex + ay * ey) / (na * na);
      w = 0;
      x = ex - k * ax;
      y = ey - k * ay;
      z = -k * az;
      norm = Math.hypot(x, y, z);
    }
    o[4 * i] = w / norm;
    o[4 * i + 1] = x / norm;
    o[4 * i + 2] = y / norm;
    o[4 * i + 3] = z / norm;
  }
  return o;
}

/** Rotation matrices (row-major) of quaternions, scaled by `2/|q|²`. q: (N, 4) → (N, 9). */
export function quatToMatrix(q: ArrayLike<number>, out?: FloatArray): FloatArray {
  const n = count(q, 4, "q");
  const o = output(out, n * 9, "quatToMatrix");
  for (let i = 0; i < n; i++) {
    const r = q[4 * i], a = q[4 * i + 1], b = q[4 * i + 2], c = q[4 * i + 3];
    const s = 2 / (r * r + a * a + b * b + c * c);
    const m = 9 * i;
    o[m] = 1 - s * (b * b + c * c);
    o[m + 1] = s * (a * b - c * r);
    o[m + 2] = s * (a * c + b * r);
    o[m + 3] = s * (a * b + c * r);
    o[m + 4] = 1 - s * (a * a + c * c);
    o[m + 5] = s * (b * c - a * r);
    o[m + 6] = s * (a * c - b * r);
    o[m + 7] = s * (b * c + a * r);
    o[m + 8] = 1 - s * (a * a + b * b);
  }
  return o;
}

/** Continuous 6D rotation: the first two matrix columns `[R00,R10,R20, R01,R11,R21]`. (N,4)→(N,6). */
export function quatToCont6d(q: ArrayLike<number>, out?: FloatArray): FloatArray {
  const n = count(q, 4, "q");
  const m = quatToMatrix(q, new Float64Array(n * 9)); // (N, 9)
  const o = output(out, n * 6, "quatToCont6d");
  for (let i = 0; i < n; i++) {
    o[6 * i] = m[9 * i];
    o[6 * i + 1] = m[9 * i + 3];
    o[6 * i + 2] = m[9 * i + 6];
    o[6 * i + 3] = m[9 * i + 1];
    o[6 * i + 4] = m[9 * i + 4];
    o[6 * i + 5] = m[9 * i + 7];
  }
  return o;
}

/**
 * Rotation matrices from 6D by Gram–Schmidt: `x = normalize(c[0:3])`,
 * `z = normalize(x × c[3:6])`, `y = z × x`, columns `[x, y, z]`. c: (N, 6) → (N, 9) row-major.
 */
export function cont6dToMatrix(c: ArrayLike<number>, out?: FloatArray): FloatArray {
  const n = count(c, 6, "cont6d");
  const o = output(out, n * 9, "cont6dToMatrix");
  for (let i = 0; i < n; i++) {
    const k = 6 * i;
    const xn = Math.hypot(c[k], c[k + 1], c[k + 2]);
    const xx = c[k] / xn, xy = c[k + 1] / xn, xz = c[k + 2] / xn;
    const yx0 = c[k + 3], yy0 = c[k + 4], yz0 = c[k + 5];
    let zx = xy * yz0 - xz * yy0, zy = xz * yx0 - xx * yz0, zz = xx * yy0 - xy * yx0;
    const zn = Math.hypot(zx, zy, zz);
    zx /= zn;
    zy /= zn;
    zz /= zn;
    const yx = zy * xz - zz * xy, yy = zz * xx - zx * xz, yz = zx * xy - zy * xx;
    const m = 9 * i;
    o[m] = xx;
    o[m + 1] = yx;
    o[m + 2] = zx;
    o[m + 3] = xy;
    o[m + 4] = yy;
    o[m + 5] = zy;
    o[m + 6] = xz;
    o[m + 7] = yz;
    o[m + 8] = zz;
  }
  return o;
}

/** Unit quaternions (w ≥ 0) of rotation matrices (row-major), Shepperd's method. (N,9)→(N,4). */
export function matrixToQuat(m: ArrayLike<number>, out?: FloatArray): FloatArray {
  const n = count(m, 9, "matrix");
  const o = output(out, n * 4, "matrixToQuat");
  for (let i = 0; i < n; i++) {
    const k = 9 * i;
    const m00 = m[k], m01 = m[k + 1], m02 = m[k + 2];
    const m10 = m[k + 3], m11 = m[k + 4], m12 = m[k + 5];
    const m20 = m[k + 6], m21 = m[k + 7], m22 = m[k + 8];
    const tr = m00 + m11 + m22;
    let w: number, x: number, y: number, z: number;
    // Pick the largest of w, x, y, z to divide by, for accuracy near half turns.
    if (tr >= m00 && tr >= m11 && tr >= m22) {
      const s = 2 * Math.sqrt(Math.max(1 + tr, 0));
      w = s / 4;
      x = (m21 - m12) / s;
      y = (m02 - m20) / s;
      z = (m10 - m01) / s;
    } else if (m00 >= m11 && m00 >= m22) {
      const s = 2 * Math.sqrt(Math.max(1 + m00 - m11 - m22, 0));
      w = (m21 - m12) / s;
      x = s / 4;
      y = (m01 + m10) / s;
      z = (m02 + m20) / s;
    } else if (m11 >= m22) {
      const s = 2 * Math.sqrt(Math.max(1 + m11 - m00 - m22, 0));
      w = (m02 - m20) / s;
      x = (m01 + m10) / s;
      y = s / 4;
      z = (m12 + m21) / s;
    } else {
      const s = 2 * Math.sqrt(Math.max(1 + m22 - m00 - m11, 0));
      w = (m10 - m01) / s;
      x = (m02 + m20) / s;
      y = (m12 + m21) / s;
      z = s / 4;
    }
    const sign = w < 0 ? -1 : 1;
    const norm = sign / Math.hypot(w, x, y, z);
    o[4 * i] = w * norm;
    o[4 * i + 1] = x * norm;
    o[4 * i + 2] = y * norm;
    o[4 * i + 3] = z * norm;
  }
  return o;
}

/** Quaternions of 6D rotations (via `cont6dToMatrix`). c: (N, 6) → (N, 4). */
export function cont6dToQuat(c: ArrayLike<number>, out?: FloatArray): FloatArray {
  const n = count(c, 6, "cont6d");
  return matrixToQuat(cont6dToMatrix(c, new Float64Array(n * 9)), out);
}
