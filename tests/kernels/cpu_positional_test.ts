import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { positionalTable } from "../../kernels/positional/cpu.ts";
import { assertClose, hasTorch, runPython, tempDir } from "../_util.ts";

Deno.test("positionalTable() has MDM's sin/cos layout", () => {
  const C = 8, L = 3;
  const pe = new Float32Array(L * C);
  positionalTable(pe, L, C);
  assert.deepEqual([...pe.subarray(0, C)], [0, 1, 0, 1, 0, 1, 0, 1], "position 0");
  // Row 1: sin/cos of exp(-2i ln(10000)/8) = 1, 0.1, 0.01, 0.001.
  const row1 = [1, 0.1, 0.01, 0.001].flatMap((w) => [Math.sin(w), Math.cos(w)]);
  assertClose(pe.subarray(C, 2 * C), row1, 1e-7, 1e-6, "position 1");
  assertClose([pe[2 * C + 2]], [Math.sin(0.2)], 1e-7, 1e-6, "pe[2, 2]");
});

Deno.test("positionalTable() stays within float32 rounding of the float64 formula", () => {
  const C = 512, L = 200;
  const pe = new Float32Array(L * C);
  positionalTable(pe, L, C);
  const exact = new Float64Array(L * C);
  for (let p = 0; p < L; p++) {
    for (let i = 0; i < C / 2; i++) {
      const a = p * Math.exp((-2 * i * Math.log(10000)) / C);
      exact[p * C + 2 * i] = Math.sin(a);
      exact[p * C + 2 * i + 1] = Math.cos(a);
    }
  }
  // float32 angles near 200 are off by up to ulp(200)/2 = 7.6e-6, plus the rounded div_term.
  assertClose(pe, exact, 3e-5, 0, "pe");
});

Deno.test("cpu backend positionalTable() rejects an odd C", () => {
  const be = createCpuBackend();
  const out = be.tensor([4, 5]);
  assert.throws(() => be.positionalTable(out, 4, 5), /C must be even, got 5/);
  const ok = be.tensor([4, 6]);
  assert.throws(() => be.positionalTable(ok, 5, 6), /"out" has 24 elements, needs 30/);
});

const TORCH_PE = `
import sys, numpy as np, torch
L, C = 5000, 512
pe = torch.zeros(L, C)
position = torch.arange(0, L, dtype=torch.float).unsqueeze(1)
div_term = torch.exp(torch.arange(0, C, 2).float() * (-np.log(10000.0) / C))
pe[:, 0::2] = torch.sin(position * div_term)
pe[:, 1::2] = torch.cos(position * div_term)
pe.numpy().astype("<f4").tofile(sys.argv[1])
`;

Deno.test({
  name: "positionalTable() matches MDM's PositionalEncoding buffer from torch",
  ignore: !hasTorch,
  async fn() {
    const L = 5000, C = 512;
    const dir = await tempDir();
    let torch: Float32Array;
    try {
      await runPython(["-c", TORCH_PE, `${dir.path}/pe.f32`]);
      torch = new Float32Array((await Deno.readFile(`${dir.path}/pe.f32`)).buffer);
    } finally {
      await dir.remove();
    }
    const pe = new Float32Array(L * C);
    positionalTable(pe, L, C);
    // torch's vectorised exp is not correctly rounded: ~10% of div_term values differ by an ulp,
    // which p multiplies. Measured: 7.6e-6 max for p < 200, 2.4e-4 up to p = 5000.
    assertClose(pe.subarray(0, 200 * C), torch.subarray(0, 200 * C), 1e-5, 0, "pe[:200]");
    assertClose(pe, torch, 3e-4, 0, "pe");
  },
});
