/**
 * Fresh views (`training.view_pool: fresh`, the protocol's regime): every step draws new
 * augmentation parameters for each of its s views, and F runs on them during training. An image
 * is in exactly one step per epoch, so its view k (0..s−1) in epoch e is augmented train view
 * e·s + k, whose parameters come from the counter-based stream (seed, "augment", "train", image,
 * e·s + k) (src/augment/params.ts): no view is ever reused, and the views are the same on every
 * machine, backend and shard. They go through the feature path (batched, via the feature cache,
 * so the adapters of one seed share them) one epoch at a time, and only the current epoch's views
 * are held in memory.
 */
import type { CellFeatures } from "./method.ts";

/** Where an adapter's augmented views come from when they are fresh: s views per image per epoch. */
export interface FreshViews {
  readonly kind: "fresh";
  /** s: views per image per epoch. */
  readonly views: number;
  /** The s view matrices [n, d] of epoch `epoch` (view k of image i in row i of entry k). */
  epoch(epoch: number): Promise<Float32Array[]>;
}

/** The augmented train view that is view k of epoch e under fresh views. */
export function freshViewIndex(epoch: number, views: number, k: number): number {
  return epoch * views + k;
}

/** Fresh views of the cell's train split, s per image per epoch. */
export function freshViews(f: CellFeatures, views: number): FreshViews {
  return {
    kind: "fresh",
    views,
    epoch: async (epoch) => {
      const out: Float32Array[] = [];
      for (let k = 0; k < views; k++) {
        const view = freshViewIndex(epoch, views, k);
        out.push(await (f.augmentedTransient?.("train", view) ?? f.augmented("train", view)));
      }
      return out;
    },
  };
}
