/**
 * Files for people: the SVG animation alone, or an HTML page around it with play/pause and a
 * frame slider. `?t=SECONDS` in the page's address freezes the animation at that time (used by
 * screenshots and tests).
 */
import { renderMotionSvg } from "./motion_svg.ts";
import type { MotionPanel, RenderOptions } from "./motion_svg.ts";

/** An HTML page holding the animation and its controls. */
export function motionPageHtml(panels: readonly MotionPanel[], opts: RenderOptions): string {
  const svg = renderMotionSvg(panels, opts);
  const seconds = Math.max(...panels.map((p) => p.T)) / opts.fps;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${opts.title ?? "motions"}</title>
<style>body{margin:0;background:#fbfbf8;font-family:sans-serif} #bar{padding:6px}</style></head>
<body>
${svg}
<div id="bar"><button id="play">pause</button>
<input id="time" type="range" min="0" max="${
    seconds.toFixed(3)
  }" step="0.05" value="0" style="width:60%"></div>
<script>
const svg = document.querySelector("svg"), play = document.getElementById("play");
const time = document.getElementById("time");
const frozen = new URLSearchParams(location.search).get("t");
if (frozen !== null) { svg.pauseAnimations(); svg.setCurrentTime(Number(frozen)); play.textContent = "play"; }
play.onclick = () => {
  if (svg.animationsPaused()) { svg.unpauseAnimations(); play.textContent = "pause"; }
  else { svg.pauseAnimations(); play.textContent = "play"; }
};
time.oninput = () => { svg.pauseAnimations(); play.textContent = "play"; svg.setCurrentTime(Number(time.value)); };
</script>
</body></html>
`;
}

/** Writes the animation atomically: `.svg` gets the SVG alone, `.html` the page with controls. */
export async function saveMotionAnimation(
  path: string,
  panels: readonly MotionPanel[],
  opts: RenderOptions,
): Promise<void> {
  let text: string;
  if (path.endsWith(".svg")) text = renderMotionSvg(panels, opts);
  else if (path.endsWith(".html")) text = motionPageHtml(panels, opts);
  else throw new TypeError(`Cannot save motion animation "${path}": use a .svg or .html file name`);
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}
