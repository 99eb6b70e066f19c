/**
 * Barlow Twins (Zbontar et al. 2021) on the pairs (clean, view k), averaged over the s views:
 *
 *   C = Z̃_0ᵀ Z̃_k / N  (Z̃ standardised per column over the N rows of a view)
 *   L_k = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij²
 */
import type { LossDefinition, Tensor } from "../../mod.ts";

const barlow: LossDefinition = {
  name: "barlow-twins",
  summary: "Barlow Twins: cross-correlation of (clean, view k) pushed to the identity",
  params: {
    lambda: { description: "weight λ of the off-diagonal terms", default: 0.005, min: 0 },
  },
  usesAnchors: false,
  sameDim: false,
  minViews: 2,
  random: false,
  loss(batch, params, ops) {
    const n = batch.y.rows / batch.views, d = batch.y.cols;
    const standardise = (z: Tensor) => {
      const centred = ops.sub(z, ops.mean(z, 0));
      const sd = ops.sqrt(ops.add(ops.mean(ops.square(centred), 0), 1e-5));
      return ops.div(centred, sd);
    };
    const eye: number[] = [];
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) eye.push(i === j ? 1 : 0);
    const identity = ops.tensor(eye, [d, d]);
    const offDiagonal = ops.sub(1, identity);
    const z0 = standardise(ops.slice(batch.y, 0, 0, n));
    let total: Tensor | null = null;
    for (let k = 1; k < batch.views; k++) {
      const zk = standardise(ops.slice(batch.y, 0, k * n, (k + 1) * n));
      const c = ops.mul(ops.matmul(z0, zk, true, false), 1 / n);
      const onDiag = ops.sum(ops.square(ops.mul(ops.sub(c, identity), identity)));
      const offDiag = ops.sum(ops.square(ops.mul(c, offDiagonal)));
      const lk = ops.add(onDiag, ops.mul(offDiag, params.lambda!));
      total = total ? ops.add(total, lk) : lk;
    }
    return ops.mul(total!, 1 / (batch.views - 1));
  },
};

export default barlow;
