/**
 * WaCo, Wasserstein correlation maximisation (docs/protocol.md): loss = −SWC with
 *
 *   dep  = SW(cat(X, Y), cat(X[π₁], Y[π₂]))     (joint sample vs. product of marginals)
 *   depX = SW(cat(X, X), cat(X, X[π₃]))
 *   depY = SW(cat(Y, Y), cat(Y, Y[π₄]))
 *   SWC  = dep / (depX · depY + 1e-10)^(1/q)
 *
 * where X [n, d] are the clean features repeated s+1 times (the anchors), Y [n, d'] the adapter
 * outputs of all views (n = (s+1)N, row j of X paired with row j of Y), cat joins columns, SW is
 * `swDistance` with p = 2 by default, q = 2 by default (the paper's code: a square root; q is
 * a late parameter, so cells that do not give it keep their ids), and π₁…π₄ are independent uniform permutations of 0..n−1.
 * d' may differ from d (dimension-reducing WaCo). Each SW uses its own P fresh directions in its
 * own dimension (d + d', 2d, 2d').
 *
 * Randomness: everything is drawn from counter-based streams keyed (seed, "waco", step, term,
 * what), term ∈ {"dep", "depX", "depY"}, what ∈ {"directions", "perm"} (dep has "perm1", "perm2"),
 * so a loss call is reproducible from (seed, step) and independent of backend and call order.
 * `wacoDraws` makes the draws; `swcTerms` is the deterministic function of them (tests fix them).
 */
import { TensorError } from "../../errors.ts";
import { CounterRng } from "../../rng/philox.ts";
import { add, concat, div, indexTensor, mul, neg, permuteRows, pow, sqrt } from "../../tensor/ops.ts";
import { type Tensor, tidy } from "../../tensor/tensor.ts";
import { directionsTensor, randomDirections, swDistance } from "../sliced_wasserstein.ts";
import { type AdapterLoss, checkPaired, type LossBatch } from "./spec.ts";
import type { LossEntry } from "../../catalog/entries.ts";
import type { BatchShape } from "../user/graph.ts";

const spec: LossEntry = {
  name: "waco",
  summary: "−SWC: sliced-Wasserstein correlation between clean features and adapter outputs (p = 2)",
  params: {
    directions: {
      description: "random unit directions P per sliced-Wasserstein distance, fresh every call",
      default: 1000,
      integer: true,
      min: 1,
    },
    p: { description: "order p of the sliced Wasserstein distances", default: 2, min: 1 },
    q: {
      description: "dependence exponent q: SWC = dep / (depX · depY + 1e-10)^(1/q) (the paper's code: 2)",
      default: 2,
      exclusiveMin: true,
      min: 0,
      late: true,
    },
  },
  usesAnchors: true,
  random: true,
  sameDim: false,
  minViews: 1,
};

/** The added constant under the square root of SWC's denominator. */
export const SWC_EPS = 1e-10;

/** The random draws of one WaCo call: row-major [P, dim] unit directions and permutations of 0..n−1. */
export interface WacoDraws {
  dep: { directions: Float32Array; perm1: Int32Array; perm2: Int32Array };
  depX: { directions: Float32Array; perm: Int32Array };
  depY: { directions: Float32Array; perm: Int32Array };
}

/** The draws of call `step` for n joint samples, X of dim d and Y of dim dY, P directions each. */
export function wacoDraws(
  seed: number,
  step: number,
  n: number,
  d: number,
  dY: number,
  count: number,
): WacoDraws {
  const s = (...path: (string | number)[]) => new CounterRng(seed, "waco", step, ...path);
  return {
    dep: {
      directions: randomDirections(s("dep", "directions"), count, d + dY),
      perm1: s("dep", "perm1").permutation(n),
      perm2: s("dep", "perm2").permutation(n),
    },
    depX: {
      directions: randomDirections(s("depX", "directions"), count, 2 * d),
      perm: s("depX", "perm").permutation(n),
    },
    depY: {
      directions: randomDirections(s("depY", "directions"), count, 2 * dY),
      perm: s("depY", "perm").permutation(n),
    },
  };
}

/** The terms of SWC, each [1, 1]; only `dep`, `depY` and `swc` depend on y. */
export interface SwcTerms {
  dep: Tensor;
  depX: Tensor;
  depY: Tensor;
  swc: Tensor;
}

/** SWC between x [n, d] and y [n, d'] for fixed draws. Deterministic; differentiable in x and y. */
export function swcTerms(x: Tensor, y: Tensor, draws: WacoDraws, p = 2, q = 2): SwcTerms {
  checkPaired("waco", y, x);
  const b = x.backend;
  const n = x.rows, d = x.cols, dY = y.cols;
  const perm = (t: Tensor, pi: Int32Array) => permuteRows(t, indexTensor(pi, undefined, b));
  const dirs = (v: Float32Array, dim: number) => directionsTensor(v, v.length / dim, dim, b);
  for (
    const [what, pi] of [["dep perm1", draws.dep.perm1], ["dep perm2", draws.dep.perm2], [
      "depX perm",
      draws.depX.perm,
    ], [
      "depY perm",
      draws.depY.perm,
    ]] as const
  ) {
    if (pi.length !== n) throw new TensorError("waco", `${what} has ${pi.length} entries; expected n = ${n}`);
  }
  const dep = swDistance(
    concat([x, y], 1),
    concat([perm(x, draws.dep.perm1), perm(y, draws.dep.perm2)], 1),
    dirs(draws.dep.directions, d + dY),
    p,
  );
  // Without a gradient through x (the anchors, in training) depX is a constant: its intermediates
  // are freed at once instead of at the end of the step (same values).
  const depXOf = () =>
    swDistance(
      concat([x, x], 1),
      concat([x, perm(x, draws.depX.perm)], 1),
      dirs(draws.depX.directions, 2 * d),
      p,
    );
  const depX = x.requiresGrad ? depXOf() : tidy(depXOf);
  const depY = swDistance(
    concat([y, y], 1),
    concat([y, perm(y, draws.depY.perm)], 1),
    dirs(draws.depY.directions, 2 * dY),
    p,
  );
  // q = 2 by the square root, exactly as before q existed (signed results re-run bit for bit).
  const joint = add(mul(depX, depY), SWC_EPS);
  const swc = div(dep, q === 2 ? sqrt(joint) : pow(joint, 1 / q));
  return { dep, depX, depY, swc };
}

export interface WacoOptions {
  /** Directions P per SW (default 1000). */
  directions?: number;
  /** Order p (default 2). */
  p?: number;
  /** Dependence exponent q (default 2): the denominator is (depX · depY + 1e-10)^(1/q). */
  q?: number;
  /** Run seed and call index: the draws come from (seed, "waco", step, …). */
  seed: number;
  step: number;
}

/** The WaCo loss −SWC(anchors, y) ([1, 1]) with fresh draws for (seed, step). */
export function wacoLoss(y: Tensor, anchors: Tensor, opts: WacoOptions): Tensor {
  checkPaired("waco", y, anchors);
  const count = opts.directions ?? 1000;
  const draws = wacoDraws(opts.seed, opts.step, y.rows, anchors.cols, y.cols, count);
  return neg(swcTerms(anchors, y, draws, opts.p ?? 2, opts.q ?? 2).swc);
}

/** `wacoLoss` on a `LossBatch` with resolved parameters. */
export function wacoFromBatch(batch: LossBatch, params: Record<string, number | undefined>): Tensor {
  return wacoLoss(batch.y, batch.anchors, {
    directions: params.directions,
    p: params.p,
    q: params.q,
    seed: batch.seed,
    step: batch.step,
  });
}

/**
 * At least the three SWs' directions (P · 3(d + d') floats) and each SW's two sets of projections
 * with their sorted copies and gradients (P · n floats, 3 · 2 · 3 of them), float32.
 */
function wacoWorkBytes(shape: BatchShape, params: Record<string, number | undefined>): number {
  const P = params.directions ?? 1000;
  return 4 * P * (3 * (shape.inDim + shape.outDim) + 18 * shape.rows);
}

/** The catalog entry of the loss (registered in ./registered.ts). */
export const loss: AdapterLoss = { ...spec, compute: wacoFromBatch, workBytes: wacoWorkBytes };
