import assert from "node:assert/strict";
import { main } from "../../cli/draw.ts";
import { saveNpy } from "../../datasets/npy.ts";
import { generateClip } from "../../datasets/mini/generate_clip.ts";
import { jointsToFeatures } from "../../datasets/motion/process.ts";
import { T2M } from "../../datasets/motion/skeleton.ts";
import { tempDir } from "../_util.ts";

Deno.test("deno task draw turns a features .npy into an animated page", async () => {
  const dir = await tempDir();
  try {
    const clip = generateClip(3, 0, { family: "walk" });
    const { features } = jointsToFeatures(clip.joints, clip.frames, T2M);
    const T = clip.frames - 1;
    await saveNpy(`${dir.path}/walk.npy`, { dtype: "<f4", shape: [T, 263], data: features });
    await saveNpy(`${dir.path}/bad.npy`, {
      dtype: "<f4",
      shape: [T, 7],
      data: new Float32Array(T * 7),
    });
    const out = `${dir.path}/walk.html`;
    assert.equal(
      await main(["--input", `${dir.path}/walk.npy`, "--caption", "a walk", "--output", out]),
      0,
    );
    const html = await Deno.readTextFile(out);
    assert.match(html, /<svg /);
    assert.equal(
      html.match(/attributeName="points"[^>]*values="([^"]*)"/)![1].split(";").length,
      T,
    );
    // Contact marks come from the feature's foot-contact channels: some frames are planted.
    assert.match(html, /attributeName="opacity"[^>]*values="[^"]*0\.9/);
    assert.equal(
      await main(["--input", `${dir.path}/bad.npy`, "--output", `${dir.path}/x.svg`]),
      2,
    );
    assert.equal(await main(["--output", `${dir.path}/x.svg`]), 2); // --input is required
  } finally {
    await dir.remove();
  }
});
