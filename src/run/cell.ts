/**
 * One cell, start to finish: features (through the cache) → method.fit → classifier on clean
 * train features → clean and augmented accuracy, structure and collision metrics (in F's space and
 * in the method's, E∘F) → a result row.
 * A cell is a pure function of its spec and seed; what it shares with other cells (datasets,
 * backbones, features, collision rates) is memoised in the RunContext, never order-dependent.
 */
import { ConfigError } from "../errors.ts";
import { sha256Hex } from "../util/hash.ts";
import { viewRng } from "../augment/params.ts";
import { resolveSpec, sampleParams } from "../augment/spec.ts";
import { extractFeatureRows, extractFeatures, type FeatureAugmentation } from "../backbone/extract.ts";
import { OnnxBackbone } from "../backbone/onnx_backbone.ts";
import type { FeatureCache } from "../cache/feature_cache.ts";
import type { FeatureRows } from "../cache/feature_rows.ts";
import type { Dataset, Split } from "../data/dataset.ts";
import type { CheckedSplits } from "../data/source.ts";
import { loadDatasetSplits } from "../data/registry.ts";
import type { Cell } from "../matrix/expand.ts";
import type { BackboneSpec, DatasetSpec } from "../matrix/schema.ts";
import { isAdapter } from "../matrix/schema.ts";
import { Classifier, CLASSIFIERS } from "../methods/classifier.ts";
import type { CellFeatures, FittedMethod } from "../methods/method.ts";
import { fitMethod } from "../methods/registry.ts";
import type { UserLoss } from "../methods/user/user_loss.ts";
import { accuracy, augmentedAccuracy } from "../metrics/accuracy.ts";
import { type CollisionInput, collisionRates } from "../metrics/collision.ts";
import { structureMetrics } from "../metrics/structure.ts";
import { type ResultRow, RowMetrics } from "../results/schema.ts";
import type { Backend } from "../tensor/backend.ts";
import { resolve } from "node:path";

export interface RunContext {
  backend: Backend;
  cache: FeatureCache;
  /** Directory of the matrix file: relative paths in it resolve from here. */
  baseDir: string;
  log: (message: string) => void;
  /** Progress inside the current cell (training epochs), for the runner's progress bar. */
  progress?: (done: number, total: number, what: string) => void;
  datasets: Map<string, Promise<Record<Split, Dataset>>>;
  /** Image-folder and parquet splits read and checked in this run (a worker's: handed over by the run). */
  checkedSplits: CheckedSplits;
  backbones: Map<string, Promise<OnnxBackbone>>;
  collisions: Map<string, Promise<{ raw: number; aligned: number }>>;
  /** The run's method files by their cell reference ("sha256:…"). */
  methodFiles: Map<string, UserLoss>;
  /** onnxruntime execution provider for the backbones (default "cpu"). */
  executionProvider?: string;
}

export function newRunContext(
  backend: Backend,
  cache: FeatureCache,
  baseDir: string,
  log: (m: string) => void,
): RunContext {
  return {
    backend,
    cache,
    baseDir,
    log,
    datasets: new Map(),
    checkedSplits: new Map(),
    backbones: new Map(),
    collisions: new Map(),
    methodFiles: new Map(),
  };
}

/** A dataset's content hash over both splits: what a result records and a resume compares. */
export function datasetContent(splits: Record<Split, Dataset>): string {
  return sha256Hex(splits.train.contentHash + splits.test.contentHash);
}

function memo<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = map.get(key);
  if (!p) {
    p = make();
    map.set(key, p);
    p.catch(() => map.delete(key));
  }
  return p;
}

export function datasetSplits(ctx: RunContext, spec: DatasetSpec): Promise<Record<Split, Dataset>> {
  return memo(ctx.datasets, JSON.stringify(spec), async () => {
    const { path, ...rest } = spec;
    const splits = await loadDatasetSplits({
      ...rest,
      path: path === undefined ? undefined : resolve(ctx.baseDir, path),
    }, { checked: ctx.checkedSplits, log: ctx.log });
    for (const split of ["train", "test"] as const) {
      if (splits[split].kind !== "images") {
        throw new ConfigError(
          `dataset ${spec.id}`,
          "precomputed feature datasets cannot run through a backbone",
        );
      }
    }
    return splits as Record<Split, Dataset>;
  });
}

export function backbone(ctx: RunContext, spec: BackboneSpec): Promise<OnnxBackbone> {
  return memo(ctx.backbones, JSON.stringify(spec), () =>
    OnnxBackbone.load({
      id: spec.id,
      onnx: resolve(ctx.baseDir, spec.onnx),
      output: spec.output,
      input: spec.input,
    }, { executionProvider: ctx.executionProvider }));
}

/** Pairs of (d, e) kept per row for the leaderboard's structure scatter. */
export const STRUCTURE_SAMPLE = 400;

/** A cell's dataset, backbone and its features as the method sees them (extracted on demand). */
export async function cellFeatures(
  cell: Cell,
  ctx: RunContext,
): Promise<{ data: Record<Split, Dataset>; model: OnnxBackbone; f: CellFeatures }> {
  const { spec } = cell;
  const data = await datasetSplits(ctx, spec.dataset);
  const model = await backbone(ctx, spec.backbone);
  const aug = spec.augmentation;
  const pool = isAdapter(spec.method) ? spec.method.training.view_pool : 0;
  const poolViews = typeof pool === "number" ? pool : 0;
  const features = new Map<string, Promise<Float32Array>>();
  // What an extraction of (split, augmentation, view) is given, as arrays (memoised) or as rows.
  const extraction = (
    split: Split,
    augmentation: typeof aug | FeatureAugmentation | undefined,
    view: number,
    tag: string,
  ) => ({
    backbone: model,
    dataset: data[split],
    augmentation,
    seed: spec.seed,
    view,
    cache: ctx.cache,
    progress: ctx.progress &&
      ((done: number, total: number) => ctx.progress!(done, total, `images ${split} ${tag} v${view}`)),
  });
  const extract = (
    split: Split,
    augmentation: typeof aug | FeatureAugmentation | undefined,
    view: number,
    tag: string,
  ) =>
    memo(
      features,
      `${split}/${tag}/${view}`,
      async () => (await extractFeatures(extraction(split, augmentation, view, tag))).data,
    );
  const f: CellFeatures = {
    backend: ctx.backend,
    progress: ctx.progress,
    seed: spec.seed,
    augmentation: aug,
    d: model.featureDim,
    classes: Math.max(data.train.classes, data.test.classes),
    labels: { train: data.train.labels, test: data.test.labels },
    poolViews,
    testDraws: spec.evaluation.aug_draws,
    clean: (split) => extract(split, undefined, 0, "clean"),
    augmented: (split, view) => extract(split, aug, view, `aug:${aug.id}`),
    transformed: (split, a, view) => extract(split, a, view, `custom:${JSON.stringify(a.key)}`),
    // The same extractions as rows read on demand from the cache entry (bounded memory in training).
    cleanRows: (split) => extractFeatureRows(extraction(split, undefined, 0, "clean")),
    augmentedRows: (split, view) => extractFeatureRows(extraction(split, aug, view, `aug:${aug.id}`)),
    // The draws augmentBatch makes for these rows: same stream, at the model's size (extract.ts).
    viewParams: (split, view) => {
      const resolved = resolveSpec(aug), [h, w] = model.spec.size;
      return Array.from(
        data[split].sourceIndex,
        (id) => sampleParams(resolved, viewRng(spec.seed, data[split].split, id, view), w, h),
      );
    },
  };
  return { data, model, f };
}

/**
 * Puts the features every cell of this kind reads into the cache (clean train and test, the
 * adapter's view pool, the augmented test draws) without keeping them: what a parallel run does
 * once per cell before handing the cell to a worker, so that workers never extract the same
 * features twice at once. Features a method asks for beyond these are extracted where it runs.
 */
export async function prefetchCellFeatures(cell: Cell, ctx: RunContext, seen: Set<string>): Promise<void> {
  const { f } = await cellFeatures(cell, ctx);
  const { spec } = cell;
  // Streamed into the cache as rows and closed at once: nothing of a split is held here.
  const once = async (split: Split, view: number | null, open: () => Promise<FeatureRows>) => {
    const key = JSON.stringify([
      spec.dataset,
      spec.backbone,
      split,
      view === null ? null : spec.augmentation,
      view,
      view === null ? null : spec.seed,
    ]);
    if (seen.has(key)) return;
    (await open()).close();
    seen.add(key);
  };
  await once("train", null, () => f.cleanRows!("train"));
  await once("test", null, () => f.cleanRows!("test"));
  for (let v = 0; v < f.poolViews; v++) await once("train", v, () => f.augmentedRows!("train", v));
  for (let k = 0; k < f.testDraws; k++) await once("test", k, () => f.augmentedRows!("test", k));
}

/** Runs one cell and returns its row (status "ok", "collapsed" or "diverged"). */
export async function runCell(cell: Cell, ctx: RunContext): Promise<ResultRow> {
  const { spec } = cell;
  const { data, f } = await cellFeatures(cell, ctx);

  const fitted = await fitMethod(spec.method, f, ctx.methodFiles);
  try {
    if (fitted.evaluable === false) return unevaluatedRow(cell, fitted);
    const testStarted = performance.now();
    const kind = CLASSIFIERS.get(spec.classifier.kind).network;
    const classifier = await Classifier.train(fitted.trainSet.x, fitted.trainSet.labels, {
      kind,
      inputDim: fitted.trainSet.dim,
      classes: f.classes,
      seed: spec.seed,
      backend: ctx.backend,
      epochs: spec.classifier.epochs,
      batchSize: spec.classifier.batch,
      lr: spec.classifier.lr,
    });
    try {
      // The representations of the clean test set and of augmented draw 0, kept for E's collision rate.
      const seen = new Map<"clean" | number, Float32Array>();
      const accOf = async (view: "clean" | number) => {
        const represented = await fitted.represent(view);
        if (view === "clean" || view === 0) seen.set(view, represented);
        return accuracy((await classifier.predict(represented)).logits, data.test.labels, f.classes);
      };
      const accClean = await accOf("clean");
      const draws: number[] = [];
      for (let k = 0; k < spec.evaluation.aug_draws; k++) draws.push(await accOf(k));
      const accAug = augmentedAccuracy(draws);

      // Structure of E on the first n clean test points (identity when the method has no E).
      const n = Math.min(spec.evaluation.structure_points, data.test.n);
      const fTest = (await f.clean("test")).subarray(0, n * f.d);
      const efTest = fitted.embed ? await fitted.embed(fTest) : fTest;
      const structure = structureMetrics(fTest, f.d, efTest, efTest.length / n, {
        seed: spec.seed,
        sampleSize: STRUCTURE_SAMPLE,
      });

      const collisionPoints = Math.min(spec.evaluation.collision_points, data.test.n);
      const collision = await collisionOf(ctx, cell, f, collisionPoints);
      // A method that shows the classifier F's own features (no adapter, aug-probe) has F's rates.
      const sameAsF = seen.get("clean") === await f.clean("test") &&
        seen.get(0) === await f.augmented("test", 0);
      const eCollision = sameAsF ? collision : await collisionRates(
        collisionInput(seen.get("clean")!, seen.get(0)!, f.labels.test, collisionPoints, ctx.backend),
      );
      const testSeconds = (performance.now() - testStarted) / 1000;
      return {
        ...rowIdentity(cell),
        status: classifier.training.diverged ? "diverged" : fitted.status,
        ...(fitted.reason || classifier.training.diverged
          ? { reason: fitted.reason ?? "the classifier's cross-entropy became non-finite" }
          : {}),
        flags: fitted.flags,
        metrics: {
          acc_clean: accClean,
          acc_aug: accAug.mean,
          acc_aug_sd: accAug.sd,
          ...structure.metrics,
          collision_raw: collision.raw,
          collision_aligned: collision.aligned,
          e_collision_raw: eCollision.raw,
          e_collision_aligned: eCollision.aligned,
          ...fitted.metrics,
          train_seconds: fitted.fitSeconds + classifier.training.trainSeconds,
          test_seconds: testSeconds,
        },
        cost: {
          ...fitted.cost,
          trainable_parameters: fitted.cost.trainable_parameters + classifier.trainableParameters,
        },
        structure_sample: structure.sample,
      };
    } finally {
      classifier.dispose();
    }
  } finally {
    fitted.dispose();
  }
}

/** A row's identity: the cell's id and its coordinates. */
function rowIdentity(cell: Cell) {
  const { dataset, backbone, augmentation, method, classifier, seed } = cell;
  return { cell: cell.id, dataset, backbone, augmentation, method, classifier, seed };
}

/**
 * The row of a cell whose fit left nothing to evaluate (an adapter whose outputs are not finite):
 * its status and reason, every metric null but the fit's seconds. Reported, never dropped.
 */
function unevaluatedRow(cell: Cell, fitted: FittedMethod): ResultRow {
  const metrics = Object.fromEntries(Object.keys(RowMetrics.shape).map((name) => [name, null]));
  return {
    ...rowIdentity(cell),
    status: fitted.status,
    ...(fitted.reason ? { reason: fitted.reason } : {}),
    flags: fitted.flags,
    metrics: { ...metrics, train_seconds: fitted.fitSeconds, test_seconds: 0 } as ResultRow["metrics"],
    cost: fitted.cost,
  };
}

/** Collision rate of (F, t) for the cell's dataset, backbone, augmentation and seed (shared by methods). */
function collisionOf(
  ctx: RunContext,
  cell: Cell,
  f: CellFeatures,
  n: number,
): Promise<{ raw: number; aligned: number }> {
  const key = JSON.stringify([cell.spec.dataset, cell.spec.backbone, cell.spec.augmentation, cell.seed, n]);
  return memo(ctx.collisions, key, async () => {
    const r = await collisionRates(
      collisionInput(await f.clean("test"), await f.augmented("test", 0), f.labels.test, n, ctx.backend),
    );
    return { raw: r.raw, aligned: r.aligned };
  });
}

/**
 * The collision rate's input in one space (F's, or the method's E∘F): the first `n` augmented
 * test points (draw 0) against the whole clean test set, each paired with its own clean image.
 * The nearest-neighbour search is screened on `screen` (exact either way); the alignment stays in
 * float64, as the reference results computed it.
 */
function collisionInput(
  clean: Float32Array,
  augmented: Float32Array,
  labels: Int32Array,
  n: number,
  screen: Backend,
): CollisionInput {
  const dim = clean.length / labels.length;
  return {
    dim,
    clean,
    cleanLabels: labels,
    augmented: augmented.subarray(0, n * dim),
    augmentedLabels: labels.subarray(0, n),
    pairedClean: clean.subarray(0, n * dim),
    screen,
  };
}
