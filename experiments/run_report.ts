/**
 * `report.html` of a run: the reward curve as inline SVG and the metric table, base vs
 * fine-tuned, with 95% intervals.
 * @module
 */

/** One metric's mean and 95% half-width. */
export interface MetricValue {
  mean: number;
  interval: number;
}

/** What the report shows. */
export interface ReportData {
  name: string;
  title: string;
  manifestId: string;
  /** Mean reward per step. */
  rewards: number[];
  base: Record<string, MetricValue>;
  finetuned: Record<string, MetricValue>;
  /** Drawn samples, base vs fine-tuned (an SVG document), if any. */
  samplesSvg?: string;
  /** The paired held-out reward line (experiments/held_out_summary.ts), if the run made one. */
  heldOut?: string;
}

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The reward curve as an SVG polyline (600 x 200). */
export function rewardSvg(rewards: readonly number[]): string {
  const W = 600, H = 200, P = 30;
  if (rewards.length === 0) return `<svg width="${W}" height="${H}"></svg>`;
  const lo = Math.min(...rewards), hi = Math.max(...rewards);
  const span = hi > lo ? hi - lo : 1;
  const x = (i: number) => P + (rewards.length > 1 ? (i / (rewards.length - 1)) * (W - 2 * P) : 0);
  const y = (v: number) => H - P - ((v - lo) / span) * (H - 2 * P);
  const pts = rewards.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">` +
    `<rect width="${W}" height="${H}" fill="white" stroke="#ccc"/>` +
    `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${pts}"/>` +
    `<text x="${P}" y="${P - 10}" font-size="12">mean reward: ${lo.toFixed(4)} .. ${
      hi.toFixed(4)
    } over ${rewards.length} steps</text></svg>`;
}

const fmt = (m: MetricValue | undefined): string =>
  m === undefined ? "–" : `${m.mean.toFixed(4)} ± ${m.interval.toFixed(4)}`;

/** The whole page. */
export function reportHtml(d: ReportData): string {
  const names = [...new Set([...Object.keys(d.base), ...Object.keys(d.finetuned)])];
  const rows = names.map((n) =>
    `<tr><td>${esc(n)}</td><td>${fmt(d.base[n])}</td><td>${fmt(d.finetuned[n])}</td></tr>`
  ).join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(d.name)}</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 12px;text-align:right}</style>
</head><body>
<h1>${esc(d.title)}</h1>
<p>Manifest ${esc(d.name)}, id <code>${esc(d.manifestId)}</code></p>
<h2>Reward curve</h2>
${rewardSvg(d.rewards)}
${d.heldOut ? `<p>${esc(d.heldOut)}</p>` : ""}
<h2>Evaluation (mean ± 95% interval)</h2>
<table><tr><th>metric</th><th>base</th><th>fine-tuned</th></tr>
${rows}
</table>
${d.samplesSvg ? `<h2>Samples (base vs fine-tuned, same seed)</h2>\n${d.samplesSvg}` : ""}
</body></html>
`;
}
