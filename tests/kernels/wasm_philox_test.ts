import assert from "node:assert/strict";
import { randnHost, u32ToUniform, u32ToUniformOpen0 } from "../../kernels/rng/philox.ts";
import {
  hostRedoneBlocks,
  NORMALS_BOUND,
  philoxInstance,
  randnF32,
} from "../../kernels/wasm/philox_f32.ts";

Deno.test("randnF32() gives the bits of randnHost() for every length, offset and key", () => {
  const keys = [[0, 0], [7, 0x47520000], [0xffffffff, 0xffffffff], [12345, 3]];
  // lengths around the block size and over one 4096-block chunk; offsets at every lane
  const lengths = [0, 1, 2, 3, 4, 5, 9, 16384 + 7, 40000];
  const offsets = [0, 1, 2, 3, 4, 1001, 0xffffffff - 40000, 0xffffffff];
  for (const [seed, stream] of keys) {
    for (const n of lengths) {
      for (const offset of offsets) {
        const ours = new Float32Array(n + 2).fill(7), ref = ours.slice(); // 2 past n untouched
        randnF32(ours, n, seed, stream, offset);
        randnHost(ref, n, seed, stream, offset);
        assert.deepEqual(ours, ref, `seed ${seed}, stream ${stream}, n ${n}, offset ${offset}`);
      }
    }
  }
});

/** Distance in float64 ulps between two numbers of the same sign (Infinity when signs differ). */
function ulpDistance(a: number, b: number, words: Int32Array, f: Float64Array): number {
  if (a === b) return 0;
  if (Math.sign(a) !== Math.sign(b) || Object.is(a, -0) !== Object.is(b, -0)) return Infinity;
  f[0] = a;
  f[1] = b;
  return Math.abs((words[1] - words[3]) * 4294967296 + ((words[0] >>> 0) - (words[2] >>> 0)));
}

Deno.test("the normals kernel's radius, cos and sin agree with Math on all 2^24 inputs each", () => {
  // u_a = (m + 1) 2^-24 and theta = (2 pi)(m 2^-24) take 2^24 values each: every one is checked,
  // so the bound the kernel's rounding test relies on is a fact, not an estimate
  const w = philoxInstance();
  const chunk = 4096; // the module's memory holds 4096 pairs of (cos, sin) pairs
  const out = new Float64Array(w.memory.buffer, 0, 2 * chunk);
  const f = new Float64Array(2), words = new Int32Array(f.buffer);
  let radius = 0, cos = 0, sin = 0;
  for (let first = 0; first < 2 ** 24; first += chunk) {
    w.radii(first, chunk, 0);
    for (let i = 0; i < chunk; i++) {
      const ref = Math.sqrt(-2 * Math.log(u32ToUniformOpen0((first + i) * 256)));
      radius = Math.max(radius, ulpDistance(out[i], ref, words, f));
    }
    w.angles(first, chunk, 0);
    for (let i = 0; i < chunk; i++) {
      const theta = 2 * Math.PI * u32ToUniform((first + i) * 256);
      const pair = i & ~1, lane = i & 1; // per pair of m: cos, cos, sin, sin
      cos = Math.max(cos, ulpDistance(out[2 * pair + lane], Math.cos(theta), words, f));
      sin = Math.max(sin, ulpDistance(out[2 * pair + 2 + lane], Math.sin(theta), words, f));
    }
  }
  // the products r cos, r sin then agree to radius + max(cos, sin) + 1 ulps (2^-52 relative
  // each); the rounding test assumes at most a quarter of its bound
  const ulps = radius + Math.max(cos, sin) + 1;
  assert.ok(ulps * 2 ** -52 <= NORMALS_BOUND / 4, `radius ${radius}, cos ${cos}, sin ${sin} ulps`);
});

Deno.test("the normals kernel lists the blocks it is unsure of, and every other block is exact", () => {
  const w = philoxInstance(), count = 4096, first = 123456;
  const normals = new Float32Array(w.memory.buffer, 0, 4 * count);
  const listedAt = 16 * count, listed = new Uint32Array(w.memory.buffer, listedAt, count);
  const ref = new Float32Array(4 * count);
  randnHost(ref, 4 * count, 5, 6, 4 * first);
  for (const bound of [2 ** -44, 2 ** -16]) {
    const n = w.normals(first, count, 5, 6, 0, listedAt, bound);
    const unsure = new Set(listed.slice(0, n));
    if (bound === 2 ** -16) assert.ok(n > 100, `a loose bound lists many blocks (${n})`);
    for (let j = 0; j < count; j++) {
      if (unsure.has(j)) continue;
      assert.deepEqual(normals.slice(4 * j, 4 * j + 4), ref.slice(4 * j, 4 * j + 4), `block ${j}`);
    }
  }
});

Deno.test("randnF32() redoes the listed blocks with Math: 4M normals equal randnHost()", () => {
  // about one block in 2^17 is listed: these 2^20 blocks have several
  const n = 2 ** 22, ours = new Float32Array(n), ref = new Float32Array(n);
  const before = hostRedoneBlocks;
  randnF32(ours, n, 31, 4, 8);
  assert.ok(hostRedoneBlocks > before, "some blocks were redone on the host");
  randnHost(ref, n, 31, 4, 8);
  assert.deepEqual(ours, ref);
});
