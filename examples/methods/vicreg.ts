/**
 * A VICReg-style loss (Bardes et al. 2022) written only against `ops`: for the pairs (clean,
 * view k), invariance MSE + variance hinge (target sd 1) + off-diagonal covariance, averaged
 * over the s views. Weights λ, μ, ν as in the paper.
 */
import type { LossDefinition, Tensor } from "../../mod.ts";

const vicreg: LossDefinition = {
  name: "vicreg-style",
  summary: "VICReg-style: invariance MSE, variance hinge and covariance penalty over (clean, view k)",
  params: {
    invariance: { description: "weight λ of the invariance MSE", default: 25, min: 0 },
    variance: { description: "weight μ of the variance hinge", default: 25, min: 0 },
    covariance: {
      description: "weight ν of the off-diagonal covariance (divided by d')",
      default: 1,
      min: 0,
    },
  },
  usesAnchors: false,
  sameDim: false,
  minViews: 2,
  random: false,
  loss(batch, params, ops) {
    const n = batch.y.rows / batch.views, d = batch.y.cols;
    const mask: number[] = [];
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) mask.push(i === j ? 0 : 1);
    const offDiagonal = ops.tensor(mask, [d, d]);
    const regularisers = (z: Tensor) => {
      const centred = ops.sub(z, ops.mean(z, 0));
      const variances = ops.mul(ops.sum(ops.square(centred), 0), 1 / (n - 1));
      const hinge = ops.mean(ops.relu(ops.sub(1, ops.sqrt(ops.add(variances, 1e-4)))));
      const cov = ops.mul(ops.matmul(centred, centred, true, false), 1 / (n - 1));
      return { hinge, cov: ops.mul(ops.sum(ops.square(ops.mul(cov, offDiagonal))), 1 / d) };
    };
    const z0 = ops.slice(batch.y, 0, 0, n);
    const r0 = regularisers(z0);
    let total: Tensor | null = null;
    for (let k = 1; k < batch.views; k++) {
      const zk = ops.slice(batch.y, 0, k * n, (k + 1) * n);
      const rk = regularisers(zk);
      const inv = ops.mean(ops.square(ops.sub(z0, zk)));
      const hinge = ops.mul(ops.add(r0.hinge, rk.hinge), 0.5);
      const cov = ops.add(r0.cov, rk.cov);
      const lk = ops.add(
        ops.add(ops.mul(inv, params.invariance!), ops.mul(hinge, params.variance!)),
        ops.mul(cov, params.covariance!),
      );
      total = total ? ops.add(total, lk) : lk;
    }
    return ops.mul(total!, 1 / (batch.views - 1));
  },
};

export default vicreg;
