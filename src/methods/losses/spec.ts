/**
 * What every adapter loss shares: the batch layout, and a plain description of a loss's parameters
 * (names, defaults, ranges) that the matrix schema, the runner and the docs can read.
 *
 * Row layout, everywhere: with N clean inputs and s augmented views each, a batch holds (s+1)N
 * rows; rows [0, N) are the clean inputs and rows [kN, (k+1)N) are view k (k = 1..s), so rows
 * j, j + N, …, j + sN all come from input j.
 */
import { ConfigError, TensorError } from "../../errors.ts";
import { shapeStr, type Tensor } from "../../tensor/tensor.ts";

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

/** One numeric parameter of a loss. */
export interface ParamSpec {
  readonly description: string;
  /** Used when the matrix gives none; absent for optional parameters with a computed fallback. */
  readonly default?: number;
  readonly integer?: boolean;
  /** Inclusive lower bound, unless `exclusiveMin`. */
  readonly min?: number;
  readonly exclusiveMin?: boolean;
}

/** A loss's name, what it computes, and its parameters. */
export interface LossSpec {
  readonly name: string;
  readonly summary: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Whether the loss reads `anchors` (the clean F features). */
  readonly usesAnchors: boolean;
  /** Whether the loss draws random numbers from (seed, step). */
  readonly random: boolean;
  /** Whether it requires d' = d. */
  readonly sameDim: boolean;
  /** The fewest views (s + 1) it accepts. */
  readonly minViews: number;
}

/**
 * The parameters for `spec` given the matrix's `given` ones: defaults filled in, unknown names
 * and out-of-range values rejected with a ConfigError naming the loss and the parameter.
 */
export function resolveParams(
  spec: LossSpec,
  given: Readonly<Record<string, unknown>> = {},
): Record<string, number | undefined> {
  const field = (k: string) => `${spec.name} params.${k}`;
  for (const k of Object.keys(given)) {
    if (!(k in spec.params)) {
      throw new ConfigError(
        field(k),
        `unknown parameter "${k}"; expected one of ${Object.keys(spec.params).join(", ") || "none"}`,
      );
    }
  }
  const out: Record<string, number | undefined> = {};
  for (const [k, p] of Object.entries(spec.params)) {
    const v = given[k] ?? p.default;
    if (v === undefined) {
      out[k] = undefined;
      continue;
    }
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ConfigError(field(k), `${v}; expected a finite number`);
    }
    if (p.integer && !Number.isInteger(v)) throw new ConfigError(field(k), `${v}; expected an integer`);
    if (p.min !== undefined && (p.exclusiveMin ? v <= p.min : v < p.min)) {
      throw new ConfigError(field(k), `${v}; expected ${p.exclusiveMin ? ">" : "≥"} ${p.min}`);
    }
    out[k] = v;
  }
  return out;
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
