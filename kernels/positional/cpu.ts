/**
 * Sinusoidal positional table, CPU twin of MDM's `PositionalEncoding` buffer `pe`, computed in
 * float32 step by step as PyTorch does:
 * `div_term = exp(arange(0, C, 2) * (-ln(10000) / C))`, `pe[p, 2i] = sin(p * div_term[i])`,
 * `pe[p, 2i+1] = cos(p * div_term[i])`. Each float32 operation is rounded with `Math.fround`;
 * PyTorch's vectorised exp/sin/cos may differ from correctly rounded results by an ulp.
 */
import type { FloatArray } from "../gemm/cpu.ts";

// ----------------------------------------------------------------------------------------------
// Positional table: out (maxLen, C), C even

/** Writes the `(maxLen, C)` table into `out`; `C` must be even (as in PyTorch's slicing). */
export function positionalTable(
  out: FloatArray, // (maxLen, C)
  maxLen: number,
  C: number,
): void {
  if (C % 2 !== 0) {
    throw new RangeError(`Cannot build positional table: C must be even, got ${C}`);
  }
  const f = Math.fround;
  // The Python float -ln(10000)/C becomes a float32 scalar when multiplied with a float32 tensor.
  const k = f(-Math.log(10000) / C);
  const div = new Float64Array(C / 2); // (C/2) float32 values
  for (let i = 0; i < C / 2; i++) div[i] = f(Math.exp(f(2 * i * k)));
  for (let p = 0; p < maxLen; p++) {
    for (let i = 0; i < C / 2; i++) {
      const angle = f(p * div[i]);
      out[p * C + 2 * i] = f(Math.sin(angle));
      out[p * C + 2 * i + 1] = f(Math.cos(angle));
    }
  }
}
