/**
 * MaWa, the anchored MSE of docs/protocol.md:
 *   L = (1/N) Σ_i [ 1/(s+1) ‖E(F x_i) − F x_i‖² + 1/(s+1) Σ_k ‖E(F t(a_ik, x_i)) − F x_i‖² ]
 * With Y the (s+1)N adapter outputs and X the clean anchors repeated s+1 times (row j of Y is
 * paired with row j of X), this is the mean over rows of ‖Y_j − X_j‖².
 */
import { TensorError } from "../../errors.ts";
import { mean, square, sub, sum } from "../../tensor/ops.ts";
import { shapeStr, type Tensor } from "../../tensor/tensor.ts";
import type { AdapterLoss, LossBatch } from "./spec.ts";
import type { LossEntry } from "../../catalog/entries.ts";

const spec: LossEntry = {
  name: "mawa",
  summary: "anchored MSE: mean over all views of ‖E(F(view)) − F(clean)‖²",
  params: {},
  usesAnchors: true,
  random: false,
  sameDim: true,
  minViews: 1,
};

export function mawaLoss(y: Tensor, anchors: Tensor): Tensor {
  if (y.rows !== anchors.rows || y.cols !== anchors.cols) {
    throw new TensorError(
      "mawaLoss",
      `outputs ${shapeStr(y.shape)} and anchors ${shapeStr(anchors.shape)}; expected the same shape (d' = d)`,
    );
  }
  return mean(sum(square(sub(y, anchors)), 1));
}

/** `mawaLoss` on a `LossBatch` (MaWa has no parameters). */
export function mawaFromBatch(batch: LossBatch, _params: Record<string, number | undefined> = {}): Tensor {
  return mawaLoss(batch.y, batch.anchors);
}

/** The catalog entry of the loss (registered in ./registered.ts). */
export const loss: AdapterLoss = { ...spec, compute: mawaFromBatch };
