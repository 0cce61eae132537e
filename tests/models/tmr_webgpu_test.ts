/**
 * TmrEncoder on the WebGPU backend against PyTorch's golden outputs and gradients. Skipped,
 * visibly, where no adapter exists.
 */
import { gpuIgnore } from "../../kernels/webgpu/probe.ts";
import { createWebGpuBackend } from "../../kernels/webgpu_backend.ts";
import { TmrEncoder } from "../../models/tmr/encoder.ts";
import { assertClose } from "../_util.ts";
import {
  readTmrFixture,
  tf32,
  TMR_B as B,
  TMR_FIXTURE_CONFIGS,
  TMR_T_MOTION,
  TMR_T_TEXT,
  tmrFixtureWeights,
} from "./_tmr_fixture.ts";

Deno.test({
  name: "TmrEncoder on WebGPU matches PyTorch's mu, logvar and gradients",
  ignore: gpuIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const be = await createWebGpuBackend();
    const fx = await readTmrFixture();
    try {
      for (const [side, T] of [["motion", TMR_T_MOTION], ["text", TMR_T_TEXT]] as const) {
        const cfg = TMR_FIXTURE_CONFIGS[side], C = cfg.latentDim;
        const enc = TmrEncoder.fromStateDict(be, await tmrFixtureWeights(side), cfg, {
          training: true,
          maxBatch: B,
          maxFrames: T,
        });
        enc.zeroGrad();
        const x = be.tensor([B, T, cfg.nfeats], tf32(fx, `${side}.x`));
        const out = enc.forward(x, tf32(fx, `${side}.lengths`), B, T);
        // Tolerances: float32 with other reduction orders (tiled GEMM, parallel softmax).
        const mu = (await be.read(out.mu)).subarray(0, B * C);
        assertClose(mu, tf32(fx, `${side}.mu`), 1e-4, 1e-3, `${side} mu`);
        const logvar = (await be.read(out.logvar!)).subarray(0, B * C);
        assertClose(logvar, tf32(fx, `${side}.logvar`), 1e-4, 1e-3, `${side} logvar`);
        const dx = be.tensor([B, T, cfg.nfeats]);
        enc.backward(be.tensor([B, C], tf32(fx, `loss.dmu_${side}`)), {
          dlogvar: be.tensor([B, C], tf32(fx, `R.${side}_logvar`)),
          dx,
        });
        for (const [name, grad] of enc.grads) {
          const want = tf32(fx, `grad.${side}.${name}`);
          assertClose(await be.read(grad), want, 1e-4, 1e-3, `${side} grad ${name}`);
        }
        if (side === "motion") {
          assertClose(await be.read(dx), tf32(fx, "grad.motion.input"), 1e-4, 1e-3, "d input");
        }
        enc.destroy();
      }
    } finally {
      be.destroy();
    }
  },
});
