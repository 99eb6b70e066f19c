/**
 * `steer` (docs/protocol.md, after the steerable-representations paper): linear maps in feature space
 * that carry F(t x) back to F(x), one per bin of the transform parameter (bins.ts), fitted by
 * closed-form ridge regression with a bias (ridge.ts) on the pairs (F(t(a_v, x_i)), F(x_i)) of the
 * augmented train views v = 0..views−1, each pair in the bin of its drawn parameter a_v.
 *
 * At test time the known parameter of each augmented test sample picks its map (an oracle: the
 * rows carry the flag "oracle-transform"). Clean inputs (the classifier's train set, the clean test
 * split, and E for the structure metrics) go through the identity bin's map, or through the
 * identity when the identity is not in the augmentation's family (noise, crops). A bin that no
 * train view fell in keeps the identity map and adds the flag "steer-empty-bin".
 * Cost: views + 1 backbone passes per train input, 1 per test input plus a d×d matrix-vector
 * product; the fitted parameters are the maps' bins·(d² + d) entries.
 */
import type { Split } from "../../data/dataset.ts";
import { type CellFeatures, defineMethod, type FittedMethod, type MethodOf } from "../method.ts";
import type { TransformBins } from "../../augment/bins.ts";
import { transformBins } from "../../augment/spec.ts";
import { secondsSince, viewParamsOf } from "./common.ts";
import { applyMaps, fitRidge, identityMap, type LinearMap } from "./ridge.ts";

export const ORACLE_FLAG = "oracle-transform";
export const EMPTY_BIN_FLAG = "steer-empty-bin";

/** Fitted steering maps: `maps[b]` for parameter bin b, then (last) the map of clean inputs. */
export interface SteeringMaps {
  bins: TransformBins;
  /** bins.count parameter maps, plus the identity map at index bins.count when bins.identity is null. */
  maps: LinearMap[];
  /** Index in `maps` of the map for clean inputs. */
  cleanMap: number;
  /** Train pairs per parameter bin. */
  pairs: number[];
  /** Fitted (closed-form) parameters: bins.count·(d² + d). */
  parameters: number;
  fitSeconds: number;
}

/** The pooled train views with their bins: views 0..views−1 of the train split, stacked. */
export async function trainViews(
  f: CellFeatures,
  methodId: string,
  views: number,
  bins: TransformBins,
): Promise<{ x: Float32Array; bin: Int32Array; source: Int32Array }> {
  const n = f.labels.train.length;
  const x = new Float32Array(views * n * f.d),
    bin = new Int32Array(views * n),
    source = new Int32Array(views * n);
  for (let v = 0; v < views; v++) {
    x.set(await f.augmented("train", v), v * n * f.d);
    const params = viewParamsOf(f, methodId, "train", v);
    for (let i = 0; i < n; i++) {
      bin[v * n + i] = bins.binOf(params[i]);
      source[v * n + i] = i;
    }
  }
  return { x, bin, source };
}

/** Fits one ridge map per bin on the pooled views (`x` rows → their clean rows `clean[source]`). */
export function fitSteeringMaps(
  pool: { x: Float32Array; bin: Int32Array; source: Int32Array },
  clean: Float32Array,
  d: number,
  bins: TransformBins,
  ridge: number,
): SteeringMaps {
  const started = performance.now();
  const rows: number[][] = Array.from({ length: bins.count }, () => []);
  pool.bin.forEach((b, r) => rows[b].push(r));
  // Targets in pool order: the clean features of each view's source image.
  const target = new Float32Array(pool.x.length);
  pool.source.forEach((i, r) => target.set(clean.subarray(i * d, (i + 1) * d), r * d));
  const maps = rows.map((r) => (r.length === 0 ? identityMap(d) : fitRidge(pool.x, target, d, d, ridge, r)));
  const cleanMap = bins.identity ?? bins.count;
  if (bins.identity === null) maps.push(identityMap(d));
  return {
    bins,
    maps,
    cleanMap,
    pairs: rows.map((r) => r.length),
    parameters: bins.count * (d * d + d),
    fitSeconds: secondsSince(started),
  };
}

/** Features of `split` view `view` through the maps its known parameters pick (the oracle). */
export function steerView(
  s: SteeringMaps,
  f: CellFeatures,
  methodId: string,
  split: Split,
  view: number,
  features: Float32Array,
): Float32Array {
  const params = viewParamsOf(f, methodId, split, view);
  return applyMaps(s.maps, features, (r) => s.bins.binOf(params[r]));
}

const options = {
  bins: {
    description: "bins of the transform parameter, one map each (rotation; c4 / c8 use one per element)",
    default: 8,
    integer: true,
    min: 1,
  },
  ridge: {
    description: "ridge λ relative to the mean per-dimension variance of the inputs of each map",
    default: 1e-2,
    min: 0,
    exclusiveMin: true,
  },
  views: {
    description: "augmented train views 0..views−1 the maps are fitted on (default: the view budget)",
    viewBudget: true,
    integer: true,
    min: 1,
  },
} as const;

async function run(method: MethodOf<typeof options>, f: CellFeatures): Promise<FittedMethod> {
  const bins = transformBins(f.augmentation, method.bins);
  const clean = await f.clean("train");
  const pool = await trainViews(f, method.id, method.views, bins);
  const s = fitSteeringMaps(pool, clean, f.d, bins, method.ridge);
  const started = performance.now();
  const toClean = (x: Float32Array) => applyMaps([s.maps[s.cleanMap]], x);
  const trainX = toClean(clean);
  const fitSeconds = s.fitSeconds + secondsSince(started);
  return {
    status: "ok",
    flags: s.pairs.some((p) => p === 0) ? [ORACLE_FLAG, EMPTY_BIN_FLAG] : [ORACLE_FLAG],
    trainSet: { x: trainX, labels: f.labels.train, dim: f.d },
    represent: async (view) =>
      view === "clean"
        ? toClean(await f.clean("test"))
        : steerView(s, f, method.id, "test", view, await f.augmented("test", view)),
    embed: (features) => Promise.resolve(toClean(features)),
    cost: {
      backbone_passes_train: method.views + 1,
      backbone_passes_test: 1,
      trainable_parameters: s.parameters,
    },
    fitSeconds,
    dispose() {},
  };
}

/** The catalog entry of `steer` (registered in ./registered.ts). */
export const method = defineMethod({
  kind: "steer",
  summary: "ridge steering maps per bin of the transform parameter, mapping augmented features back to clean",
  options,
  run,
});
