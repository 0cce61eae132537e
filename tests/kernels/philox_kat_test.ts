import assert from "node:assert/strict";
import { philox4x32, Rng } from "../../kernels/rng/philox.ts";

// Known-answer vectors of Philox-4x32-10 (Random123's kat_vectors): counter, key → output.
const KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0xffffffff, 0xffffffff],
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  ],
  [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    [0xa4093822, 0x299f31d0],
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  ],
];

Deno.test("philox4x32() reproduces the Random123 known-answer vectors", () => {
  const out = new Uint32Array(4);
  for (const [c, k, want] of KAT) {
    philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], out);
    assert.deepEqual(Array.from(out), want);
  }
});

Deno.test("Rng draws block by block from the Philox stream and restores its position", () => {
  const r = new Rng(0, 0);
  const first = [r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()];
  assert.deepEqual(first, KAT[0][2]);
  const p = r.position;
  const next = [r.uniform(), r.int(10), r.normal()];
  r.position = p;
  assert.deepEqual([r.uniform(), r.int(10), r.normal()], next);
  assert.throws(() => new Rng(-1), /seed -1 is not a u32/);
});
