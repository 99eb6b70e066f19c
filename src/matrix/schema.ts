/**
 * The benchmark matrix, `invbench.matrix/v1`: what a user declares. Every object is strict
 * (unknown fields are errors) and every default is the protocol's (../docs/matrix.md documents
 * each field). The JSON Schema in schemas/matrix.v1.schema.json is generated from this file.
 */
import { z } from "zod";
import { LOSSES, type LossName } from "../methods/losses/index.ts";
import type { LossSpec } from "../methods/losses/spec.ts";

export const MATRIX_SCHEMA_ID = "invbench.matrix/v1";

const id = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, "an id: lowercase letters, digits, '_', '.', '-'");
const semver = z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, "a semantic version like 1.0.0");
const positiveInt = z.number().int().positive();

const splitOptions = z.strictObject({
  /** Keep at most this many examples of the split (after stratification). */
  limit: positiveInt.optional(),
  /** Draw the `limit` examples stratified by class with this seed (default: the first `limit`). */
  stratified_seed: z.number().int().nonnegative().optional(),
});

export const DatasetSpec = z.strictObject({
  id,
  source: z.enum(["mnist", "fashion-mnist", "idx", "cifar10", "cifar100", "stl10", "npy", "safetensors"]),
  /** Directory or files for on-disk sources; ignored for the packaged mnist / fashion-mnist. */
  path: z.string().optional(),
  train: splitOptions.default({}),
  test: splitOptions.default({}),
});

export const BackboneSpec = z.strictObject({
  id,
  /** Path of the ONNX model, relative to the matrix file. */
  onnx: z.string().min(1),
  /** Model output to use as features (name); default the first output. */
  output: z.string().optional(),
  input: z.strictObject({
    layout: z.enum(["NCHW", "NHWC"]).default("NCHW"),
    size: z.tuple([positiveInt, positiveInt]),
    channels: positiveInt,
    resize: z.enum(["none", "bilinear"]).default("none"),
    mean: z.array(z.number()).min(1),
    std: z.array(z.number().positive()).min(1),
  }),
});

export const AugmentationSpec = z.discriminatedUnion("kind", [
  z.strictObject({
    id,
    kind: z.literal("rotation"),
    /** Continuous angle range in degrees, uniform. */
    degrees: z.tuple([z.number(), z.number()]).default([-180, 180]),
  }),
  z.strictObject({ id, kind: z.literal("rotation_c4") }),
  z.strictObject({ id, kind: z.literal("rotation_c8") }),
  z.strictObject({
    id,
    kind: z.literal("affine"),
    degrees: z.tuple([z.number(), z.number()]).default([-30, 30]),
    translate: z.number().min(0).max(1).default(0.2),
    scale: z.tuple([z.number().positive(), z.number().positive()]).default([0.8, 1.2]),
    shear: z.tuple([z.number(), z.number()]).default([-15, 15]),
  }),
  z.strictObject({
    id,
    kind: z.literal("gaussian_noise"),
    /** σ in normalised units (added after mean/std normalisation). */
    std: z.number().positive().default(1),
  }),
  z.strictObject({
    id,
    kind: z.literal("resized_crop"),
    area: z.tuple([z.number().positive().max(1), z.number().positive().max(1)]).default([0.5, 0.7]),
    ratio: z.tuple([z.number().positive(), z.number().positive()]).default([0.75, 1.33]),
  }),
]);

/** Adapter training hyper-parameters (PROTOCOL.md defaults). */
export const TrainingSpec = z.strictObject({
  hidden: positiveInt.default(4096),
  /** Output dimension d' as a fraction of d (WaCo dimension reduction uses 0.25). */
  out_ratio: z.number().positive().max(1).default(1),
  epochs: positiveInt.default(100),
  batch: positiveInt.default(256),
  /** Augmented views per clean input in each step (s). */
  views: positiveInt.default(3),
  /** Augmented views cached per image (V ≥ s); each step draws s of them afresh. */
  view_pool: positiveInt.default(8),
  lr: z.number().positive().default(1e-3),
  lr_min: z.number().nonnegative().default(4e-4),
  weight_decay: z.number().nonnegative().default(1e-4),
});

/**
 * An adapter's own `training`: each given field overrides the matrix's `training` field by field.
 * No defaults here (`TrainingSpec.partial()` would fill every omitted field with the protocol's
 * default and so silently override the matrix's own settings).
 */
const TrainingOverrides = z.strictObject({
  hidden: TrainingSpec.shape.hidden.unwrap().optional(),
  out_ratio: TrainingSpec.shape.out_ratio.unwrap().optional(),
  epochs: TrainingSpec.shape.epochs.unwrap().optional(),
  batch: TrainingSpec.shape.batch.unwrap().optional(),
  views: TrainingSpec.shape.views.unwrap().optional(),
  view_pool: TrainingSpec.shape.view_pool.unwrap().optional(),
  lr: TrainingSpec.shape.lr.unwrap().optional(),
  lr_min: TrainingSpec.shape.lr_min.unwrap().optional(),
  weight_decay: TrainingSpec.shape.weight_decay.unwrap().optional(),
});

/**
 * The strict zod schema of a loss's parameters, derived from its LossSpec (names, defaults,
 * bounds), so the matrix and the losses cannot disagree about them.
 */
function paramsSchema(spec: LossSpec) {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, p] of Object.entries(spec.params)) {
    let n = z.number().describe(p.description);
    if (p.integer) n = n.int();
    if (p.min !== undefined) n = p.exclusiveMin ? n.gt(p.min) : n.gte(p.min);
    shape[name] = p.default === undefined ? n.optional() : n.default(p.default);
  }
  return z.strictObject(shape);
}

const lossParams = Object.fromEntries(
  Object.entries(LOSSES).map(([name, loss]) => [name, paramsSchema(loss.spec)]),
) as Record<LossName, ReturnType<typeof paramsSchema>>;

const MethodOptions = z.discriminatedUnion("kind", [
  z.strictObject({ id, kind: z.literal("none") }),
  z.strictObject({
    id,
    kind: z.literal("adapter"),
    loss: z.enum(["mawa", "waco", "simclr", "hsic", "vicreg"]),
    /** Loss parameters; which fields are allowed depends on `loss` (checked below). */
    params: z.record(z.string(), z.unknown()).default({}),
    training: TrainingOverrides.default({}),
  }),
  z.strictObject({
    id,
    kind: z.literal("aug-probe"),
    /** s: augmented train views 0..s−1 added, with clean labels, to the clean train features. */
    views: positiveInt.default(3),
  }),
  z.strictObject({
    id,
    kind: z.literal("tta"),
    /** K: transformed copies averaged per input (K backbone passes per train and test input). */
    copies: positiveInt.default(8),
  }),
  z.strictObject({
    id,
    kind: z.literal("steer"),
    /** Bins of the transform parameter, one map each (rotation; c4 / c8 use one per element). */
    bins: positiveInt.default(8),
    /** Ridge λ relative to the mean per-dimension variance of the inputs of each map. */
    ridge: z.number().positive().default(1e-2),
    /** Augmented train views 0..views−1 the maps are fitted on. */
    views: positiveInt.default(3),
  }),
  z.strictObject({
    id,
    kind: z.literal("canon"),
    bins: positiveInt.default(8),
    ridge: z.number().positive().default(1e-2),
    views: positiveInt.default(3),
    /** Hidden width of the bin-predicting head (d, hidden, bins); 0: a linear head. */
    head_hidden: z.number().int().nonnegative().default(256),
    /** Epochs of the head (AdamW, lr 1e-3 cosine to 0, batch 256, weight decay 0). */
    head_epochs: positiveInt.default(20),
  }),
]);

/** A method; an adapter's `params` are checked against its loss's own strict schema. */
export const MethodSpec = MethodOptions.superRefine((m, ctx) => {
  if (m.kind !== "adapter") return;
  const r = lossParams[m.loss].safeParse(m.params);
  if (!r.success) {
    const known = Object.keys(lossParams[m.loss].shape);
    for (const issue of r.error.issues) {
      if (issue.code === "unrecognized_keys") {
        // Point at each unknown key and say which parameters this loss takes.
        for (const key of issue.keys) {
          ctx.addIssue({
            code: "custom",
            message: `unknown parameter "${key}" for loss ${m.loss}; expected ${
              known.length ? `one of ${known.join(", ")}` : "no parameters"
            }`,
            path: ["params", key],
            params: { unknownKey: true },
          });
        }
      } else ctx.addIssue({ code: "custom", message: issue.message, path: ["params", ...issue.path] });
    }
  }
});

/** The resolved parameters of an adapter loss (defaults applied). */
export function lossParamsOf(
  loss: keyof typeof lossParams,
  params: Record<string, unknown>,
): Record<string, unknown> {
  return lossParams[loss].parse(params);
}

export const ClassifierSpec = z.union([
  z.enum(["linear", "mlp", "ec"]).transform((kind) => ({ id: kind, kind, epochs: 50, batch: 256, lr: 1e-3 })),
  z.strictObject({
    id,
    kind: z.enum(["linear", "mlp", "ec"]),
    epochs: positiveInt.default(50),
    batch: positiveInt.default(256),
    lr: z.number().positive().default(1e-3),
  }),
]);

export const EvaluationSpec = z.strictObject({
  /** K: independent augmentation draws of the whole test set for augmented accuracy. */
  aug_draws: positiveInt.default(5),
  /** n clean test points for the structure metrics (all n(n−1)/2 pairs). */
  structure_points: positiveInt.default(500),
  /** Augmented test points for the collision rate. */
  collision_points: positiveInt.default(1000),
});

/** A partial cell: every given field must match for include/exclude to apply. */
const CellPattern = z.strictObject({
  dataset: id.optional(),
  backbone: id.optional(),
  augmentation: id.optional(),
  method: id.optional(),
  classifier: id.optional(),
  seed: z.number().int().nonnegative().optional(),
});

export const MatrixSpec = z.strictObject({
  schema: z.literal(MATRIX_SCHEMA_ID),
  name: id,
  version: semver,
  description: z.string().optional(),
  datasets: z.array(DatasetSpec).min(1),
  backbones: z.array(BackboneSpec).min(1),
  augmentations: z.array(AugmentationSpec).min(1),
  methods: z.array(MethodSpec).min(1),
  classifiers: z.array(ClassifierSpec).min(1),
  seeds: z.array(z.number().int().nonnegative()).min(1),
  training: TrainingSpec.default(TrainingSpec.parse({})),
  evaluation: EvaluationSpec.default(EvaluationSpec.parse({})),
  /** Cells to drop from the cartesian product. */
  exclude: z.array(CellPattern).default([]),
  /** Only cells matching at least one pattern are kept (default: all). */
  include: z.array(CellPattern).optional(),
});

export type DatasetSpec = z.infer<typeof DatasetSpec>;
export type BackboneSpec = z.infer<typeof BackboneSpec>;
export type AugmentationSpec = z.infer<typeof AugmentationSpec>;
export type TrainingSpec = z.infer<typeof TrainingSpec>;
export type MethodSpec = z.infer<typeof MethodSpec>;
export type ClassifierSpec = z.infer<typeof ClassifierSpec>;
export type EvaluationSpec = z.infer<typeof EvaluationSpec>;
export type CellPattern = z.infer<typeof CellPattern>;
export type MatrixSpec = z.infer<typeof MatrixSpec>;
