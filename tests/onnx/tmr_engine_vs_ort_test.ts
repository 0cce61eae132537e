/**
 * The same TMR weights through our engine (`TmrEncoder`, CPU backend) and through
 * onnxruntime-web (`tmrEncoderToOnnx`, WASM): mu must agree on random inputs of varied lengths.
 * Both sides are float32 with different summation orders: atol 1e-5 + rtol 1e-4.
 */
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { TmrEncoder } from "../../models/tmr/encoder.ts";
import { createSession } from "../../onnx/session.ts";
import { tmrEncoderToOnnx } from "../../onnx/tmr_encoder.ts";
import { assertClose } from "../_util.ts";
import { TMR_FIXTURE_CONFIGS, tmrFixtureWeights } from "../models/_tmr_fixture.ts";

Deno.test("TmrEncoder on the engine and its ONNX conversion on onnxruntime-web agree", async () => {
  const be = createCpuBackend();
  for (const side of ["motion", "text"] as const) {
    const cfg = TMR_FIXTURE_CONFIGS[side], sd = await tmrFixtureWeights(side);
    const B = 5, T = 13, F = cfg.nfeats, C = cfg.latentDim;
    const lengths = Int32Array.from([13, 1, 7, 12, 4]); // (B), unsorted, one of length 1
    const rng = new Rng(21, side === "motion" ? 1 : 2);
    const x = Float32Array.from({ length: B * T * F }, () => rng.normal()); // (B, T, F)
    const enc = TmrEncoder.fromStateDict(be, sd, cfg, { maxBatch: B });
    const xt = be.tensor([B, T, F], x);
    const ours = (await be.read(enc.forward(xt, lengths, B, T).mu)).slice(0, B * C);
    const session = await createSession(tmrEncoderToOnnx(sd));
    try {
      const out = await session.run({
        x: { data: x, dims: [B, T, F] },
        lengths: { data: BigInt64Array.from(lengths, (v) => BigInt(v)), dims: [B] },
      });
      assertClose(out.mu.data as Float32Array, ours, 1e-5, 1e-4, `${side} mu`);
    } finally {
      await session.release();
      enc.destroy();
      be.free(xt);
    }
  }
  be.destroy();
});
