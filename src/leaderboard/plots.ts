/**
 * The two plots of a submission's detail page, for one (dataset, backbone, augmentation) group:
 * augmented against clean accuracy per method (mean over seeds, 95 % CI bars, labelled), and
 * the structure scatter ‖E F x − E F y‖ against ‖F x − F y‖ from the rows' structure samples,
 * one panel per method with the y = x line of a perfect isometry, R² and slope. Each panel has
 * its own y range, so a method whose distances are hundreds of times F's (HSIC) cannot flatten
 * the others against an axis.
 */
import type { ResultDocument } from "../results/schema.ts";
import { type Markup, markup } from "./markup.ts";
import type { Entry } from "./ranking.ts";
import { paddedDomain, PALETTE, type ScatterSeries, scatterSvg, smallMultiplesSvg } from "./svg.ts";

/** At most this many pairs per method in the structure plot (a deterministic stride sample). */
export const STRUCTURE_POINTS = 300;

/** The entry's label (method_label.ts), with its classifier when the group has several. */
function entryLabel(e: Entry, entries: readonly Entry[]): string {
  const classifiers = new Set(entries.map((x) => x.classifier));
  return classifiers.size > 1 && e.label === e.method ? `${e.label} (${e.classifier})` : e.label;
}

/** Methods this many points or less below the best clean accuracy get a zoomed plot of their own. */
export const ZOOM_POINTS = 5;

/**
 * Augmented vs clean accuracy (%), one labelled point per method with its CI bars. When a method
 * lies far below the others in clean accuracy (HSIC), the methods within ZOOM_POINTS of the best
 * clean accuracy are drawn again on axes of their own, so that they stay apart and legible.
 */
export function accuracyPlot(entries: readonly Entry[], group: string): Markup {
  const withAcc = entries.filter((e) => e.accAug && e.accClean);
  const best = Math.max(...withAcc.map((e) => e.accClean!.mean));
  const near = withAcc.filter((e) => 100 * (best - e.accClean!.mean) <= ZOOM_POINTS);
  const all = accuracySvg(entries, withAcc, `Augmented vs clean accuracy: ${group}`, "plot plot-accuracy");
  if (near.length < 2 || near.length === withAcc.length) return all;
  const zoom = accuracySvg(
    entries,
    near,
    `Zoom: ${near.length} methods within ${ZOOM_POINTS} points of the best clean accuracy`,
    "plot plot-accuracy-zoom",
  );
  return markup`${all}
${zoom}`;
}

function accuracySvg(
  entries: readonly Entry[],
  shown: readonly Entry[],
  title: string,
  className: string,
): Markup {
  const pct = (v: number) => 100 * v;
  const xs = shown.flatMap((e) => [e.accClean!.ci95[0], e.accClean!.ci95[1]].map(pct));
  const ys = shown.flatMap((e) => [e.accAug!.ci95[0], e.accAug!.ci95[1]].map(pct));
  const series: ScatterSeries[] = shown.map((e) => ({
    name: entryLabel(e, entries),
    color: PALETTE[entries.indexOf(e) % PALETTE.length],
    points: [{
      x: pct(e.accClean!.mean),
      y: pct(e.accAug!.mean),
      label: entryLabel(e, entries),
      xRange: [pct(e.accClean!.ci95[0]), pct(e.accClean!.ci95[1])],
      yRange: [pct(e.accAug!.ci95[0]), pct(e.accAug!.ci95[1])],
    }],
    radius: 5,
  }));
  return scatterSvg({
    title,
    className,
    xLabel: "clean accuracy (%)",
    yLabel: "augmented accuracy (%)",
    x: paddedDomain(xs, 0.15, [0, 100]),
    y: paddedDomain(ys, 0.1, [0, 100]),
    series,
    diagonal: "augmented = clean",
  });
}

/** Every k-th element so that at most `max` remain. */
function stride<T>(values: readonly T[], max: number): T[] {
  if (values.length <= max) return [...values];
  const step = values.length / max;
  return Array.from({ length: max }, (_, i) => values[Math.floor(i * step)]);
}

/** ‖E F x − E F y‖ against ‖F x − F y‖, one panel per method (lowest ok seed with a sample). */
export function structurePlot(doc: ResultDocument, entries: readonly Entry[], title: string): Markup {
  const samples = entries.flatMap((e, i) => {
    const row = doc.rows
      .filter((r) =>
        r.dataset === e.dataset && r.backbone === e.backbone && r.augmentation === e.augmentation &&
        r.method === e.method && r.classifier === e.classifier && r.status === "ok" && r.structure_sample
      )
      .sort((a, b) => a.seed - b.seed)[0];
    if (!row?.structure_sample) return [];
    const { d, e: ev } = row.structure_sample;
    const n = Math.min(d.length, ev.length);
    const pairs = stride(Array.from({ length: n }, (_, k) => [d[k], ev[k]] as const), STRUCTURE_POINTS)
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    return pairs.length ? [{ entry: e, color: PALETTE[i % PALETTE.length], pairs }] : [];
  });
  // x is ‖F x − F y‖, the same pairs for every method: one range. y spans the panel's own
  // distances and at least x's range, so the y = x line stays comparable where scales agree.
  const maxOf = (v: number[]) => v.reduce((a, b) => Math.max(a, b), 0);
  const xHi = maxOf(samples.flatMap((s) => s.pairs.map(([x]) => x))) * 1.05 || 1;
  const panels = samples.map(({ entry: e, color, pairs }) => {
    const yHi = Math.max(xHi, maxOf(pairs.map(([, y]) => y)) * 1.05);
    const stats = [
      e.r2 ? `R² ${e.r2.mean.toFixed(2)}` : "",
      e.slope ? `slope ${e.slope.mean.toFixed(2)}` : "",
    ]
      .filter(Boolean);
    return {
      title: [entryLabel(e, entries), ...stats].join(" · "),
      xLabel: "‖F x − F y‖",
      yLabel: "‖E F x − E F y‖",
      x: [0, xHi] as [number, number],
      y: [0, yHi] as [number, number],
      series: [{
        name: entryLabel(e, entries),
        color,
        points: pairs.map(([x, y]) => ({ x, y })),
        radius: 2.2,
        opacity: 0.55,
      }],
      diagonal: "y = x",
    };
  });
  return smallMultiplesSvg({ title, className: "plot plot-structure", panels, columns: 3 });
}
