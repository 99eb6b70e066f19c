/** The methods by kind: each a MethodRunner (see method.ts). */
import type { ResolvedMethod } from "../matrix/expand.ts";
import { Adapter } from "./adapter.ts";
import { augProbe } from "./baselines/aug_probe.ts";
import { canon } from "./baselines/canon.ts";
import { steer } from "./baselines/steer.ts";
import { tta } from "./baselines/tta.ts";
import type { CellFeatures, FittedMethod, MethodRunner } from "./method.ts";

/** EC: the classifier sees F itself. */
const none: MethodRunner = async (_method, f) => ({
  status: "ok",
  flags: [],
  trainSet: { x: await f.clean("train"), labels: f.labels.train, dim: f.d },
  represent: (view) => (view === "clean" ? f.clean("test") : f.augmented("test", view)),
  embed: null,
  cost: { backbone_passes_train: 1, backbone_passes_test: 1, trainable_parameters: 0 },
  fitSeconds: 0,
  dispose() {},
});

/** An adapter E trained with one of the losses; the classifier sees E(F(x)). */
const adapter: MethodRunner = async (method, f): Promise<FittedMethod> => {
  if (method.kind !== "adapter") throw new Error(`adapter runner given a ${method.kind} method`);
  const t = method.training;
  if (t.view_pool > f.poolViews) {
    throw new RangeError(
      `method ${method.id}: view_pool ${t.view_pool} exceeds the ${f.poolViews} cached views`,
    );
  }
  const clean = await f.clean("train");
  const pool: Float32Array[] = [];
  for (let v = 0; v < t.view_pool; v++) pool.push(await f.augmented("train", v));
  const e = await Adapter.train(clean, pool, f.d, {
    loss: method.loss,
    params: method.params,
    hidden: t.hidden,
    outDim: Math.max(1, Math.round(f.d * t.out_ratio)),
    epochs: t.epochs,
    batch: t.batch,
    views: t.views,
    lr: t.lr,
    lrMin: t.lr_min,
    weightDecay: t.weight_decay,
    seed: f.seed,
    backend: f.backend,
    onEpoch: (epoch, loss) => f.progress?.(epoch + 1, t.epochs, `${method.loss} loss ${loss.toPrecision(4)}`),
  });
  const outDim = e.network.sizes[e.network.sizes.length - 1];
  return {
    status: e.training.status,
    reason: e.training.reason,
    flags: [],
    trainSet: { x: await e.embed(clean, f.d), labels: f.labels.train, dim: outDim },
    represent: async (view) =>
      e.embed(view === "clean" ? await f.clean("test") : await f.augmented("test", view), f.d),
    embed: (features) => e.embed(features, f.d),
    // Training reads V cached views plus the clean image per train input: V + 1 backbone passes.
    cost: {
      backbone_passes_train: t.view_pool + 1,
      backbone_passes_test: 1,
      trainable_parameters: e.training.trainableParameters,
    },
    fitSeconds: e.training.trainSeconds,
    dispose: () => e.dispose(),
  };
};

/** The baselines that train no adapter loss live in ./baselines/, one file each. */
const RUNNERS: Partial<Record<ResolvedMethod["kind"], MethodRunner>> = {
  none,
  adapter,
  "aug-probe": augProbe,
  tta,
  steer,
  canon,
};

/** Fits `method` on the cell's features; throws for a method kind not implemented yet. */
export function fitMethod(method: ResolvedMethod, features: CellFeatures): Promise<FittedMethod> {
  const run = RUNNERS[method.kind];
  if (!run) throw new RangeError(`method ${method.id}: kind "${method.kind}" is not implemented yet`);
  return run(method, features);
}
