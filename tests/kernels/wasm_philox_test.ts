import assert from "node:assert/strict";
import { randnHost } from "../../kernels/rng/philox.ts";
import { randnF32 } from "../../kernels/wasm/philox_f32.ts";

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
