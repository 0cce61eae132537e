/**
 * The MDM denoiser on the WebGPU backend against PyTorch's golden output and gradients (small
 * config only: the software adapter is slow). Skipped, visibly, where no adapter exists.
 */
import { gpuIgnore } from "../../kernels/webgpu/probe.ts";
import { createWebGpuBackend } from "../../kernels/webgpu_backend.ts";
import { MdmDenoiser } from "../../models/mdm/mdm.ts";
import { assertClose } from "../_util.ts";
import {
  f32,
  FIXTURE_B as B,
  FIXTURE_T as T,
  fixtureAdapterNames,
  fixtureConfig,
  fixtureInput,
  fixtureWeights,
  loraFixtureModel,
  readFixture,
} from "./_mdm_fixture.ts";

Deno.test({
  name: "MdmDenoiser on WebGPU matches PyTorch's outputs and gradients (small configs, LoRA)",
  ignore: gpuIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const be = await createWebGpuBackend();
    try {
      for (const id of ["a", "b"]) {
        const cfg = await fixtureConfig(id);
        const fx = await readFixture(`mdm_${id}.safetensors`);
        const model = MdmDenoiser.fromStateDict(be, await fixtureWeights(id), cfg, {
          training: "full",
          maxBatch: B,
          maxFrames: T,
        });
        model.zeroGrad();
        const out = await be.read(model.forward(fixtureInput(be, fx, cfg.nfeats), B, T));
        // Tolerances: float32 with other reduction orders (tiled GEMM, parallel softmax).
        assertClose(out, f32(fx, "output"), 1e-4, 1e-3, `mdm_${id} output`);
        model.backward(be.tensor([B, T, cfg.nfeats], f32(fx, "R")));
        for (const [name, grad] of model.grads) {
          assertClose(await be.read(grad), f32(fx, `grad.${name}`), 1e-3, 1e-3, `grad ${name}`);
        }
        model.destroy();
      }
      const { cfg, fx, model } = await loraFixtureModel(be, { maxBatch: B, maxFrames: T });
      model.zeroGrad();
      const out = await be.read(model.forward(fixtureInput(be, fx, cfg.nfeats), B, T));
      assertClose(out, f32(fx, "output"), 1e-4, 1e-3, "LoRA output");
      model.backward(be.tensor([B, T, cfg.nfeats], f32(fx, "R")));
      const names = fixtureAdapterNames(cfg.layers, "grad.lora");
      for (const p of model.trainable()) {
        assertClose(await be.read(p.grad), f32(fx, names.get(p.name)!), 1e-3, 1e-3, p.name);
      }
      model.destroy();
    } finally {
      be.destroy();
    }
  },
});
