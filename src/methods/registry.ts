/**
 * The methods by kind: the adapter (E trained with a loss of ./losses/), and every other kind
 * registered in ./baselines/registered.ts (one line each). The matrix schema accepts exactly
 * these kinds, so every method that parses has a runner.
 */
import { catalog, type ParamsSpec } from "../catalog/entries.ts";
import type { ResolvedAdapter, ResolvedMethod } from "../matrix/expand.ts";
import { adapterOutDim, FRESH_VIEWS, isAdapter, viewBudget } from "../matrix/schema.ts";
import { ConfigError } from "../errors.ts";
import { Adapter } from "./adapter.ts";
import { LOSSES } from "./losses/index.ts";
import { type FreshViews, freshViews } from "./fresh_views.ts";
import type { FeatureRows } from "../cache/feature_rows.ts";
import type { AdapterLoss } from "./losses/spec.ts";
import { USER_LOSS_PREFIX } from "./user/user_loss.ts";
import * as registered from "./baselines/registered.ts";
import type { CellFeatures, FittedMethod, MethodKind, MethodOf } from "./method.ts";

/** The method kinds besides the adapter, in name order. */
export const METHODS = catalog<MethodKind, "kind">(
  "method kind",
  "kind",
  Object.values(registered) as MethodKind[],
);

/** An adapter E trained with one of the losses; the classifier sees E(F(x)). */
async function trainAdapter(
  method: ResolvedAdapter,
  f: CellFeatures,
  files: ReadonlyMap<string, AdapterLoss>,
): Promise<FittedMethod> {
  const t = method.training;
  if (t.view_pool !== FRESH_VIEWS && t.view_pool > f.poolViews) {
    throw new ConfigError(
      `methods ${method.id}.training.view_pool`,
      `view_pool ${t.view_pool} exceeds the ${f.poolViews} cached views`,
    );
  }
  // Rows read on demand where the cell offers them: memory holds a step's rows, not the pool.
  const clean = f.cleanRows ? await f.cleanRows("train") : await f.clean("train");
  const pool: (Float32Array | FeatureRows)[] = [];
  const close = () => [clean, ...pool].forEach((x) => x instanceof Float32Array || x.close());
  try {
    for (let v = 0; v < (t.view_pool === FRESH_VIEWS ? 0 : t.view_pool); v++) {
      pool.push(f.augmentedRows ? await f.augmentedRows("train", v) : await f.augmented("train", v));
    }
    const views = t.view_pool === FRESH_VIEWS ? freshViews(f, t.views) : pool;
    return await fitAdapter(method, f, files, clean, views);
  } finally {
    close();
  }
}

async function fitAdapter(
  method: ResolvedAdapter,
  f: CellFeatures,
  files: ReadonlyMap<string, AdapterLoss>,
  clean: Float32Array | FeatureRows,
  views: readonly (Float32Array | FeatureRows)[] | FreshViews,
): Promise<FittedMethod> {
  const t = method.training;
  const e = await Adapter.train(clean, views, f.d, {
    loss: adapterLoss(method, files),
    params: method.params,
    hidden: t.hidden,
    outDim: adapterOutDim(f.d, t.out_ratio),
    epochs: t.epochs,
    batch: t.batch,
    views: t.views,
    lr: t.lr,
    lrMin: t.lr_min,
    weightDecay: t.weight_decay,
    seed: f.seed,
    backend: f.backend,
    onEpoch: (epoch, loss) => f.progress?.(epoch + 1, t.epochs, `${method.id} loss ${loss.toPrecision(4)}`),
  });
  const outDim = e.network.sizes[e.network.sizes.length - 1];
  // E(clean train), what the classifier trains on: spilled to a temp file when the features are rows
  // (none when E's outputs are not finite: there is nothing to evaluate).
  const evaluable = e.training.finiteOutputs;
  const x = !evaluable
    ? new Float32Array(0)
    : clean instanceof Float32Array
    ? await e.embed(clean, f.d)
    : await e.embedRows(clean, f.d);
  return {
    evaluable,
    status: e.training.status,
    reason: e.training.reason,
    flags: [],
    trainSet: { x, labels: f.labels.train, dim: outDim },
    represent: async (view) =>
      e.embed(view === "clean" ? await f.clean("test") : await f.augmented("test", view), f.d),
    embed: (features) => e.embed(features, f.d),
    // Per train input, the clean image plus its augmented views (V cached, or s fresh ones per
    // epoch): the view budget + 1 backbone passes.
    cost: {
      backbone_passes_train: viewBudget(t) + 1,
      backbone_passes_test: 1,
      trainable_parameters: e.training.trainableParameters,
    },
    fitSeconds: e.training.trainSeconds,
    dispose() {
      e.dispose();
      if (!(x instanceof Float32Array)) x.close();
    },
  };
}

/** The loaded method file a cell's loss reference ("sha256:…") names. */
function methodFile(ref: string, files: ReadonlyMap<string, AdapterLoss>): AdapterLoss {
  const loss = files.get(ref);
  if (!loss) throw new Error(`loss ${ref}: no method file with this content was loaded`);
  return loss;
}

/** An adapter's loss: a built-in by name, or one of the run's method files by its reference. */
export function adapterLoss(method: ResolvedAdapter, files: ReadonlyMap<string, AdapterLoss>): AdapterLoss {
  return method.loss.startsWith(USER_LOSS_PREFIX) ? methodFile(method.loss, files) : LOSSES.get(method.loss);
}

/**
 * Fits `method` on the cell's features; `files` are the run's method files by their loss
 * reference ("sha256:…").
 */
export function fitMethod(
  method: ResolvedMethod,
  features: CellFeatures,
  files: ReadonlyMap<string, AdapterLoss> = new Map(),
): Promise<FittedMethod> {
  if (isAdapter(method)) return trainAdapter(method as ResolvedAdapter, features, files);
  // The schema checked the options against this same entry.
  return METHODS.get(method.kind).run(method as unknown as MethodOf<ParamsSpec>, features);
}
