import assert from "node:assert/strict";
import { renderMotionSvg } from "../../viz/motion_svg.ts";
import type { MotionPanel } from "../../viz/motion_svg.ts";
import { saveMotionAnimation } from "../../viz/motion_page.ts";
import { tempDir } from "../_util.ts";

/** A five-joint figure walking along +z and swinging its legs: enough to see motion. */
function walker(T: number, caption: string): MotionPanel {
  const J = 5;
  const joints = new Float32Array(T * J * 3);
  const contacts = new Float32Array(T * 2);
  for (let t = 0; t < T; t++) {
    const z = 0.05 * t, swing = 0.3 * Math.sin(2 * Math.PI * t / 20);
    const pose = [[0, 0.9, z], [0.1, 0, z + swing], [-0.1, 0, z - swing], [0, 1.5, z], [0, 1.7, z]];
    pose.forEach((p, j) => joints.set(p, (t * J + j) * 3));
    contacts[t * 2] = swing < 0 ? 1 : 0;
    contacts[t * 2 + 1] = swing >= 0 ? 1 : 0;
  }
  return {
    joints,
    T,
    J,
    caption,
    chain: [[0, 1], [0, 2], [0, 3, 4]],
    contactJoints: [1, 2],
    contacts,
  };
}

Deno.test("renderMotionSvg() animates one polyline per chain over every frame", () => {
  const svg = renderMotionSvg([walker(40, "a person walks <forward> & waves")], { fps: 20 });
  assert.equal(svg.match(/<polyline fill="none" stroke=/g)?.length, 3);
  const values = svg.match(/attributeName="points"[^>]*values="([^"]*)"/);
  assert.ok(values);
  assert.equal(values[1].split(";").length, 40);
  assert.match(svg, /dur="2\.000s"/);
  assert.match(svg, /a person walks &#60;forward&#62; &#38; waves/);
  assert.match(svg, /attributeName="opacity"[^>]*values="[^"]*0\.9/); // contacts light up
});

Deno.test("renderMotionSvg() puts panels side by side and rejects bad input", () => {
  const svg = renderMotionSvg([walker(20, "base"), walker(30, "fine-tuned")], {
    fps: 20,
    title: "same text",
  });
  assert.match(svg, /width="720"/);
  assert.equal(svg.match(/<g transform="translate\(/g)?.length, 2);
  const bad = walker(10, "bad");
  bad.joints[7] = NaN;
  assert.throws(() => renderMotionSvg([bad], { fps: 20 }), /joint value 7 is not finite/);
  assert.throws(
    () => renderMotionSvg([{ ...walker(10, "x"), T: 11 }], { fps: 20 }),
    /expected T\*J\*3 = 165/,
  );
  assert.throws(() => renderMotionSvg([], { fps: 20 }), /no motion given/);
});

const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

Deno.test({
  name: "a drawn motion renders different frames in headless Chromium",
  ignore: !chromium,
  async fn() {
    const dir = await tempDir();
    try {
      const page = `${dir.path}/walk.html`;
      await saveMotionAnimation(page, [walker(40, "a person walks forward")], { fps: 20 });
      const shots: Uint8Array[] = [];
      for (const t of [0, 0.5]) {
        const png = `${dir.path}/shot_${t}.png`;
        const r = await new Deno.Command(chromium!, {
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            `--user-data-dir=${dir.path}/profile`,
            "--window-size=400,480",
            `--screenshot=${png}`,
            `file://${page}?t=${t}`,
          ],
          stdout: "null",
          stderr: "null",
        }).output();
        assert.ok(r.success, "chromium failed");
        shots.push(await Deno.readFile(png));
      }
      // A blank page compresses to a few hundred bytes; a drawn figure is larger.
      assert.ok(shots[0].length > 3000, `screenshot too small: ${shots[0].length} bytes`);
      assert.notDeepEqual(shots[0], shots[1], "frames at 0 s and 0.5 s look the same");
    } finally {
      await dir.remove();
    }
  },
});
