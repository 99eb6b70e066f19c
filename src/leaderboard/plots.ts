/**
 * The two plots of a submission's detail page, for one (dataset, backbone, augmentation) group:
 * augmented against clean accuracy per method (mean over seeds, 95 % CI bars, labelled), and
 * the structure scatter ‖E F x − E F y‖ against ‖F x − F y‖ from the rows' structure samples
 * with the y = x line of a perfect isometry.
 */
import type { ResultDocument } from "../results/schema.ts";
import type { Markup } from "./markup.ts";
import type { Entry } from "./ranking.ts";
import { paddedDomain, PALETTE, type ScatterSeries, scatterSvg } from "./svg.ts";

/** At most this many pairs per method in the structure plot (a deterministic stride sample). */
export const STRUCTURE_POINTS = 300;

function entryLabel(e: Entry, entries: readonly Entry[]): string {
  const classifiers = new Set(entries.map((x) => x.classifier));
  return classifiers.size > 1 ? `${e.method} (${e.classifier})` : e.method;
}

/** Augmented vs clean accuracy (%), one labelled point per method with its CI bars. */
export function accuracyPlot(entries: readonly Entry[], title: string): Markup {
  const withAcc = entries.filter((e) => e.accAug && e.accClean);
  const pct = (v: number) => 100 * v;
  const xs = withAcc.flatMap((e) => [e.accClean!.ci95[0], e.accClean!.ci95[1]].map(pct));
  const ys = withAcc.flatMap((e) => [e.accAug!.ci95[0], e.accAug!.ci95[1]].map(pct));
  const series: ScatterSeries[] = withAcc.map((e) => ({
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
    className: "plot plot-accuracy",
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

/** ‖E F x − E F y‖ against ‖F x − F y‖ per method (lowest ok seed with a sample), and y = x. */
export function structurePlot(doc: ResultDocument, entries: readonly Entry[], title: string): Markup {
  const series: ScatterSeries[] = [];
  const all: number[] = [];
  entries.forEach((e, i) => {
    const row = doc.rows
      .filter((r) =>
        r.dataset === e.dataset && r.backbone === e.backbone && r.augmentation === e.augmentation &&
        r.method === e.method && r.classifier === e.classifier && r.status === "ok" && r.structure_sample
      )
      .sort((a, b) => a.seed - b.seed)[0];
    if (!row?.structure_sample) return;
    const { d, e: ev } = row.structure_sample;
    const n = Math.min(d.length, ev.length);
    const pairs = stride(Array.from({ length: n }, (_, k) => [d[k], ev[k]] as const), STRUCTURE_POINTS)
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    for (const [x, y] of pairs) all.push(x, y);
    const r2 = e.r2 ? `, R² ${e.r2.mean.toFixed(2)}` : "";
    series.push({
      name: `${entryLabel(e, entries)}${r2}`,
      color: PALETTE[i % PALETTE.length],
      points: pairs.map(([x, y]) => ({ x, y })),
      radius: 2.2,
      opacity: 0.55,
    });
  });
  const hi = all.length ? Math.max(...all) * 1.05 : 1;
  return scatterSvg({
    title,
    className: "plot plot-structure",
    xLabel: "‖F x − F y‖",
    yLabel: "‖E F x − E F y‖",
    x: [0, hi],
    y: [0, hi],
    series,
    diagonal: "y = x (isometry)",
  });
}
