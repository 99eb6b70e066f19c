/**
 * What every adapter loss shares: the batch layout, and the shape of a loss (its catalog entry,
 * src/catalog/entries.ts `LossEntry`, plus the function that computes it).
 *
 * Row layout, everywhere: with N clean inputs and s augmented views each, a batch holds (s+1)N
 * rows; rows [0, N) are the clean inputs and rows [kN, (k+1)N) are view k (k = 1..s), so rows
 * j, j + N, …, j + sN all come from input j.
 */
import type { LossEntry } from "../../catalog/entries.ts";
import { TensorError } from "../../errors.ts";
import { shapeStr, type Tensor } from "../../tensor/tensor.ts";
import type { BatchShape } from "../user/graph.ts";

/** The inputs of one loss evaluation. */
export interface LossBatch {
  /** Adapter outputs E(F(·)) of all views, [(s+1)N, d'], in the row layout above. */
  y: Tensor;
  /** The clean features F(x) repeated s+1 times, [(s+1)N, d] (row j pairs with row j of y). */
  anchors: Tensor;
  /** s + 1: the number of views per input, the clean one included. */
  views: number;
  /** Run seed, for losses that draw random numbers (WaCo). */
  seed: number;
  /** Index of this loss call (the training step), so each call draws fresh but reproducible numbers. */
  step: number;
}

/** A loss: its catalog entry (pure data) and the function of a batch that computes it. */
export interface AdapterLoss extends LossEntry {
  /** The [1, 1] loss on a batch; `params` as resolved from the entry's `params`. */
  readonly compute: (batch: LossBatch, params: Readonly<Record<string, number | undefined>>) => Tensor;
  /**
   * Bytes one evaluation holds at least, forward and backward, on a batch of this shape: what the
   * preflight adds to the adapter's own memory before a run starts (absent: negligible or unknown).
   */
  readonly workBytes?: (shape: BatchShape, params: Readonly<Record<string, number | undefined>>) => number;
  /** Work before the first `compute` on these batch shapes (a method file traces its graphs). */
  readonly prepare?: (
    shapes: readonly BatchShape[],
    params: Readonly<Record<string, number | undefined>>,
  ) => Promise<void>;
}

/** Checks the (s+1)N row layout: `views` ≥ minViews, rows divisible by views; returns N. */
export function inputsPerView(op: string, y: Tensor, views: number, minViews = 1): number {
  if (!Number.isInteger(views) || views < minViews) {
    throw new TensorError(
      op,
      `views = ${views}; expected an integer ≥ ${minViews} (s + 1, the clean view included)`,
    );
  }
  if (y.rows % views !== 0 || y.rows === 0) {
    throw new TensorError(
      op,
      `outputs ${
        shapeStr(y.shape)
      } with ${views} views; expected (s+1)·N rows, a positive multiple of ${views}`,
    );
  }
  return y.rows / views;
}

/** Checks that `anchors` has one row per row of `y`. */
export function checkPaired(op: string, y: Tensor, anchors: Tensor): void {
  if (y.rows !== anchors.rows) {
    throw new TensorError(
      op,
      `outputs ${shapeStr(y.shape)} and anchors ${
        shapeStr(anchors.shape)
      }; expected the same number of rows ` +
        `(anchors are the clean features repeated s+1 times)`,
    );
  }
}
