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

/** The rectangle of a plot area inside its SVG. */
interface Area {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** What one panel draws: its axes, points, labels and y = x line, without title, legend or frame of the SVG. */
type PanelOptions = Omit<ScatterOptions, "className" | "width" | "height">;

/** Label positions around a point (dx, dy, anchor), nearest first; the outer rings get a leader line. */
const LABEL_OFFSETS: [number, number, "start" | "end"][] = [1, 2, 3, 4].flatMap((ring) => {
  const dx = 7 + (ring - 1) * 10, up = -6 - (ring - 1) * 14, down = 14 + (ring - 1) * 14;
  return [
    [dx, up, "start"],
    [dx, down, "start"],
    [-dx, up, "end"],
    [-dx, down, "end"],
  ] as [number, number, "start" | "end"][];
});

/** Axes, grid, y = x, points with error bars and non-overlapping labels inside `a`. */
function plotArea(o: PanelOptions, a: Area): Markup {
  const { left, top, width: pw, height: ph } = a;
  const [x0, x1] = o.x, [y0, y1] = o.y;
  const sx = (v: number) => left + ((v - x0) / (x1 - x0 || 1)) * pw;
  const sy = (v: number) => top + ph - ((v - y0) / (y1 - y0 || 1)) * ph;
  const inside = (p: ScatterPoint) => p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1;
  // About one tick per 60 px, 3 to 6 of them (6 on the full-size plot).
  const count = (px: number) => Math.max(3, Math.min(6, Math.round(px / 60)));
  const xt = niceTicks(x0, x1, count(pw)), yt = niceTicks(y0, y1, count(ph));
  const xStep = xt.length > 1 ? xt[1] - xt[0] : 1, yStep = yt.length > 1 ? yt[1] - yt[0] : 1;

  const xTicks = xt.map((v) => {
    const x = fmt(sx(v)), label = tickText(v, xStep);
    const line = markup`<line class="grid" x1="${x}" x2="${x}" y1="${top}" y2="${top + ph}"/>`;
    const text = markup`<text class="tick" x="${x}" y="${
      top + ph + 16
    }" text-anchor="middle">${label}</text>`;
    return markup`${line}${text}`;
  });
  const yTicks = yt.map((v) => {
    const y = fmt(sy(v)), label = tickText(v, yStep);
    const line = markup`<line class="grid" x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}"/>`;
    const text = markup`<text class="tick" x="${left - 6}" y="${
      fmt(sy(v) + 4)
    }" text-anchor="end">${label}</text>`;
    return markup`${line}${text}`;
  });

  // The part of y = x inside the plot area.
  let diagonal: Markup | string = "";
  if (o.diagonal !== undefined) {
    const lo = Math.max(x0, y0), hi = Math.min(x1, y1);
    if (hi > lo) {
      const [ax, ay, bx, by] = [fmt(sx(lo)), fmt(sy(lo)), fmt(sx(hi)), fmt(sy(hi))];
      const line = markup`<line class="diagonal" x1="${ax}" y1="${ay}" x2="${bx}" y2="${by}"/>`;
      // Below the line's end, or above it where that would leave the plot area.
      const ly = sy(hi) + 14 <= top + ph - 4 ? sy(hi) + 14 : sy(hi) - 6;
      const text = markup`<text class="diagonal-label" x="${fmt(sx(hi) - 4)}" y="${
        fmt(ly)
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

  // Labels after all points are known, so that they avoid every point, not only earlier ones; a
  // label that fits only away from its point is joined to it by a leader line.
  const labels: Markup[] = [];
  for (const s of o.series) {
    for (const p of s.points.filter((q) => q.label !== undefined && inside(q))) {
      const cx = sx(p.x), cy = sy(p.y), w = p.label!.length * CHAR_WIDTH;
      const boxOf = ([dx, dy, anchor]: [number, number, string]): Box => {
        const x = cx + dx, y = cy + dy;
        return {
          x0: anchor === "start" ? x : x - w,
          x1: anchor === "start" ? x + w : x,
          y0: y - LABEL_HEIGHT + 2,
          y1: y + 2,
        };
      };
      const fits = (c: [number, number, string]) => {
        const b = boxOf(c);
        return b.x0 >= left && b.x1 <= left + pw && b.y0 >= top && b.y1 <= top + ph &&
          !placed.some((q) => overlaps(q, b));
      };
      const index = LABEL_OFFSETS.findIndex(fits);
      const [dx, dy, anchor] = LABEL_OFFSETS[Math.max(0, index)];
      const box = boxOf([dx, dy, anchor]);
      placed.push(box);
      const leader = index >= 4
        ? markup`<line class="leader" x1="${fmt(cx)}" y1="${fmt(cy)}" x2="${
          fmt(anchor === "start" ? box.x0 : box.x1)
        }" y2="${fmt((box.y0 + box.y1) / 2)}" stroke="${s.color}"/>`
        : "";
      labels.push(
        markup`${leader}<text class="point-label" x="${fmt(cx + dx)}" y="${
          fmt(cy + dy)
        }" text-anchor="${anchor}">${p.label}</text>
`,
      );
    }
  }

  const frame = markup`<rect class="frame" x="${left}" y="${top}" width="${pw}" height="${ph}"/>`;
  const xLabel = markup`<text class="axis-label" x="${fmt(left + pw / 2)}" y="${
    top + ph + 40
  }" text-anchor="middle">${o.xLabel}</text>`;
  const yLabel = markup`<text class="axis-label" transform="translate(${fmt(left - 48)} ${
    fmt(top + ph / 2)
  }) rotate(-90)" text-anchor="middle">${o.yLabel}</text>`;
  const title = o.title
    ? markup`<text class="panel-title" x="${left}" y="${top - 8}">${o.title}</text>
`
    : "";
  return markup`${title}<g class="axes">${xTicks}${yTicks}${frame}</g>
${xLabel}
${yLabel}
${diagonal}
${marks}${labels}`;
}

/** The <svg> element around a plot's content. */
function svgFrame(className: string, title: string, width: number, height: number, body: Markup): Markup {
  return markup`<svg xmlns="http://www.w3.org/2000/svg" class="${className}" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<title>${title}</title>
<text class="plot-title" x="12" y="20">${title}</text>
${body}</svg>`;
}

export function scatterSvg(o: ScatterOptions): Markup {
  const width = o.width ?? 680, height = o.height ?? 440;
  const legendWidth = 180;
  const m = { left: 64, right: legendWidth + 16, top: 34, bottom: 52 };
  const pw = width - m.left - m.right, ph = height - m.top - m.bottom;
  const area = plotArea({ ...o, title: "" }, { left: m.left, top: m.top, width: pw, height: ph });
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
  return svgFrame(
    o.className,
    o.title,
    width,
    height,
    markup`${area}<g class="legend">
${legend}</g>
`,
  );
}

export interface SmallMultiplesOptions {
  title: string;
  /** Class names of the <svg> (fixed by the caller, not from data). */
  className: string;
  /** One panel each, with its own title, axes and domain. */
  panels: PanelOptions[];
  columns?: number;
  panelWidth?: number;
  panelHeight?: number;
}

/** Panels side by side in one SVG, each on its own axes (`g.panel`, its plot area `rect.frame`). */
export function smallMultiplesSvg(o: SmallMultiplesOptions): Markup {
  const columns = Math.max(1, Math.min(o.columns ?? 3, o.panels.length));
  const pw = o.panelWidth ?? 300, ph = o.panelHeight ?? 250;
  const m = { left: 64, right: 14, top: 26, bottom: 50 };
  const cellW = m.left + pw + m.right, cellH = m.top + ph + m.bottom;
  const rows = Math.ceil(o.panels.length / columns);
  const head = 30;
  const panels = o.panels.map((p, i) => {
    const left = (i % columns) * cellW + m.left, top = head + Math.floor(i / columns) * cellH + m.top;
    return markup`<g class="panel" data-panel="${i}">
${plotArea(p, { left, top, width: pw, height: ph })}</g>
`;
  });
  return svgFrame(o.className, o.title, columns * cellW, head + rows * cellH, markup`${panels}`);
}
