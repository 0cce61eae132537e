/**
 * Draws motions as animated stick figures in one self-contained SVG (SMIL animation, plays in any
 * browser): the caption above each panel, a ground grid, the root's path on the ground, and foot
 * contact marks that light up while a foot is planted. Several panels side by side compare
 * motions for the same text (e.g. base vs fine-tuned).
 *
 * Joints are y-up, in metres (HumanML3D convention). The camera is orthographic, turned by `yaw`
 * about the vertical axis and tilted down by `pitch`, and each panel is fitted to the whole
 * motion so that a travelling motion stays in view.
 */

/** One motion to draw. */
export interface MotionPanel {
  joints: Float32Array; // (T, J, 3)
  T: number;
  J: number;
  caption: string;
  /** Chains of joint indices drawn as polylines (e.g. T2M_KINEMATIC_CHAIN). */
  chain: readonly (readonly number[])[];
  /** Joint indices that get contact marks (e.g. the four foot joints). */
  contactJoints?: readonly number[];
  /** (T, contactJoints.length): > 0.5 = in contact. */
  contacts?: ArrayLike<number>;
  /** A short label under the caption ("base", "fine-tuned"). */
  label?: string;
}

export interface RenderOptions {
  fps: number;
  /** Panel size in pixels (default 360 x 400). */
  panelWidth?: number;
  panelHeight?: number;
  /** Degrees (default 35 and 25). */
  yaw?: number;
  pitch?: number;
  title?: string;
}

// Chain colours: spine, legs and arms; the t2m chain lists right leg, left leg, spine, right arm,
// left arm, and other skeletons simply cycle.
const COLOURS = ["#c0392b", "#2471a3", "#2c3e50", "#e67e22", "#16a085"];

/** Renders the panels side by side; returns the SVG text. */
export function renderMotionSvg(panels: readonly MotionPanel[], opts: RenderOptions): string {
  if (panels.length === 0) throw new RangeError("Cannot render motions: no motion given");
  if (!(opts.fps > 0)) {
    throw new RangeError(`Cannot render motions: fps must be > 0, got ${opts.fps}`);
  }
  const pw = opts.panelWidth ?? 360, ph = opts.panelHeight ?? 400;
  const top = opts.title ? 28 : 0;
  const body = panels.map((p, i) =>
    `<g transform="translate(${i * pw},${top})">${panelSvg(p, pw, ph, opts)}</g>`
  ).join("\n");
  const title = opts.title
    ? `<text x="${(pw * panels.length) / 2}" y="20" text-anchor="middle" font-size="16" ` +
      `font-weight="bold">${escapeXml(opts.title)}</text>`
    : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${pw * panels.length}" ` +
    `height="${ph + top}" viewBox="0 0 ${pw * panels.length} ${ph + top}" ` +
    `font-family="sans-serif">\n<rect width="100%" height="100%" fill="#fbfbf8"/>\n${title}\n` +
    `${body}\n</svg>\n`;
}

/** A 3-D → 2-D orthographic camera fitted to a motion. */
interface Camera {
  project(x: number, y: number, z: number): [number, number];
}

function panelSvg(p: MotionPanel, pw: number, ph: number, opts: RenderOptions): string {
  checkPanel(p);
  const { T, J, joints } = p;
  const captionLines = wrap(p.caption, Math.max(20, Math.floor(pw / 8)));
  const head = 14 + captionLines.length * 16 + (p.label ? 16 : 0);

  // Ground extent: the horizontal bounding box of every joint, plus a margin, on a 0.5 m grid.
  let minX = Infinity, maxX = -Infinity, minZ = Infinity, maxZ = -Infinity;
  for (let i = 0; i < T * J; i++) {
    minX = Math.min(minX, joints[3 * i]);
    maxX = Math.max(maxX, joints[3 * i]);
    minZ = Math.min(minZ, joints[3 * i + 2]);
    maxZ = Math.max(maxZ, joints[3 * i + 2]);
  }
  const g = 0.5;
  const gx0 = Math.floor((minX - 0.5) / g) * g, gx1 = Math.ceil((maxX + 0.5) / g) * g;
  const gz0 = Math.floor((minZ - 0.5) / g) * g, gz1 = Math.ceil((maxZ + 0.5) / g) * g;
  const cam = fitCamera(p, [gx0, gx1, gz0, gz1], pw, ph - head, head, opts);

  const parts: string[] = [];
  captionLines.forEach((line, i) =>
    parts.push(
      `<text x="${pw / 2}" y="${18 + i * 16}" text-anchor="middle" font-size="13">` +
        `${escapeXml(line)}</text>`,
    )
  );
  if (p.label) {
    parts.push(
      `<text x="${pw / 2}" y="${18 + captionLines.length * 16}" text-anchor="middle" ` +
        `font-size="12" fill="#666">${escapeXml(p.label)}</text>`,
    );
  }
  // Ground grid.
  const grid: string[] = [];
  for (let x = gx0; x <= gx1 + 1e-9; x += g) grid.push(segment(cam, [x, 0, gz0], [x, 0, gz1]));
  for (let z = gz0; z <= gz1 + 1e-9; z += g) grid.push(segment(cam, [gx0, 0, z], [gx1, 0, z]));
  parts.push(`<g stroke="#d5d8dc" stroke-width="1">${grid.join("")}</g>`);
  // Root path on the ground.
  const path = [];
  for (let t = 0; t < T; t++) path.push(pt(cam, joints[t * J * 3], 0, joints[t * J * 3 + 2]));
  parts.push(
    `<polyline points="${path.join(" ")}" fill="none" stroke="#aab7b8" stroke-dasharray="4 3"/>`,
  );

  const dur = `${(T / opts.fps).toFixed(3)}s`;
  const anim = (attr: string, values: string[]) =>
    `<animate attributeName="${attr}" dur="${dur}" repeatCount="indefinite" calcMode="discrete" ` +
    `values="${values.join(";")}"/>`;
  // Contact marks under the skeleton.
  (p.contactJoints ?? []).forEach((j, c) => {
    const xs: string[] = [], ys: string[] = [], op: string[] = [];
    for (let t = 0; t < T; t++) {
      const [sx, sy] = cam.project(joints[(t * J + j) * 3], 0, joints[(t * J + j) * 3 + 2]);
      xs.push(sx.toFixed(1));
      ys.push(sy.toFixed(1));
      const on = p.contacts ? p.contacts[t * p.contactJoints!.length + c] > 0.5 : false;
      op.push(on ? "0.9" : "0");
    }
    parts.push(
      `<ellipse rx="6" ry="3" fill="#27ae60">${anim("cx", xs)}${anim("cy", ys)}` +
        `${anim("opacity", op)}</ellipse>`,
    );
  });
  // The skeleton: one polyline per chain, and the head.
  p.chain.forEach((links, c) => {
    const frames: string[] = [];
    for (let t = 0; t < T; t++) {
      frames.push(links.map((j) => ptJoint(cam, joints, t, j, J)).join(" "));
    }
    parts.push(
      `<polyline fill="none" stroke="${COLOURS[c % COLOURS.length]}" stroke-width="4" ` +
        `stroke-linecap="round" stroke-linejoin="round" points="${frames[0]}">` +
        `${anim("points", frames)}</polyline>`,
    );
  });
  const headJoint = p.chain.reduce(
    (best, links) => links.reduce((b, j) => joints[j * 3 + 1] > joints[b * 3 + 1] ? j : b, best),
    0,
  );
  const hx: string[] = [], hy: string[] = [];
  for (let t = 0; t < T; t++) {
    const [sx, sy] = projectJoint(cam, joints, t, headJoint, J);
    hx.push(sx.toFixed(1));
    hy.push(sy.toFixed(1));
  }
  parts.push(`<circle r="7" fill="#2c3e50">${anim("cx", hx)}${anim("cy", hy)}</circle>`);
  return parts.join("\n");
}

function checkPanel(p: MotionPanel): void {
  if (p.joints.length !== p.T * p.J * 3) {
    throw new RangeError(
      `Cannot render motion "${p.caption}": joints hold ${p.joints.length} values, ` +
        `expected T*J*3 = ${p.T * p.J * 3}`,
    );
  }
  for (let i = 0; i < p.joints.length; i++) {
    if (!Number.isFinite(p.joints[i])) {
      throw new RangeError(`Cannot render motion "${p.caption}": joint value ${i} is not finite`);
    }
  }
}

/** Fits an orthographic camera so the ground box and every pose fill the panel. */
function fitCamera(
  p: MotionPanel,
  box: [number, number, number, number],
  w: number,
  h: number,
  yOffset: number,
  opts: RenderOptions,
): Camera {
  const yaw = (opts.yaw ?? 35) * Math.PI / 180, pitch = (opts.pitch ?? 25) * Math.PI / 180;
  const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  const view = (x: number, y: number, z: number): [number, number] => {
    const rx = cy * x - sy * z, rz = sy * x + cy * z; // turn about the vertical axis
    return [rx, cp * y - sp * rz]; // tilt: depth rz rises towards the top of the picture
  };
  let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
  const grow = (u: number, v: number) => {
    u0 = Math.min(u0, u);
    u1 = Math.max(u1, u);
    v0 = Math.min(v0, v);
    v1 = Math.max(v1, v);
  };
  for (const x of [box[0], box[1]]) for (const z of [box[2], box[3]]) grow(...view(x, 0, z));
  for (let i = 0; i < p.T * p.J; i++) {
    grow(...view(p.joints[3 * i], p.joints[3 * i + 1], p.joints[3 * i + 2]));
  }
  const margin = 12;
  const scale = Math.min((w - 2 * margin) / (u1 - u0 || 1), (h - 2 * margin) / (v1 - v0 || 1));
  const ou = (w - scale * (u1 - u0)) / 2, ov = yOffset + (h - scale * (v1 - v0)) / 2;
  return {
    project(x, y, z) {
      const [u, v] = view(x, y, z);
      return [ou + scale * (u - u0), ov + scale * (v1 - v)];
    },
  };
}

function projectJoint(cam: Camera, joints: Float32Array, t: number, j: number, J: number) {
  const o = (t * J + j) * 3;
  return cam.project(joints[o], joints[o + 1], joints[o + 2]);
}

function ptJoint(cam: Camera, joints: Float32Array, t: number, j: number, J: number): string {
  const [x, y] = projectJoint(cam, joints, t, j, J);
  return `${x.toFixed(1)},${y.toFixed(1)}`;
}

function pt(cam: Camera, x: number, y: number, z: number): string {
  const [u, v] = cam.project(x, y, z);
  return `${u.toFixed(1)},${v.toFixed(1)}`;
}

function segment(cam: Camera, a: number[], b: number[]): string {
  const [x1, y1] = cam.project(a[0], a[1], a[2]), [x2, y2] = cam.project(b[0], b[1], b[2]);
  return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${
    y2.toFixed(1)
  }"/>`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.length ? lines : [""];
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
