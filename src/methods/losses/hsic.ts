/**
 * HSIC baseline (docs/protocol.md): loss = −HSIC(X, Y) over the (s+1)N joint sample, X the clean
 * features repeated s+1 times (the anchors), Y the adapter outputs, row j of X paired with row j
 * of Y. The biased estimator (Gretton et al. 2005):
 *
 *   HSIC = Tr(K H L H) / (n − 1)²,  H = I − 11ᵀ/n,
 *
 * computed as Σ_ij (HKH)_ij (HLH)_ij / (n − 1)² (equal, since H is idempotent and K, L
 * symmetric; centring both keeps float32 cancellation small and makes HSIC exactly 0 for a
 * constant Y). Gaussian kernels K_ij = exp(−‖x_i − x_j‖² / (2σ_X² + 1e-12)), L likewise with σ_Y.
 *
 * Bandwidth: `bandwidth` sets σ_X = σ_Y = bandwidth. Otherwise the median heuristic, separately
 * for X and Y: σ = median of the n(n−1)/2 pairwise distances ‖z_i − z_j‖, i < j (the mean of the
 * two middle values when their count is even), computed on detached values (no gradient flows
 * through σ). The 1e-12 keeps a constant sample (σ = 0) finite: then K = 11ᵀ and HSIC = 0.
 */
import { TensorError } from "../../errors.ts";
import {
  add,
  gatherElems,
  indexTensor,
  mean,
  mul,
  neg,
  pairwiseSqDist,
  reshape,
  sortRows,
  sqrt,
  square,
  tensor,
} from "../../tensor/ops.ts";
import { noGrad, Tensor, tidy } from "../../tensor/tensor.ts";
import { doubleCenter, gaussianOfSqDist, sumOfProducts } from "../../tensor/fused_ops.ts";
import { type AdapterLoss, checkPaired, type LossBatch } from "./spec.ts";
import type { LossEntry } from "../../catalog/entries.ts";

const spec: LossEntry = {
  name: "hsic",
  summary: "−HSIC (biased, Gaussian kernels) between clean features and adapter outputs",
  params: {
    bandwidth: {
      description: "Gaussian kernel bandwidth σ for both kernels; median heuristic per call when absent",
      min: 0,
      exclusiveMin: true,
    },
  },
  usesAnchors: true,
  random: false,
  sameDim: false,
  minViews: 1,
};

/** Added to 2σ² in the kernels' denominators. */
export const KERNEL_EPS = 1e-12;

/** Order-preserving unsigned key of float32 bits (negatives reversed below the positives). */
function orderKey(bits: number): number {
  return (bits < 0 ? ~bits : bits | 0x80000000) >>> 0;
}

/**
 * The values of ranks k1 ≤ k2 (0-based, k2 ≤ k1 + 1) among the upper triangle i < j of the
 * [n, n] float32 matrix `all`, without copying it: a histogram of the top 16 bits of each value's
 * order key finds the buckets holding those ranks, and only the values in them are sorted. Two
 * passes over n²/2 values and a sort of one bucket, where sorting or quickselecting a copy of the
 * whole triangle cost ~10 % of an HSIC step. The ranks' values are exactly those of a full sort
 * (±0 aside, which the callers' max(·, 0) makes equal).
 */
export function upperTriangleRanks(all: Float32Array, n: number, k1: number, k2: number): [number, number] {
  const bits = new Int32Array(all.buffer, all.byteOffset, n * n);
  const hist = new Int32Array(65536);
  for (let i = 0; i < n; i++) {
    for (let t = i * n + i + 1, end = (i + 1) * n; t < end; t++) hist[orderKey(bits[t]) >>> 16]++;
  }
  // The bucket of each rank and the rank's position within it.
  const find = (k: number): [number, number] => {
    let below = 0, b = 0;
    while (below + hist[b] <= k) below += hist[b++];
    return [b, k - below];
  };
  const [b1, r1] = find(k1), [b2, r2] = find(k2);
  const pick = new Float32Array(hist[b1] + (b2 !== b1 ? hist[b2] : 0));
  let c = 0;
  for (let i = 0; i < n; i++) {
    for (let t = i * n + i + 1, end = (i + 1) * n; t < end; t++) {
      const top = orderKey(bits[t]) >>> 16;
      if (top === b1 || top === b2) pick[c++] = all[t];
    }
  }
  pick.sort();
  // Bucket b1's values come first in the sorted candidates (b1 ≤ b2, keys ordered by bucket).
  return [pick[r1], pick[b2 === b1 ? r2 : hist[b1] + r2]];
}

/**
 * The median pairwise distance of the rows of `d2` ([n, n] squared distances, no gradient):
 * over the upper triangle i < j. A [1, 1] tensor; on the host where the backend reads
 * synchronously (cpu), else on the device: by the backend's radix selection where it has one
 * (webgpu), else by a sort of the upper triangle (the same values).
 */
export function medianDistance(d2: Tensor): Tensor {
  const n = d2.rows;
  if (n < 2) {
    throw new TensorError("medianDistance", `${n} points; expected at least 2 for a pairwise distance`);
  }
  const q = (n * (n - 1)) / 2;
  const k1 = (q - 1) >> 1, k2 = q >> 1; // the two middle ranks (equal when q is odd)
  return noGrad(() => {
    const backend = d2.backend;
    if (backend.readSync) {
      const [a, b] = upperTriangleRanks(d2.viewSync(), n, k1, k2);
      const sigma = (Math.sqrt(Math.max(a, 0)) + Math.sqrt(Math.max(b, 0))) / 2;
      // NaN from diverged outputs passes on, as on the device paths: the loss, not the run, fails.
      return tensor(new Float32Array([sigma]), [1, 1], { backend, allowNonFinite: true });
    }
    if (backend.upperTriangleRanks) {
      const mid = new Tensor(backend, backend.upperTriangleRanks(d2.storage, n, k1, k2), [1, 2]);
      return mean(sqrt(mid));
    }
    const idx = new Int32Array(q);
    let t = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) idx[t++] = i * n + j;
    const upper = gatherElems(reshape(d2, [1, n * n]), indexTensor(idx, [1, q], backend));
    const sorted = sortRows(upper).values;
    const mid = gatherElems(sorted, indexTensor(new Int32Array([k1, k2]), [1, 2], backend));
    return mean(sqrt(mid));
  });
}

/** Gaussian kernel matrix of the rows of z with bandwidth σ (a number, or a [1, 1] tensor). */
export function gaussianKernel(z: Tensor, sigma?: number): Tensor {
  const d2 = pairwiseSqDist(z, z);
  const s = sigma === undefined ? medianDistance(d2) : tensor([sigma], [1, 1], { backend: z.backend });
  return gaussianOfSqDist(d2, add(mul(square(s), 2), KERNEL_EPS));
}

/** The biased HSIC ([1, 1]) between paired rows of x [n, d] and y [n, d']. */
export function hsic(x: Tensor, y: Tensor, bandwidth?: number): Tensor {
  checkPaired("hsic", y, x);
  const n = x.rows;
  if (n < 2) throw new TensorError("hsic", `${n} samples; expected at least 2`);
  if (bandwidth !== undefined && !(bandwidth > 0 && Number.isFinite(bandwidth))) {
    throw new TensorError("hsic", `bandwidth ${bandwidth}; expected a finite σ > 0`);
  }
  // A side without gradient (the anchors, in training) needs only its centred kernel: its
  // intermediates are freed at once instead of at the end of the step (same values).
  const centred = (z: Tensor) =>
    z.requiresGrad
      ? doubleCenter(gaussianKernel(z, bandwidth))
      : tidy(() => doubleCenter(gaussianKernel(z, bandwidth)));
  const kc = centred(x);
  const lc = centred(y);
  return mul(sumOfProducts(kc, lc), 1 / ((n - 1) * (n - 1)));
}

/** The HSIC loss −HSIC(anchors, y). */
export function hsicLoss(y: Tensor, anchors: Tensor, opts: { bandwidth?: number } = {}): Tensor {
  return neg(hsic(anchors, y, opts.bandwidth));
}

/** `hsicLoss` on a `LossBatch` with resolved parameters. */
export function hsicFromBatch(batch: LossBatch, params: Record<string, number | undefined>): Tensor {
  return hsicLoss(batch.y, batch.anchors, { bandwidth: params.bandwidth });
}

/** The catalog entry of the loss (registered in ./registered.ts). */
export const loss: AdapterLoss = {
  ...spec,
  compute: hsicFromBatch,
  // Both sides' n × n kernels and centred kernels, and the adapter side's gradient, float32.
  workBytes: ({ rows }) => 4 * 5 * rows * rows,
};
