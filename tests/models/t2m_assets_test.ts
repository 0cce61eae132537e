import assert from "node:assert/strict";
import { join } from "node:path";
import { locateOfficialT2mFiles, T2mAssetError } from "../../models/t2m/assets.ts";

async function touch(root: string, rel: string): Promise<void> {
  const path = join(root, rel);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeFile(path, new Uint8Array(0));
}

Deno.test("locateOfficialT2mFiles() finds MDM's layout", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (
      const f of [
        "t2m/text_mot_match/model/finest.tar",
        "glove/our_vab_data.npy",
        "dataset/t2m_mean.npy",
        "dataset/t2m_std.npy",
      ]
    ) await touch(root, f);
    const files = locateOfficialT2mFiles("t2m", root);
    assert.deepEqual(files, {
      evaluatorPath: join(root, "t2m/text_mot_match/model/finest.tar"),
      gloveDir: join(root, "glove"),
      meanPath: join(root, "dataset/t2m_mean.npy"),
      stdPath: join(root, "dataset/t2m_std.npy"),
      textsDir: null,
    });
    await touch(root, "dataset/HumanML3D/texts/000000.txt");
    assert.equal(
      locateOfficialT2mFiles("t2m", root).textsDir,
      join(root, "dataset/HumanML3D/texts"),
    );
    // KIT-ML needs its own evaluator.
    assert.throws(
      () => locateOfficialT2mFiles("kit", root),
      /the evaluator checkpoint not found .*expected kit\/text_mot_match\/model\/finest\.tar/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("locateOfficialT2mFiles() accepts the text-to-motion layout and names what is missing", async () => {
  const root = await Deno.makeTempDir();
  try {
    await touch(root, "checkpoints/t2m/text_mot_match/model/finest.tar");
    assert.throws(() => locateOfficialT2mFiles("t2m", root), /the GloVe vectors not found/);
    await touch(root, "glove/our_vab_data.npy");
    assert.throws(
      () => locateOfficialT2mFiles("t2m", root),
      /feature mean not found .*dataset\/t2m_mean\.npy or checkpoints\/t2m\/Comp_v6_KLD01/,
    );
    await touch(root, "checkpoints/t2m/Comp_v6_KLD01/meta/mean.npy");
    assert.throws(() => locateOfficialT2mFiles("t2m", root), /meta\/std\.npy" does not exist/);
    await touch(root, "checkpoints/t2m/Comp_v6_KLD01/meta/std.npy");
    const files = locateOfficialT2mFiles("t2m", root);
    assert.equal(files.stdPath, join(root, "checkpoints/t2m/Comp_v6_KLD01/meta/std.npy"));
    assert.equal(
      files.evaluatorPath,
      join(root, "checkpoints/t2m/text_mot_match/model/finest.tar"),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
  assert.throws(() => locateOfficialT2mFiles("t2m", null), T2mAssetError);
  assert.throws(() => locateOfficialT2mFiles("t2m", ""), /MOTION_GRPO_ASSETS is not set/);
});
