/**
 * What a method is to the runner: given a cell's features, it fits whatever it fits (an adapter,
 * steering maps, nothing) and says what the classifier trains on and what it sees at test time.
 * Everything downstream (classifier, accuracies, structure, cost) is the same for all methods.
 */
import type { ViewParams } from "../augment/params.ts";
import type { FeatureAugmentation } from "../backbone/extract.ts";
import type { FeatureRows } from "../cache/feature_rows.ts";
import type { Split } from "../data/dataset.ts";
import type { MethodEntry, ParamsSpec, ParamValues } from "../catalog/entries.ts";
import type { AugmentationSpec } from "../matrix/schema.ts";
import type { CostProfile } from "../results/schema.ts";
import type { Backend } from "../tensor/backend.ts";

/** The features of one cell, extracted on demand through the cache. */
export interface CellFeatures {
  backend: Backend;
  seed: number;
  augmentation: AugmentationSpec;
  /** Backbone feature dimension d and number of classes. */
  d: number;
  classes: number;
  labels: Record<Split, Int32Array>;
  /** V: augmented train views available as the adapter's view pool (views 0..V−1); 0 under fresh views. */
  poolViews: number;
  /** K: augmented test draws for augmented accuracy (views 0..K−1 of the test split). */
  testDraws: number;
  /** Reports progress of a long fit (done of total steps, e.g. epochs); optional. */
  progress?: (done: number, total: number, what: string) => void;
  /** Clean F(x) of a split, [n, d] row-major. */
  clean(split: Split): Promise<Float32Array>;
  /** F(t(a, x)) for the cell's augmentation, view `view` of a split. */
  augmented(split: Split, view: number): Promise<Float32Array>;
  /**
   * `clean` and `augmented` as rows read on demand from the feature cache, so that training over a
   * large split holds a batch of rows, not the split (docs/data.md, "Memory"); the caller closes
   * them. Absent (hand-built features): use the arrays.
   */
  cleanRows?(split: Split): Promise<FeatureRows>;
  augmentedRows?(split: Split, view: number): Promise<FeatureRows>;
  /** F of a split under another (e.g. fixed) transform, for baselines that need it. */
  transformed(split: Split, augmentation: FeatureAugmentation, view: number): Promise<Float32Array>;
  /**
   * The drawn parameters of each row of `augmented(split, view)` (src/augment/params.ts), for the
   * baselines that use the known transform (steer fits per-parameter maps and picks them by it).
   */
  viewParams?(split: Split, view: number): ViewParams[];
}

/** What a fitted method hands the runner. */
export interface FittedMethod {
  status: "ok" | "collapsed" | "diverged";
  reason?: string;
  /** e.g. "invariant-classifier-not-latent" (aug-probe), "oracle-transform" (steer). */
  flags: string[];
  /** What the classifier trains on (an array, or rows read on demand), with clean labels; `dim` is its column count. */
  trainSet: { x: Float32Array | FeatureRows; labels: Int32Array; dim: number };
  /** The representation the classifier sees for the clean test split or augmented test draw k. */
  represent(view: "clean" | number): Promise<Float32Array>;
  /** E applied to F features (structure metrics); null when the method leaves F as it is. */
  embed: ((features: Float32Array) => Promise<Float32Array>) | null;
  cost: CostProfile;
  /** Extra metrics of the method for its result row (e.g. canon_bin_acc); names must not clash. */
  metrics?: Record<string, number | null>;
  /** Seconds spent fitting (not extracting features: the cache makes that machine-dependent). */
  fitSeconds: number;
  /**
   * False when the fit left nothing to evaluate (an adapter whose outputs are not finite): the row
   * keeps its status and reason and has no metrics. Default true.
   */
  evaluable?: boolean;
  dispose(): void;
}

/** A method as the matrix declares it, with its options resolved (defaults applied). */
export type MethodOf<O extends ParamsSpec> = { readonly id: string; readonly kind: string } & ParamValues<O>;

/** A method kind other than the adapter: its catalog entry (options as data) and how it runs. */
export interface MethodKind<O extends ParamsSpec = ParamsSpec> extends MethodEntry {
  readonly options: O;
  run(method: MethodOf<O>, features: CellFeatures): Promise<FittedMethod>;
}

/** Declares a method kind, typing `run`'s method from the options (`method.bins` is a number). */
export function defineMethod<const O extends ParamsSpec>(m: MethodKind<O>): MethodKind<O> {
  return m;
}
