/**
 * Where a GRPO step's GPU time goes: one step of bench/grpo.ts's official case (or the mini one)
 * on WebGPU, timed whole without profiling, then again with a timestamp per dispatch
 * (kernels/webgpu/profiler.ts), printed per kernel name. The profiled GPU time against the
 * unprofiled wall time shows how much of the step the GPU is busy; the rest is host work, reads
 * and gaps between submissions.
 *
 * Usage: `deno run -A bench/webgpu_profile.ts [--mini] [--steps S] [--trained K] [--top N]
 * [--transition-batch P]`
 * (official case: a hardware adapter; `--mini` runs anywhere, llvmpipe included).
 */
import { createWebGpuBackend } from "../kernels/webgpu_backend.ts";
import { grpoStep } from "../train/grpo/grpo_step.ts";
import { grpoBenchContext, miniCase, officialCase } from "./grpo.ts";

function arg(name: string): number | null {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : null;
}

const k = {
  ...(Deno.args.includes("--mini")
    ? miniCase(1)
    : officialCase(arg("--trained"), 1, arg("--steps") ?? 50)),
  transitionBatch: arg("--transition-batch"),
};
const top = arg("--top") ?? 25;
const be = await createWebGpuBackend();
const { ctx, batch, destroy } = grpoBenchContext(be, k);
try {
  await grpoStep(ctx, batch, 0); // warm-up: pipelines, bind groups
  await be.sync();
  const t0 = performance.now();
  await grpoStep(ctx, batch, 1);
  await be.sync();
  const wall = performance.now() - t0;
  if (!be.runtime.startProfile()) {
    throw new Error(`Cannot profile: ${be.describe()} has no timestamp queries`);
  }
  const p0 = performance.now();
  await grpoStep(ctx, batch, 2);
  const kernels = await be.runtime.stopProfile();
  const profiledWall = performance.now() - p0;
  const busy = kernels.reduce((s, t) => s + t.ms, 0);
  const dispatches = kernels.reduce((s, t) => s + t.dispatches, 0);
  console.log(
    `grpo step (${k.name}) on ${be.describe()}: ${k.steps} steps, B ${k.B}, G ${k.G}, ` +
      `${ctx.options.transitionBatch} transitions per forward/backward`,
  );
  console.log(
    `  wall ${wall.toFixed(1)} ms unprofiled | profiled: wall ${profiledWall.toFixed(1)} ms, ` +
      `GPU busy ${busy.toFixed(1)} ms in ${dispatches} dispatches ` +
      `(${(100 * busy / wall).toFixed(0)}% of the unprofiled wall)`,
  );
  console.log(
    `  ${"kernel".padEnd(28)} ${"calls".padStart(7)} ${"ms".padStart(9)}  share  us/call`,
  );
  for (const t of kernels.slice(0, top)) {
    console.log(
      `  ${t.name.padEnd(28)} ${String(t.dispatches).padStart(7)} ${t.ms.toFixed(2).padStart(9)}` +
        `  ${(100 * t.ms / busy).toFixed(1).padStart(4)}%  ${
          (1000 * t.ms / t.dispatches).toFixed(1)
        }`,
    );
  }
} finally {
  destroy();
  be.destroy();
}
