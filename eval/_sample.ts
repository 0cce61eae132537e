/** Private: index sampling shared by diversity and multimodality. */
import type { Rng } from "../kernels/rng/philox.ts";

/**
 * `k` distinct indices from [0, n) in random order, like `np.random.choice(n, k, replace=False)`
 * (a partial Fisher-Yates shuffle; numpy draws different numbers, the law is the same).
 */
export function sampleWithoutReplacement(n: number, k: number, rng: Rng): Int32Array {
  const pool = new Int32Array(n); // (n)
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return pool.slice(0, k);
}
