/**
 * Every parameter a matrix gives a method or an augmentation reaches the code that uses it. For
 * each one, a matrix with that parameter off its default is parsed and expanded, and the cell's
 * method is fitted (`fitMethod`) on synthetic features or its augmentation extracted through the
 * fixture backbone (`extractFeatures`), exactly as `runCell` does; the result must differ from the
 * same matrix with the parameter at its default. A runner that drops or swaps a parameter gives the
 * same result twice and fails here. The tables are checked against the published JSON Schema, so a
 * new parameter needs a row here.
 */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import {
  type CellFeatures,
  CpuBackend,
  expandMatrix,
  extractFeatures,
  FeatureCache,
  fitMethod,
  type FittedMethod,
  parseMatrix,
} from "../mod.ts";
import { backbone, datasetSplits, newRunContext, runCell } from "../src/run/cell.ts";
import type { ViewParams } from "../src/augment/params.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { AUGMENTATIONS } from "../src/augment/spec.ts";
import { ROOT, tempDir } from "./fixtures/harness.ts";

const schema = JSON.parse(await Deno.readTextFile(`${ROOT}/schemas/matrix.v1.schema.json`));

/** The parameters (fields but id and kind) of each variant of a oneOf list, by kind. */
function paramsByKind(
  variants: { properties: Record<string, { const?: string }> }[],
): Record<string, string[]> {
  return Object.fromEntries(
    variants.map((v) => [
      v.properties.kind.const!,
      Object.keys(v.properties).filter((k) => k !== "id" && k !== "kind").sort(),
    ]),
  );
}

const INPUT = { layout: "NCHW", size: [28, 28], channels: 1, mean: [0.1307], std: [0.3081] };

/** A one-cell matrix with `augmentation` and `method` (and top-level fields `extra`); its cell. */
function cellOf(
  augmentation: Record<string, unknown>,
  method: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const text = stringify({
    schema: "invbench.matrix/v1",
    name: "params",
    version: "1.0.0",
    datasets: [{ id: "mnist", source: "mnist", test: { limit: 16 } }],
    backbones: [{ id: "cnn", onnx: "fixtures/backbones/mnist.onnx", output: "features", input: INPUT }],
    augmentations: [augmentation],
    methods: [method],
    classifiers: ["linear"],
    seeds: [3],
    training: { hidden: 16, epochs: 2, batch: 16, views: 2, view_pool: 3 },
    ...extra,
  });
  const cells = expandMatrix(parseMatrix(text, "params.yaml").spec);
  assert.equal(cells.length, 1);
  return cells[0];
}

// ---- methods ------------------------------------------------------------------------------

/** Non-default values of every method parameter, by method kind. */
const METHOD_PARAMS: Record<string, Record<string, unknown>> = {
  none: {},
  "aug-probe": { views: 2 },
  tta: { copies: 2 },
  steer: { bins: 4, ridge: 0.5, views: 2 },
  canon: { bins: 4, ridge: 0.5, views: 2, head_hidden: 16, head_epochs: 3 },
  adapter: { training: { epochs: 3 } },
};
/** Non-default values of every field of an adapter's `training`. */
const TRAINING = {
  hidden: 8,
  out_ratio: 0.5,
  epochs: 3,
  batch: 8,
  views: 3,
  view_pool: 4,
  lr: 0.05,
  lr_min: 0.02,
  weight_decay: 0.3,
};
/** Non-default loss parameters, by loss (each loss's own parameters are checked by losses_registry_test). */
const LOSS_PARAMS: Record<string, Record<string, number>> = {
  mawa: {},
  waco: { directions: 7, p: 3, q: 1.5 },
  simclr: { temperature: 0.1 },
  hsic: { bandwidth: 0.3 },
  vicreg: { invariance: 2, variance: 3, covariance: 4 },
};

const D = 6, N_TRAIN = 48, N_TEST = 16, POOL = 4;

/**
 * Synthetic features for a rotation cell: a view's features are the clean ones with the first two
 * coordinates rotated by the view's angle (so steering maps per angle bin are exact), the angle
 * drawn per (split, row, view); `transformed` rotates by an angle derived from the copy's key.
 */
function rotationFeatures(seed: number): CellFeatures {
  const rng = (label: string) => new CounterRng(0, "tests", "matrix-params", label);
  const clean = { train: rng("train").normals(N_TRAIN * D), test: rng("test").normals(N_TEST * D) };
  const labels = {
    train: Int32Array.from({ length: N_TRAIN }, (_, i) => (clean.train[i * D + 2] > 0 ? 1 : 0)),
    test: Int32Array.from({ length: N_TEST }, (_, i) => (clean.test[i * D + 2] > 0 ? 1 : 0)),
  };
  const angles = (split: "train" | "test", view: number) =>
    Array.from(rng(`${split}/${view}`).uniforms(clean[split].length / D, -180, 180));
  const rotate = (x: Float32Array, degrees: (i: number) => number) => {
    const out = x.slice();
    for (let i = 0; i < x.length / D; i++) {
      const a = degrees(i) * Math.PI / 180, u = x[i * D], v = x[i * D + 1];
      out[i * D] = Math.cos(a) * u - Math.sin(a) * v;
      out[i * D + 1] = Math.sin(a) * u + Math.cos(a) * v;
    }
    return out;
  };
  const keyAngle = (key: unknown) => {
    let h = 0;
    for (const c of JSON.stringify(key)) h = (h * 31 + c.charCodeAt(0)) % 360;
    return h;
  };
  return {
    backend: new CpuBackend(),
    seed,
    augmentation: { id: "rot", kind: "rotation", degrees: [-180, 180] },
    d: D,
    classes: 2,
    labels,
    poolViews: POOL,
    testDraws: 2,
    clean: (split) => Promise.resolve(clean[split]),
    augmented: (split, view) => {
      const a = angles(split, view);
      return Promise.resolve(rotate(clean[split], (i) => a[i]));
    },
    transformed: (split, aug, view) => {
      const a = angles(split, view), b = keyAngle(aug.key);
      return Promise.resolve(rotate(clean[split], (i) => a[i] + b));
    },
    viewParams: (split, view) =>
      angles(split, view).map((degrees): ViewParams => ({ kind: "rotation", degrees })),
  };
}

/** Everything a fitted method hands the runner, as plain data. */
async function fingerprint(m: FittedMethod, f: CellFeatures): Promise<unknown> {
  try {
    return {
      status: m.status,
      cost: m.cost,
      metrics: m.metrics ?? {},
      train: Array.from(m.trainSet.x as Float32Array),
      clean: Array.from(await m.represent("clean")),
      view: Array.from(await m.represent(1)),
      embed: m.embed ? Array.from(await m.embed(await f.clean("test"))) : null,
    };
  } finally {
    m.dispose();
  }
}

const ROT = { id: "rot", kind: "rotation" };

/** The fitted method of the one cell of a matrix with `method`. */
async function fitted(method: Record<string, unknown>): Promise<unknown> {
  const cell = cellOf(ROT, method), f = rotationFeatures(cell.seed);
  return fingerprint(await fitMethod(cell.spec.method, f), f);
}

Deno.test("matrix parameters: the tables cover every method parameter and training field of the schema", () => {
  const methods = paramsByKind(schema.properties.methods.items.oneOf);
  const { adapter, ...baselines } = methods;
  assert.deepEqual(adapter, ["loss", "params", "training"]);
  assert.deepEqual(
    Object.fromEntries(Object.keys(baselines).map((k) => [k, Object.keys(METHOD_PARAMS[k] ?? {}).sort()])),
    baselines,
  );
  assert.deepEqual(Object.keys(METHOD_PARAMS).sort(), Object.keys(methods).sort());
  assert.deepEqual(Object.keys(TRAINING).sort(), Object.keys(schema.properties.training.properties).sort());
  // The built-in losses: the enum among the forms `loss` takes (the other is a method file's path).
  const loss =
    schema.properties.methods.items.oneOf.find((v: { properties: { kind: { const: string } } }) =>
      v.properties.kind.const === "adapter"
    ).properties.loss;
  const builtIn = [loss, ...(loss.anyOf ?? [])].find((f: { enum?: string[] }) => f.enum).enum;
  assert.deepEqual(Object.keys(LOSS_PARAMS).sort(), [...builtIn].sort());
});

for (const [kind, params] of Object.entries(METHOD_PARAMS)) {
  if (kind === "adapter" || kind === "none") continue;
  Deno.test(`matrix parameters: every ${kind} parameter reaches the fitted method`, async () => {
    const base: Record<string, unknown> = { id: "m", kind, ...params };
    const reference = await fitted(base);
    for (const name of Object.keys(params)) {
      const { [name]: _dropped, ...atDefault } = base;
      const cell = cellOf(ROT, base);
      assert.equal(
        (cell.spec.method as Record<string, unknown>)[name],
        params[name],
        `${kind}.${name} expanded`,
      );
      assert.notDeepEqual(
        await fitted(atDefault),
        reference,
        `${kind}.${name}: no effect on the fitted method`,
      );
    }
  });
}

Deno.test("matrix parameters: every adapter training field and loss parameter reaches the trained adapter", async () => {
  const adapter = (loss: string, params: Record<string, number>, training: Record<string, unknown>) => ({
    id: "a",
    kind: "adapter",
    loss,
    params,
    training,
  });
  // WaCo: the one loss that allows d' < d (out_ratio).
  const reference = await fitted(adapter("waco", { directions: 7 }, TRAINING));
  // Its cost as docs/results.md defines it: V cached views plus the clean input per train input.
  const outDim = Math.round(D * TRAINING.out_ratio);
  assert.deepEqual((reference as { cost: unknown }).cost, {
    backbone_passes_train: TRAINING.view_pool + 1,
    backbone_passes_test: 1,
    trainable_parameters: D * TRAINING.hidden + TRAINING.hidden + TRAINING.hidden * outDim + outDim,
  });
  // Fresh views instead of the pool: another adapter, charged epochs·s fresh views plus the clean input.
  const fresh = await fitted(adapter("waco", { directions: 7 }, { ...TRAINING, view_pool: "fresh" }));
  assert.notDeepEqual(fresh, reference, "training.view_pool fresh: no effect on the trained adapter");
  assert.equal(
    (fresh as { cost: { backbone_passes_train: number } }).cost.backbone_passes_train,
    TRAINING.epochs * TRAINING.views + 1,
  );
  for (const name of Object.keys(TRAINING)) {
    const { [name]: _dropped, ...atMatrix } = TRAINING as Record<string, unknown>;
    // Without the override the matrix's own `training` applies (differs from the override too).
    assert.notDeepEqual(
      await fitted(adapter("waco", { directions: 7 }, atMatrix)),
      reference,
      `training.${name}: no effect on the trained adapter`,
    );
  }
  for (const [loss, params] of Object.entries(LOSS_PARAMS)) {
    const training = loss === "mawa" ? {} : { out_ratio: 0.5 };
    const withParams = await fitted(adapter(loss, params, training));
    for (const name of Object.keys(params)) {
      const { [name]: _dropped, ...rest } = params;
      assert.notDeepEqual(
        await fitted(adapter(loss, rest, training)),
        withParams,
        `${loss}.${name}: no effect on the trained adapter`,
      );
    }
  }
});

// ---- augmentations ------------------------------------------------------------------------

/** Non-default values of every augmentation parameter, by kind. */
/** The corruption kinds: every kind with a severity field. */
const CORRUPTIONS = AUGMENTATIONS.entries.filter((k) => "severity" in k.fields).map((k) => k.kind);

const AUGMENT_PARAMS: Record<string, Record<string, unknown>> = {
  rotation: { degrees: [-20, 40] },
  rotation_c4: {},
  rotation_c8: {},
  affine: { degrees: [-5, 10], translate: 0.05, scale: [0.9, 1.0], shear: [-3, 4], shear_y: [-2, 3] },
  gaussian_noise: { std: 0.5 },
  resized_crop: { area: [0.2, 0.3], ratio: [0.5, 2] },
  identity: {},
  ...Object.fromEntries(CORRUPTIONS.map((kind) => [kind, { severity: 1 }])),
  compose: { steps: [{ kind: "rotation_c4" }, { kind: "contrast", severity: 5 }] },
  random_choice: { ops: [{ kind: "contrast" }, { kind: "gaussian_blur" }], n: 1, magnitude: 5 },
};

/** A list field has no default: the comparison replaces it by another list instead of dropping it. */
const OTHER_LIST: Record<string, unknown> = { steps: [{ kind: "identity" }], ops: [{ kind: "identity" }] };

Deno.test("matrix parameters: every augmentation parameter of the schema changes the extracted views", async () => {
  assert.deepEqual(
    Object.fromEntries(Object.entries(AUGMENT_PARAMS).map(([k, p]) => [k, Object.keys(p).sort()])),
    paramsByKind(schema.properties.augmentations.items.oneOf),
  );
  // The dataset and backbone as runCell gets them (relative paths from the matrix's directory).
  await using tmp = await tempDir("matrix-params");
  const ctx = newRunContext(new CpuBackend(), new FeatureCache({ dir: tmp.dir }), ROOT, () => {});
  const views = async (augmentation: Record<string, unknown>) => {
    const cell = cellOf(augmentation, { id: "ec", kind: "none" });
    const f = await extractFeatures({
      backbone: await backbone(ctx, cell.spec.backbone),
      dataset: (await datasetSplits(ctx, cell.spec.dataset)).test,
      augmentation: cell.spec.augmentation,
      seed: cell.seed,
    });
    return Array.from(f.data);
  };
  for (const [kind, params] of Object.entries(AUGMENT_PARAMS)) {
    const base: Record<string, unknown> = { id: "a", kind, ...params };
    const reference = await views(base);
    for (const name of Object.keys(params)) {
      const { [name]: _dropped, ...atDefault } = base;
      const other = name in OTHER_LIST ? { ...atDefault, [name]: OTHER_LIST[name] } : atDefault;
      assert.notDeepEqual(await views(other), reference, `${kind}.${name}: no effect on the views`);
    }
  }
  await (await backbone(ctx, cellOf(ROT, { id: "ec", kind: "none" }).spec.backbone)).close();
});

// ---- evaluation and classifier ------------------------------------------------------------

/** Non-default values of every evaluation field and of every field of a classifier object. */
const EVALUATION = { aug_draws: 2, structure_points: 20, collision_points: 17 };
const CLASSIFIER = { kind: "mlp", epochs: 3, batch: 16, lr: 0.02 };

Deno.test("matrix parameters: every evaluation and classifier field changes the cell's row", async () => {
  assert.deepEqual(
    Object.keys(EVALUATION).sort(),
    Object.keys(schema.properties.evaluation.properties).sort(),
  );
  const classifierObject = schema.properties.classifiers.items.anyOf.find((v: { type?: string }) =>
    v.type === "object"
  );
  assert.deepEqual(
    Object.keys(CLASSIFIER).sort(),
    Object.keys(classifierObject.properties).filter((k) => k !== "id").sort(),
  );
  await using tmp = await tempDir("matrix-params-cells");
  const ctx = newRunContext(new CpuBackend(), new FeatureCache({ dir: tmp.dir }), ROOT, () => {});
  const row = async (evaluation: Record<string, unknown>, classifier: Record<string, unknown>) => {
    const cell = cellOf(ROT, { id: "ec", kind: "none" }, {
      datasets: [{ id: "mnist", source: "mnist", train: { limit: 200 }, test: { limit: 50 } }],
      evaluation,
      classifiers: [{ id: "c", ...classifier }],
    });
    const r = await runCell(cell, ctx);
    const untimed = Object.entries(r.metrics).filter(([k]) => !k.endsWith("_seconds"));
    return { metrics: Object.fromEntries(untimed), cost: r.cost, sample: r.structure_sample };
  };
  const reference = await row(EVALUATION, CLASSIFIER);
  for (const name of Object.keys(EVALUATION)) {
    const { [name]: _dropped, ...rest } = EVALUATION as Record<string, unknown>;
    assert.notDeepEqual(await row(rest, CLASSIFIER), reference, `evaluation.${name}: no effect on the row`);
  }
  for (const name of Object.keys(CLASSIFIER)) {
    const { [name]: _dropped, ...rest } = CLASSIFIER as Record<string, unknown>;
    const atDefault = name === "kind" ? { ...rest, kind: "linear" } : rest;
    assert.notDeepEqual(
      await row(EVALUATION, atDefault),
      reference,
      `classifier.${name}: no effect on the row`,
    );
  }
  await (await backbone(ctx, cellOf(ROT, { id: "ec", kind: "none" }).spec.backbone)).close();
});
