/**
 * VICReg (Bardes et al. 2022) as an extra baseline (docs/protocol.md), on the adapter outputs only.
 * For two branches Z, Z' of N rows and d' columns, the reference implementation's loss:
 *
 *   ℓ(Z, Z') = λ·inv(Z, Z') + μ·(v(Z) + v(Z'))/2 + ν·(c(Z) + c(Z'))
 *   inv(Z, Z') = mean over N·d' entries of (Z − Z')²
 *   v(Z) = mean_j relu(1 − sqrt(Var_j(Z) + 1e-4))     (unbiased variance over the N rows)
 *   c(Z) = (1/d') Σ_{i ≠ j} C(Z)_ij²,  C(Z) = (Z − Z̄)ᵀ(Z − Z̄)/(N − 1)
 *
 * with λ, μ, ν = 25, 25, 1 (the `invariance`, `variance`, `covariance` parameters).
 *
 * s+1 views: Z_0 = rows [0, N) (the clean inputs) and Z_k = rows [kN, (k+1)N). The loss is the
 * mean of ℓ over the s pairs (clean, view k):
 *
 *   L = (1/s) Σ_{k=1..s} ℓ(Z_0, Z_k)
 *     = λ·(1/s)Σ_k inv(Z_0, Z_k) + μ·[v(Z_0)/2 + (1/2s)Σ_k v(Z_k)] + ν·[c(Z_0) + (1/s)Σ_k c(Z_k)],
 *
 * which is exactly the reference VICReg loss for s = 1.
 */
import { TensorError } from "../../errors.ts";
import { add, matmul, mean, mul, relu, slice, sqrt, square, sub, sum, tensor } from "../../tensor/ops.ts";
import { type Tensor } from "../../tensor/tensor.ts";
import { type AdapterLoss, inputsPerView, type LossBatch } from "./spec.ts";
import type { LossEntry } from "../../catalog/entries.ts";

const spec: LossEntry = {
  name: "vicreg",
  summary:
    "VICReg averaged over the pairs (clean, view k): invariance MSE, variance hinge, off-diagonal covariance",
  params: {
    invariance: { description: "weight λ of the invariance MSE", default: 25, min: 0 },
    variance: { description: "weight μ of the variance hinge (target std 1, ε = 1e-4)", default: 25, min: 0 },
    covariance: {
      description: "weight ν of the off-diagonal covariance penalty (divided by d')",
      default: 1,
      min: 0,
    },
  },
  usesAnchors: false,
  random: false,
  sameDim: false,
  minViews: 2,
};

/** ε under the square root of the variance hinge. */
export const VICREG_EPS = 1e-4;

export interface VicregOptions {
  invariance?: number;
  variance?: number;
  covariance?: number;
}

/** The variance hinge v(Z) and covariance penalty c(Z) of one view, each [1, 1]. */
export function vicregRegularizers(z: Tensor, offDiagonal: Tensor): { variance: Tensor; covariance: Tensor } {
  const n = z.rows, d = z.cols;
  const zc = sub(z, mean(z, 0));
  const cov = mul(matmul(zc, zc, true, false), 1 / (n - 1));
  const varj = mul(sum(square(zc), 0), 1 / (n - 1));
  const variance = mean(relu(sub(1, sqrt(add(varj, VICREG_EPS)))));
  const covariance = mul(sum(square(mul(cov, offDiagonal))), 1 / d);
  return { variance, covariance };
}

/** The multi-view VICReg loss ([1, 1]) of y [(s+1)N, d'] laid out as rows [kN, (k+1)N) = view k. */
export function vicregLoss(y: Tensor, views: number, opts: VicregOptions = {}): Tensor {
  const n = inputsPerView("vicreg", y, views, 2);
  if (n < 2) {
    throw new TensorError("vicreg", `N = ${n} inputs per view; expected at least 2 for batch variances`);
  }
  const lam = opts.invariance ?? 25, mu = opts.variance ?? 25, nu = opts.covariance ?? 1;
  const s = views - 1, d = y.cols;
  const mask = new Float32Array(d * d).fill(1);
  for (let j = 0; j < d; j++) mask[j * d + j] = 0;
  const offDiagonal = tensor(mask, [d, d], { backend: y.backend });
  const z0 = slice(y, 0, 0, n);
  const r0 = vicregRegularizers(z0, offDiagonal);
  let inv: Tensor | null = null, vk: Tensor | null = null, ck: Tensor | null = null;
  for (let k = 1; k <= s; k++) {
    const zk = slice(y, 0, k * n, (k + 1) * n);
    const rk = vicregRegularizers(zk, offDiagonal);
    const ik = mean(square(sub(z0, zk)));
    inv = inv ? add(inv, ik) : ik;
    vk = vk ? add(vk, rk.variance) : rk.variance;
    ck = ck ? add(ck, rk.covariance) : rk.covariance;
  }
  const invariance = mul(inv!, lam / s);
  const variance = mul(add(mul(r0.variance, 0.5), mul(vk!, 1 / (2 * s))), mu);
  const covariance = mul(add(r0.covariance, mul(ck!, 1 / s)), nu);
  return add(add(invariance, variance), covariance);
}

/** `vicregLoss` on a `LossBatch` with resolved parameters. */
export function vicregFromBatch(batch: LossBatch, params: Record<string, number | undefined>): Tensor {
  return vicregLoss(batch.y, batch.views, params);
}

/** The catalog entry of the loss (registered in ./registered.ts). */
export const loss: AdapterLoss = { ...spec, compute: vicregFromBatch };
