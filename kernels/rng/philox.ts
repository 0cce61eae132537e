/**
 * Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): the one
 * counter-based generator of the project. Every random number is addressed by
 * (seed, stream, counter), so the CPU and the WGSL port (kernels/rng/wgsl.ts) draw the same bits,
 * and a rerun draws the same numbers. Host-side users (data crops, caption choice, shuffles) take
 * an `Rng` on their own stream; its position can be saved and restored for resumable runs.
 */

const M0 = 0xD2511F53;
const M1 = 0xCD9E8D57;
const W0 = 0x9E3779B9;
const W1 = 0xBB67AE85;

/** High 32 bits of the 64-bit product of two u32 values. */
function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff, aHi = a >>> 16;
  const bLo = b & 0xffff, bHi = b >>> 16;
  const lolo = aLo * bLo;
  const hilo = aHi * bLo;
  const lohi = aLo * bHi;
  const hihi = aHi * bHi;
  const mid = (lolo >>> 16) + (hilo & 0xffff) + (lohi & 0xffff);
  return (hihi + (hilo >>> 16) + (lohi >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Philox-4x32-10 block: counter (c0..c3) and key (k0, k1), all u32. Writes 4 u32 into `out`.
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi32(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** u32 → uniform float32 in [0, 1): the top 24 bits, exactly representable. */
export function u32ToUniform(u: number): number {
  return (u >>> 8) * (1 / 16777216);
}

/** u32 → uniform in (0, 1]: safe for log() in Box-Muller. */
export function u32ToUniformOpen0(u: number): number {
  return ((u >>> 8) + 1) * (1 / 16777216);
}

/**
 * Standard normals at element indices [offset, offset + n) of stream (seed, stream).
 * Element e lives in Philox block floor(e / 4) (counter = (block, 0, 0, 0), key = (seed, stream)),
 * lane e % 4; lanes (0, 1) and (2, 3) are Box-Muller pairs: r = sqrt(-2 ln u_a),
 * z_a = r cos(2 pi u_b), z_b = r sin(2 pi u_b), with u_a in (0, 1], u_b in [0, 1). Computed in
 * float64 and rounded to float32 (the WGSL port computes in float32: the same to ~1e-6).
 */
export function randnHost(
  out: Float32Array,
  n: number,
  seed: number,
  stream: number,
  offset: number,
): void {
  const block = new Uint32Array(4);
  const z = new Float64Array(4); // the block's four normals, computed once per block
  let cached = -1;
  for (let i = 0; i < n; i++) {
    const e = offset + i;
    const b = Math.floor(e / 4);
    if (b !== cached) {
      philox4x32(b >>> 0, 0, 0, 0, seed >>> 0, stream >>> 0, block);
      for (let pair = 0; pair < 4; pair += 2) {
        const r = Math.sqrt(-2 * Math.log(u32ToUniformOpen0(block[pair])));
        const theta = 2 * Math.PI * u32ToUniform(block[pair + 1]);
        z[pair] = r * Math.cos(theta);
        z[pair + 1] = r * Math.sin(theta);
      }
      cached = b;
    }
    out[i] = z[e % 4];
  }
}

/**
 * A host-side stream of random numbers at (seed, stream), read sequentially. `position` counts
 * u32 draws and can be saved and restored, so a resumed run continues the same sequence.
 */
export class Rng {
  readonly seed: number;
  readonly stream: number;
  position = 0;
  #block = new Uint32Array(4);
  #cached = -1;

  constructor(seed: number, stream = 0) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`Cannot create Rng: seed ${seed} is not a u32 integer`);
    }
    this.seed = seed >>> 0;
    this.stream = stream >>> 0;
  }

  /** The next raw u32. */
  nextU32(): number {
    const b = Math.floor(this.position / 4);
    if (b !== this.#cached) {
      philox4x32(b >>> 0, (b / 4294967296) >>> 0, 0, 0, this.seed, this.stream, this.#block);
      this.#cached = b;
    }
    return this.#block[this.position++ % 4];
  }

  /** Uniform in [0, 1) with 24 bits. */
  uniform(): number {
    return u32ToUniform(this.nextU32());
  }

  /** Uniform integer in [0, n), n <= 2^32 (rejection sampling: no modulo bias). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int() needs n >= 1, got ${n}`);
    const limit = Math.floor(4294967296 / n) * n;
    for (;;) {
      const u = this.nextU32();
      if (u < limit) return u % n;
    }
  }

  /** Standard normal (Box-Muller on two u32 draws, float64). */
  normal(): number {
    const a = u32ToUniformOpen0(this.nextU32());
    const b = u32ToUniform(this.nextU32());
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
  }

  /** One element of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Rng.pick() needs a non-empty array");
    return items[this.int(items.length)];
  }

  /** Fisher-Yates shuffle in place; returns `items`. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }
}
