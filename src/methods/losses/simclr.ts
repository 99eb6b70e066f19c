/**
 * SimCLR's NT-Xent on the adapter outputs of the s+1 views of each input (docs/protocol.md baseline).
 *
 * With M = (s+1)N rows z_a = y_a / max(‖y_a‖, 1e-12) (cosine similarity, as torch's
 * F.normalize) and logits ℓ_ab = z_a·z_b / τ:
 *
 *   L = (1/M) Σ_a (1/s) Σ_{p ∈ P(a)} −log( exp(ℓ_ap) / Σ_{b ≠ a} exp(ℓ_ab) )
 *
 * where P(a) are the s other views of a's input (rows a ± kN) and the denominator runs over every
 * row but a itself (self-similarity excluded; the other positives stay in it). This is the
 * multi-positive SupCon "L_out" form (Khosla et al. 2020), and, because every anchor has exactly
 * s positives, equally the mean over all ordered positive pairs (a, p) of the pairwise NT-Xent
 * term with the full denominator. With s = 1 it is exactly SimCLR's NT-Xent over 2N rows.
 */
import { TensorError } from "../../errors.ts";
import {
  div,
  full,
  gatherElems,
  indexTensor,
  logsumexp,
  matmul,
  maximum,
  mean,
  mul,
  sqrt,
  square,
  sub,
  sum,
} from "../../tensor/ops.ts";
import { type Tensor } from "../../tensor/tensor.ts";
import { addDiagonal } from "../../tensor/fused_ops.ts";
import { type AdapterLoss, inputsPerView, type LossBatch } from "./spec.ts";
import type { LossEntry } from "../../catalog/entries.ts";

const spec: LossEntry = {
  name: "simclr",
  summary:
    "NT-Xent over the s+1 views of each input (multi-positive, SupCon L_out form), cosine similarities",
  params: {
    temperature: { description: "softmax temperature τ", default: 0.5, min: 0, exclusiveMin: true },
  },
  usesAnchors: false,
  random: false,
  sameDim: false,
  minViews: 2,
};

/** Added to the self-similarity logits so that exp() of them is exactly 0 in float32. */
const SELF_MASK = -1e9;

/** Rows divided by their Euclidean norm (at least 1e-12). */
export function normalizeRows(y: Tensor): Tensor {
  const norm = sqrt(sum(square(y), 1));
  return div(y, maximum(norm, full([1, 1], 1e-12, y.backend)));
}

/** The NT-Xent loss ([1, 1]) of y [(s+1)N, d'] laid out as rows [kN, (k+1)N) = view k. */
export function simclrLoss(y: Tensor, views: number, opts: { temperature?: number } = {}): Tensor {
  const n = inputsPerView("simclr", y, views, 2);
  const tau = opts.temperature ?? 0.5;
  if (!(tau > 0) || !Number.isFinite(tau)) {
    throw new TensorError("simclr", `temperature ${tau}; expected a finite τ > 0`);
  }
  const m = y.rows, s = views - 1;
  const z = normalizeRows(y);
  const logits = mul(matmul(z, z, false, true), 1 / tau);
  // SELF_MASK added on the diagonal, 0 elsewhere.
  const lse = logsumexp(addDiagonal(logits, SELF_MASK));
  // Columns of the s positives of each row a: (a + kN) mod M, k = 1..s.
  const pos = new Int32Array(m * s);
  for (let a = 0; a < m; a++) for (let k = 1; k <= s; k++) pos[a * s + k - 1] = (a + k * n) % m;
  const positives = gatherElems(logits, indexTensor(pos, [m, s], y.backend));
  return sub(mean(lse), mul(sum(positives), 1 / (m * s)));
}

/** `simclrLoss` on a `LossBatch` with resolved parameters. */
export function simclrFromBatch(batch: LossBatch, params: Record<string, number | undefined>): Tensor {
  return simclrLoss(batch.y, batch.views, { temperature: params.temperature });
}

/** The catalog entry of the loss (registered in ./registered.ts). */
export const loss: AdapterLoss = {
  ...spec,
  compute: simclrFromBatch,
  // The n × n logits, their exponentials and their gradient, float32.
  workBytes: ({ rows }) => 4 * 3 * rows * rows,
};
