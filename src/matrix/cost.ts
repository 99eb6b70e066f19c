/**
 * Relative cost estimates of cells and feature groups, in "sample passes": one image through the
 * backbone (scaled by its input pixels against 28×28) or one sample through an adapter training
 * step (scaled by the hidden width against 1024). They balance `--shard-by group` and are printed
 * per shard by `invbench slurm|k8s`; they are estimates for comparing shards of one matrix, not
 * seconds (docs/distributed.md shows how to turn them into hours with a measured cell).
 */
import type { Cell, ResolvedAdapter } from "./expand.ts";
import { type DatasetSpec, isAdapter, viewBudget } from "./schema.ts";

/** Split sizes of the packaged and well-known sources (used when a matrix sets no `limit`). */
const SPLIT_SIZES: Partial<Record<DatasetSpec["source"], { train: number; test: number }>> = {
  "mnist": { train: 60000, test: 10000 },
  "fashion-mnist": { train: 60000, test: 10000 },
  "cifar10": { train: 50000, test: 10000 },
  "cifar100": { train: 50000, test: 10000 },
  "stl10": { train: 5000, test: 8000 },
};
/** Sources read from user files of unknown size: a guess, stated in the docs. */
const UNKNOWN_SPLIT = { train: 10000, test: 2000 };

function splitSizes(d: DatasetSpec): { train: number; test: number } {
  const known = SPLIT_SIZES[d.source];
  const size = known ?? UNKNOWN_SPLIT;
  const cap = (limit: number | undefined, n: number) => (known ? Math.min(limit ?? n, n) : limit ?? n);
  return { train: cap(d.train.limit, size.train), test: cap(d.test.limit, size.test) };
}

/** Backbone cost of one image relative to a 28×28 input. */
function pixelFactor(cell: Cell): number {
  const [h, w] = cell.spec.backbone.input.size;
  return (h * w) / (28 * 28);
}

/** Feature extraction of one (dataset, backbone, augmentation) group: clean and augmented views. */
export function groupExtractionCost(cell: Cell, views: number): number {
  const n = splitSizes(cell.spec.dataset);
  return pixelFactor(cell) * (n.train * (1 + views) + n.test * (1 + cell.spec.evaluation.aug_draws));
}

/** Views per training image a cell's method needs extracted (0 for methods without augmented training). */
export function viewsOf(cell: Cell): number {
  const m = cell.spec.method;
  if (isAdapter(m)) return viewBudget((m as ResolvedAdapter).training);
  return typeof m.views === "number" ? m.views : 0;
}

/**
 * The per-cell work beyond the group's extraction: adapter training, the backbone passes of a
 * method that averages transformed copies of every input (tta's `copies`, train and test inputs
 * and each augmented draw), and the classifier fit.
 */
export function cellTrainingCost(cell: Cell): number {
  const n = splitSizes(cell.spec.dataset);
  const m = cell.spec.method;
  const t = isAdapter(m) ? (m as ResolvedAdapter).training : undefined;
  const adapter = t ? n.train * t.epochs * t.views * (t.hidden / 1024) : 0;
  const copies = (m as { copies?: unknown }).copies;
  const passes = (typeof copies === "number" ? copies : 0) * pixelFactor(cell) *
    (n.train + n.test * (1 + cell.spec.evaluation.aug_draws));
  return adapter + passes + n.train * cell.spec.classifier.epochs / 10;
}

/** Estimated cost of a set of cells run together: each group's extraction once, plus every cell. */
export function estimateCost(cells: readonly Cell[]): number {
  const views = new Map<string, { cell: Cell; views: number }>();
  let total = 0;
  for (const c of cells) {
    const key = groupKey(c);
    views.set(key, { cell: c, views: Math.max(views.get(key)?.views ?? 0, viewsOf(c)) });
    total += cellTrainingCost(c);
  }
  for (const { cell, views: v } of views.values()) total += groupExtractionCost(cell, v);
  return total;
}

/** The feature group of a cell: cells of one group share every augmented feature set. */
export function groupKey(c: Pick<Cell, "dataset" | "backbone" | "augmentation">): string {
  return `${c.dataset}/${c.backbone}/${c.augmentation}`;
}
