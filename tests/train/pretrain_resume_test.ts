/**
 * Pretraining checkpoints: an interrupted and resumed run equals an uninterrupted one bit for
 * bit; `model{step}.pt` loads with loadMdmStateDict (both `model` and `model_avg`) and torch.load;
 * args.json carries MDM's fields.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { loadMdmStateDict, readArgsJson } from "../../models/checkpoint/mdm_checkpoint.ts";
import { toFloat32 } from "../../models/checkpoint/state_dict.ts";
import { loadTorchFile, nestedStateDict } from "../../models/checkpoint/torch_pt.ts";
import { MdmDenoiser } from "../../models/mdm/mdm.ts";
import { pretrainMdm, type PretrainMdmOptions } from "../../train/pretrain/pretrain_mdm.ts";
import { HashedBagOfWords } from "../../train/pretrain/hashed_bag_of_words.ts";
import { hasTorch, runPython } from "../_util.ts";
import { TINY, tinyMiniDataset } from "./_pretrain_fixture.ts";

const data = await tinyMiniDataset();
const root = await Deno.makeTempDir({ prefix: "motion-grpo-pretrain-runs-" });
const be = createCpuBackend();

function opts(saveDir: string): PretrainMdmOptions {
  return {
    backend: be,
    dataDir: data,
    saveDir,
    ...TINY,
    batchSize: 4,
    numSteps: 6,
    lr: 1e-3,
    seed: 21,
    saveInterval: 3,
    emaDecay: 0.9,
    featurizer: new HashedBagOfWords(16, 21),
  };
}

const full = await pretrainMdm(opts(join(root, "full")));
const first = await pretrainMdm({ ...opts(join(root, "resumed")), stopAtStep: 4 });
const second = await pretrainMdm(opts(join(root, "resumed")));
const ckpt = (dir: string, step = 6) => join(root, dir, `model${String(step).padStart(9, "0")}.pt`);

globalThis.addEventListener("unload", () => {
  Deno.removeSync(data, { recursive: true });
  Deno.removeSync(root, { recursive: true });
});

Deno.test("pretrainMdm() resumed from a checkpoint equals an uninterrupted run bit for bit", async () => {
  assert.equal(full.step, 6);
  assert.deepEqual([first.resumedFrom, first.step, second.resumedFrom, second.step], [0, 4, 4, 6]);
  assert.deepEqual([...first.losses, ...second.losses], full.losses, "the same losses");
  for (const name of ["model000000006.pt", "opt000000006.pt"]) {
    const a = await loadTorchFile(join(root, "full", name));
    const b = await loadTorchFile(join(root, "resumed", name));
    assert.ok(a instanceof Map && b instanceof Map);
    for (const outer of a.keys()) {
      const sa = nestedStateDict(a, outer as string, name),
        sb = nestedStateDict(b, outer as string, name);
      assert.deepEqual([...sb.keys()], [...sa.keys()]);
      for (const [k, t] of sa) {
        assert.deepEqual(toFloat32(sb.get(k)!), toFloat32(t), `${name} ${outer}.${k}`);
      }
    }
  }
});

Deno.test("pretrainMdm() checkpoints load as MDM state dicts with their args.json", async () => {
  const path = ckpt("full");
  const avg = await loadMdmStateDict(path);
  const raw = await loadMdmStateDict(path, { useAvg: false });
  const key = "seqTransEncoder.layers.0.linear1.weight";
  assert.notDeepEqual(toFloat32(avg.get(key)!), toFloat32(raw.get(key)!), "model_avg is the EMA");
  const args = await readArgsJson(path);
  assert.equal(args.latent_dim, 32);
  assert.equal(args.layers, 1);
  assert.equal(args.mask_frames, true);
  assert.equal(args.diffusion_steps, 50);
  assert.equal(args.use_ema, true);
  assert.equal(args.text_encoder_type, "hashed_bow");
  assert.deepEqual(args.raw.text_featurizer, { name: "hashed_bow", dim: 16, seed: 21 });
  const model = MdmDenoiser.fromStateDict(be, avg, full.config, {}, path);
  assert.equal(model.params.size, avg.size);
  model.destroy();
});

Deno.test({
  name: "pretrainMdm() checkpoints load with torch.load",
  ignore: !hasTorch,
  fn: async () => {
    const path = ckpt("full");
    const script = [
      "import sys, torch",
      "ck = torch.load(sys.argv[1], map_location='cpu')",
      "print(sorted(ck.keys()))",
      "sd = ck['model_avg']",
      "print(len(sd), tuple(sd['embed_text.weight'].shape), sd['embed_text.weight'].dtype)",
      "print(repr(float(sd['output_process.poseFinal.bias'].double().sum())))",
    ].join("\n");
    const out = (await runPython(["-c", script, path])).trim().split("\n");
    const sd = await loadMdmStateDict(path);
    assert.equal(out[0], "['model', 'model_avg']");
    // Our loader drops the two pe buffers that torch.load keeps.
    assert.equal(out[1], `${sd.size + 2} (32, 16) torch.float32`);
    const bias = toFloat32(sd.get("output_process.poseFinal.bias")!);
    let sum = 0;
    for (const v of bias) sum += v;
    assert.ok(Math.abs(Number(out[2]) - sum) < 1e-9, `sum ${out[2]} vs ${sum}`);
  },
});
