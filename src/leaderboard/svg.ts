/**
 * A small SVG scatter plot: linear axes with "nice" ticks, points with optional error bars and
 * labels (placed greedily so they do not overlap), an optional y = x line and a legend. Every
 * string goes through `markup`, so labels taken from submissions are text, never markup.
 */
import { type Markup, markup } from "./markup.ts";

export interface ScatterPoint {
  x: number;
  y: number;
  /** Text drawn beside the point. */
  label?: string;
  /** Error bars (e.g. 95 % CI) along x and y. */
  xRange?: [number, number];
  yRange?: [number, number];
}

export interface ScatterSeries {
  name: string;
  color: string;
  points: ScatterPoint[];
  radius?: number;
  opacity?: number;
}

export interface ScatterOptions {
  title: string;
  /** Class names of the <svg> (fixed by the caller, not from data). */
  className: string;
  xLabel: string;
  yLabel: string;
  x: [number, number];
  y: [number, number];
  series: ScatterSeries[];
  /** Label of the y = x line; the line is drawn only when this is given. */
  diagonal?: string;
  width?: number;
  height?: number;
}

/** Okabe–Ito and a few more: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#CC79A7",
  "#D55E00",
  "#56B4E9",
  "#8C6D31",
  "#000000",
  "#7F7F7F",
  "#B8860B",
];

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The step of 1, 2, 5 or 10 × 10^k whose number of intervals is closest to `count`.
  const step = [1, 2, 5, 10].map((m) => m * mag)
    .reduce((best, s) => (Math.abs((hi - lo) / s - count) < Math.abs((hi - lo) / best - count) ? s : best));
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Number(v.toFixed(12)));
  }
  return ticks;
}

/** A padded domain around values (both ends rounded outward to the tick step). */
export function paddedDomain(
  values: readonly number[],
  pad = 0.08,
  clamp?: [number, number],
): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return clamp ?? [0, 1];
  let lo = Math.min(...finite), hi = Math.max(...finite);
  if (hi === lo) {
    lo -= Math.abs(lo) * 0.05 || 0.5;
    hi += Math.abs(hi) * 0.05 || 0.5;
  }
  const span = hi - lo;
  lo -= span * pad;
  hi += span * pad;
  if (clamp) {
    lo = Math.max(clamp[0], lo);
    hi = Math.min(clamp[1], hi);
  }
  return [lo, hi];
}

function tickText(v: number, step: number): string {
  const digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(digits);
}

const CHAR_WIDTH = 6.2;
const LABEL_HEIGHT = 12;

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

function fmt(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

export function scatterSvg(o: ScatterOptions): Markup {
  const width = o.width ?? 680, height = o.height ?? 440;
  const legendWidth = 180;
  const m = { left: 64, right: legendWidth + 16, top: 34, bottom: 52 };
  const pw = width - m.left - m.right, ph = height - m.top - m.bottom;
  const [x0, x1] = o.x, [y0, y1] = o.y;
  const sx = (v: number) => m.left + ((v - x0) / (x1 - x0 || 1)) * pw;
  const sy = (v: number) => m.top + ph - ((v - y0) / (y1 - y0 || 1)) * ph;
  const inside = (p: ScatterPoint) => p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1;
  const xt = niceTicks(x0, x1, 6), yt = niceTicks(y0, y1, 6);
  const xStep = xt.length > 1 ? xt[1] - xt[0] : 1, yStep = yt.length > 1 ? yt[1] - yt[0] : 1;

  const xTicks = xt.map((v) => {
    const x = fmt(sx(v)), label = tickText(v, xStep);
    const line = markup`<line class="grid" x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + ph}"/>`;
    const text = markup`<text class="tick" x="${x}" y="${
      m.top + ph + 16
    }" text-anchor="middle">${label}</text>`;
    return markup`${line}${text}`;
  });
  const yTicks = yt.map((v) => {
    const y = fmt(sy(v)), label = tickText(v, yStep);
    const line = markup`<line class="grid" x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}"/>`;
    const text = markup`<text class="tick" x="${m.left - 6}" y="${
      fmt(sy(v) + 4)
    }" text-anchor="end">${label}</text>`;
    return markup`${line}${text}`;
  });

  // The part of y = x inside the plot area.
  let diagonal: Markup | string = "";
  if (o.diagonal !== undefined) {
    const a = Math.max(x0, y0), b = Math.min(x1, y1);
    if (b > a) {
      const [ax, ay, bx, by] = [fmt(sx(a)), fmt(sy(a)), fmt(sx(b)), fmt(sy(b))];
      const line = markup`<line class="diagonal" x1="${ax}" y1="${ay}" x2="${bx}" y2="${by}"/>`;
      const text = markup`<text class="diagonal-label" x="${fmt(sx(b) - 4)}" y="${
        fmt(sy(b) + 14)
      }" text-anchor="end">${o.diagonal}</text>`;
      diagonal = markup`${line}${text}`;
    }
  }

  const placed: Box[] = [];
  const marks = o.series.map((s, si) => {
    const r = s.radius ?? 4;
    const opacity = s.opacity === undefined ? "" : markup` fill-opacity="${s.opacity}"`;
    const points = s.points.filter(inside).map((p) => {
      const cx = fmt(sx(p.x)), cy = fmt(sy(p.y));
      placed.push({ x0: sx(p.x) - r, y0: sy(p.y) - r, x1: sx(p.x) + r, y1: sy(p.y) + r });
      const bars: Markup[] = [];
      if (p.xRange) {
        const [a, b] = [fmt(sx(Math.max(x0, p.xRange[0]))), fmt(sx(Math.min(x1, p.xRange[1])))];
        bars.push(
          markup`<line class="errorbar" x1="${a}" x2="${b}" y1="${cy}" y2="${cy}" stroke="${s.color}"/>`,
        );
      }
      if (p.yRange) {
        const [a, b] = [fmt(sy(Math.max(y0, p.yRange[0]))), fmt(sy(Math.min(y1, p.yRange[1])))];
        bars.push(
          markup`<line class="errorbar" x1="${cx}" x2="${cx}" y1="${a}" y2="${b}" stroke="${s.color}"/>`,
        );
      }
      return markup`${bars}<circle cx="${cx}" cy="${cy}" r="${r}" fill="${s.color}"${opacity}/>`;
    });
    return markup`<g class="series" data-series="${si}">${points}</g>
`;
  });

  // Labels after all points are known, so that they avoid every point, not only earlier ones.
  const labels: Markup[] = [];
  for (const s of o.series) {
    for (const p of s.points.filter((q) => q.label !== undefined && inside(q))) {
      const cx = sx(p.x), cy = sy(p.y), w = p.label!.length * CHAR_WIDTH;
      const candidates: [number, number, "start" | "end"][] = [
        [cx + 7, cy - 6, "start"],
        [cx + 7, cy + 14, "start"],
        [cx - 7, cy - 6, "end"],
        [cx - 7, cy + 14, "end"],
        [cx + 7, cy - 20, "start"],
        [cx + 7, cy + 28, "start"],
        [cx - 7, cy - 20, "end"],
        [cx - 7, cy + 28, "end"],
      ];
      const boxOf = ([x, y, anchor]: [number, number, string]): Box => ({
        x0: anchor === "start" ? x : x - w,
        x1: anchor === "start" ? x + w : x,
        y0: y - LABEL_HEIGHT + 2,
        y1: y + 2,
      });
      const fits = (c: [number, number, string]) => {
        const b = boxOf(c);
        return b.x0 >= m.left && b.x1 <= m.left + pw && b.y0 >= m.top && b.y1 <= m.top + ph &&
          !placed.some((q) => overlaps(q, b));
      };
      const [x, y, anchor] = candidates.find(fits) ?? candidates[0];
      placed.push(boxOf([x, y, anchor]));
      labels.push(
        markup`<text class="point-label" x="${fmt(x)}" y="${fmt(y)}" text-anchor="${anchor}">${p.label}</text>
`,
      );
    }
  }

  const legendX = m.left + pw + 18;
  const legend = o.series.map((s, i) => {
    const y = m.top + 8 + i * 18;
    const name = s.name.length > 26 ? s.name.slice(0, 25) + "…" : s.name;
    const swatch = markup`<rect x="${legendX}" y="${y - 9}" width="10" height="10" fill="${s.color}"/>`;
    return markup`<g class="legend-item"><title>${s.name}</title>${swatch}<text x="${
      legendX + 16
    }" y="${y}">${name}</text></g>
`;
  });

  const frame = markup`<rect class="frame" x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/>`;
  const xLabel = markup`<text class="axis-label" x="${fmt(m.left + pw / 2)}" y="${
    height - 12
  }" text-anchor="middle">${o.xLabel}</text>`;
  const yLabel = markup`<text class="axis-label" transform="translate(16 ${
    fmt(m.top + ph / 2)
  }) rotate(-90)" text-anchor="middle">${o.yLabel}</text>`;
  return markup`<svg xmlns="http://www.w3.org/2000/svg" class="${o.className}" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<title>${o.title}</title>
<text class="plot-title" x="${m.left}" y="20">${o.title}</text>
<g class="axes">${xTicks}${yTicks}${frame}</g>
${xLabel}
${yLabel}
${diagonal}
${marks}${labels}<g class="legend">
${legend}</g>
</svg>`;
}
