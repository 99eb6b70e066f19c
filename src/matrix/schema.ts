/**
 * The benchmark matrix, `invbench.matrix/v1`: what a user declares. Every object is strict
 * (unknown fields are errors) and every default is the protocol's (../docs/matrix.md documents
 * each field). The parts that list components (dataset sources, losses and their parameters,
 * method kinds and their options, classifiers) are generated from the catalogs that
 * `matrixSchemas` is given (src/catalogs.ts), so this layer imports no component code. The JSON
 * Schema in schemas/matrix.v1.schema.json is generated from the result.
 */
import { z } from "zod";
import {
  type AugmentationEntry,
  augmentationFieldSchema,
  type Catalogs,
  DATASET_FIELDS,
  type DataSourceEntry,
  type LossEntry,
  paramsSchema,
} from "../catalog/entries.ts";

export const MATRIX_SCHEMA_ID = "invbench.matrix/v1";

const id = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, "an id: lowercase letters, digits, '_', '.', '-'");
const semver = z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, "a semantic version like 1.0.0");
const positiveInt = z.number().int().positive();
/** Free text and paths have a length limit, so no field can carry megabytes into tables and pages. */
const path = z.string().min(1).max(4096);

const splitOptions = z.strictObject({
  /** Keep at most this many examples of the split (after stratification). */
  limit: positiveInt.optional(),
  /** Draw the `limit` examples stratified by class with this seed (default: the first `limit`). */
  stratified_seed: z.number().int().nonnegative().optional(),
});

/** A dataset (`datasets[]`); `source` is one of the catalog's image sources. */
export interface DatasetSpec {
  id: string;
  source: string;
  /** Directory or files for on-disk sources; ignored for the packaged mnist / fashion-mnist. */
  path?: string;
  /** Number of classes of an idx dataset; labels outside 0..classes−1 are then errors. */
  classes?: number;
  train: z.infer<typeof splitOptions>;
  test: z.infer<typeof splitOptions>;
  /** image-folder, parquet: `fraction` of each class held out as the test split, drawn with `seed`. */
  holdout?: { fraction: number; seed: number };
  /** image-folder, parquet: decode to 1 (greyscale) or 3 (RGB) channels; default 1 when every image is grey. */
  channels?: 1 | 3;
  /** parquet: the image column (HF `Image`, struct {bytes, path}) and the integer label column. */
  image_column?: string;
  label_column?: string;
  /** parquet: the files of each split, relative to `path`. */
  splits?: { train?: string[]; test?: string[] };
}

const columnName = z.string().min(1).max(256);

function datasetSchema(sources: readonly DataSourceEntry[]): z.ZodType<DatasetSpec> {
  const images = sources.filter((s) => s.yields === "images").map((s) => s.source);
  const features = new Set(sources.filter((s) => s.yields === "features").map((s) => s.source));
  const source = z.enum(images as [string, ...string[]], {
    error: (issue) =>
      features.has(issue.input as string)
        ? `"${issue.input}" holds precomputed features, which cannot run through a backbone; expected an image source: ${
          images.join(", ")
        }`
        : undefined,
  });
  return z.strictObject({
    id,
    source,
    path: path.optional(),
    /**
     * Number of classes of an idx dataset; labels outside 0..classes−1 are then errors. Required
     * unless the labels are exactly 0..K−1 (a stray label 255 would otherwise make a 256-class
     * classifier).
     */
    classes: z.number().int().min(2).max(100_000).optional(),
    train: splitOptions.default({}),
    test: splitOptions.default({}),
    holdout: z.strictObject({
      fraction: z.number().gt(0).lt(1),
      seed: z.number().int().nonnegative(),
    }).optional(),
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
    image_column: columnName.optional(),
    label_column: columnName.optional(),
    splits: z.strictObject({
      train: z.array(path).min(1).max(100_000).optional(),
      test: z.array(path).min(1).max(100_000).optional(),
    }).optional(),
  }).superRefine((d, ctx) => {
    // A field only some sources read, on another source: refused rather than silently ignored.
    const reads = new Set(sources.find((s) => s.source === d.source)?.fields ?? []);
    for (const field of DATASET_FIELDS) {
      if ((d as Record<string, unknown>)[field] !== undefined && !reads.has(field)) {
        const takers = sources.filter((s) => s.fields?.includes(field)).map((s) => s.source);
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `source "${d.source}" does not read ${field} (only ${takers.join(", ")})`,
        });
      }
    }
  }) as unknown as z.ZodType<DatasetSpec>;
}

export const BackboneSpec = z.strictObject({
  id,
  /** Path of the ONNX model, relative to the matrix file. */
  onnx: path,
  /** Model output to use as features (name); default the first output. */
  output: z.string().max(256).optional(),
  input: z.strictObject({
    layout: z.enum(["NCHW", "NHWC"]).default("NCHW"),
    size: z.tuple([positiveInt, positiveInt]),
    channels: positiveInt,
    resize: z.enum(["none", "bilinear"]).default("none"),
    mean: z.array(z.number()).min(1),
    std: z.array(z.number().positive()).min(1),
  }),
});

/** An augmentation (`augmentations[]`): a catalog kind with its fields. */
export interface AugmentationSpec {
  id: string;
  kind: string;
  [field: string]: unknown;
}

function augmentationSchema(kinds: readonly AugmentationEntry[]): z.ZodType<AugmentationSpec> {
  // A list field (compose's steps) holds augmentations without an id, of any kind, nested at will.
  const union = (withId: boolean) => {
    const variants = kinds.map((k) =>
      z.strictObject({
        ...(withId ? { id } : {}),
        kind: z.literal(k.kind),
        ...Object.fromEntries(
          Object.entries(k.fields).map(([name, f]) => [name, augmentationFieldSchema(f, () => nested)]),
        ),
      })
    );
    return z.discriminatedUnion("kind", variants as unknown as [z.ZodObject, ...z.ZodObject[]]);
  };
  // Named, so the published JSON Schema refers to it as #/$defs/nested_augmentation.
  const nested: z.ZodType = union(false).meta({ id: "nested_augmentation" });
  return union(true) as unknown as z.ZodType<AugmentationSpec>;
}

/**
 * The view regime's value meaning "fresh augmentation parameters for every view of every step"
 * (the protocol's); an integer V instead caches a pool of V views per image (src/methods/fresh_views.ts).
 */
export const FRESH_VIEWS = "fresh";

/** Adapter training hyper-parameters (docs/protocol.md defaults). */
export const TrainingSpec = z.strictObject({
  hidden: positiveInt.default(4096),
  /** Output dimension d' as a fraction of d (WaCo dimension reduction uses 0.25). */
  out_ratio: z.number().positive().max(1).default(1),
  epochs: positiveInt.default(100),
  batch: positiveInt.default(256),
  /** Augmented views per clean input in each step (s). */
  views: positiveInt.default(3),
  /**
   * "fresh": every step draws new augmentation parameters for each of its s views (the protocol);
   * an integer V ≥ s: V views cached per image, each step picks s of them.
   */
  view_pool: z.union([positiveInt, z.literal(FRESH_VIEWS)]).default(FRESH_VIEWS),
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

/** An adapter: E trained with one of the catalog's losses. */
export interface AdapterMethodSpec {
  id: string;
  kind: "adapter";
  loss: string;
  /** The loss's parameters as given (expandMatrix fills in the defaults). */
  params: Record<string, unknown>;
  training: z.infer<typeof TrainingOverrides>;
}

/** Any other method kind: its numeric options, defaults filled in. */
export interface OtherMethodSpec {
  id: string;
  kind: string;
  [option: string]: string | number;
}

export type MethodSpec = AdapterMethodSpec | OtherMethodSpec;

/** The kind of method that trains an adapter E with a loss (handled by the runner itself). */
export const ADAPTER_KIND = "adapter";

export function isAdapter(m: object): m is AdapterMethodSpec {
  return (m as { kind?: unknown }).kind === ADAPTER_KIND;
}

/** A matrix `loss` naming a method file rather than a built-in loss: a path ending in .ts or .js. */
export const METHOD_FILE_PATTERN = /^[^\0]*\.(ts|js)$/;

/** What is wrong with a loss's `params` (empty when nothing), each with its path below `params`. */
export function paramProblems(
  loss: Pick<LossEntry, "name" | "params">,
  params: unknown,
): { path: PropertyKey[]; message: string; unknownKey?: boolean }[] {
  const schema = paramsSchema(loss.params);
  const r = schema.safeParse(params);
  if (r.success) return [];
  const known = Object.keys(schema.shape);
  return r.error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      // Point at each unknown key and say which parameters this loss takes.
      ? issue.keys.map((key) => ({
        path: ["params", key],
        message: `unknown parameter "${key}" for loss ${loss.name}; expected ${
          known.length ? `one of ${known.join(", ")}` : "no parameters"
        }`,
        unknownKey: true,
      }))
      : [{ path: ["params", ...issue.path], message: issue.message }]
  );
}

/** A method (`methods[]`): the adapter, or a catalog method kind with its options. */
function methodSchema(c: Catalogs): z.ZodType<MethodSpec> {
  const losses = new Map(c.losses.map((l) => [l.name, l]));
  const names = c.losses.map((l) => l.name);
  const adapter = z.strictObject({
    id,
    kind: z.literal(ADAPTER_KIND),
    /** A catalog loss, or a method file (.ts/.js, relative to the matrix; docs/methods.md). */
    loss: z.union([
      z.enum(names as [string, ...string[]]),
      z.string().regex(
        METHOD_FILE_PATTERN,
        `expected a built-in loss (${names.join(", ")}) or a method file path ending in .ts or .js`,
      ),
    ]),
    /** Loss parameters; which fields are allowed depends on `loss` (checked below). */
    params: z.record(z.string(), z.unknown()).default({}),
    training: TrainingOverrides.default({}),
  });
  const others = c.methods.map((k) =>
    z.strictObject({ id, kind: z.literal(k.kind), ...paramsSchema(k.options).shape })
  );
  return z.discriminatedUnion("kind", [adapter, ...others] as unknown as [z.ZodObject, ...z.ZodObject[]])
    .superRefine((m, ctx) => {
      // An adapter's `params` are checked against its loss's own strict schema; a method file's
      // once it is loaded (src/matrix/method_files.ts).
      if (!isAdapter(m) || !losses.has(m.loss)) return;
      for (const p of paramProblems(losses.get(m.loss)!, m.params)) {
        ctx.addIssue({
          code: "custom",
          message: p.message,
          path: p.path,
          ...(p.unknownKey ? { params: { unknownKey: true } } : {}),
        });
      }
    }) as unknown as z.ZodType<MethodSpec>;
}

/** A classifier (`classifiers[]`): a kind's name alone, or the kind with its training settings. */
export interface ClassifierSpec {
  id: string;
  kind: string;
  epochs: number;
  batch: number;
  lr: number;
}

function classifierSchema(c: Catalogs): z.ZodType<ClassifierSpec> {
  const kind = z.enum(c.classifiers.map((k) => k.kind) as [string, ...string[]]);
  return z.union([
    kind.transform((kind) => ({ id: kind, kind, epochs: 50, batch: 256, lr: 1e-3 })),
    z.strictObject({
      id,
      kind,
      epochs: positiveInt.default(50),
      batch: positiveInt.default(256),
      lr: z.number().positive().default(1e-3),
    }),
  ]) as unknown as z.ZodType<ClassifierSpec>;
}

export const EvaluationSpec = z.strictObject({
  /** K: independent augmentation draws of the whole test set for augmented accuracy. */
  aug_draws: positiveInt.default(5),
  /** n clean test points for the structure metrics (all n(n−1)/2 pairs; at least one pair). */
  structure_points: z.number().int().min(2).default(500),
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

/** The matrix schema and its component parts, generated from the catalogs. */
export function matrixSchemas(c: Catalogs) {
  const DatasetSpec = datasetSchema(c.dataSources);
  const MethodSpec = methodSchema(c);
  const ClassifierSpec = classifierSchema(c);
  const AugmentationSpec = augmentationSchema(c.augmentations);
  const MatrixSpec = z.strictObject({
    schema: z.literal(MATRIX_SCHEMA_ID),
    name: id,
    version: semver,
    description: z.string().max(10_000).optional(),
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

  return { MatrixSpec, DatasetSpec, MethodSpec, ClassifierSpec, AugmentationSpec };
}

export type BackboneSpec = z.infer<typeof BackboneSpec>;
export type TrainingSpec = z.infer<typeof TrainingSpec>;

/**
 * Augmented views of each train image an adapter with `training` sees over its whole training:
 * V from a pool, epochs · s under fresh views. The budget that the baselines' `views` (and tta's
 * `copies`) default to, so that every method of a matrix gets as many augmented views per image.
 */
export function viewBudget(t: Pick<TrainingSpec, "view_pool" | "epochs" | "views">): number {
  return t.view_pool === FRESH_VIEWS ? t.epochs * t.views : t.view_pool;
}

/** An adapter's output dimension d' for d input features: `out_ratio` · d, rounded, at least 1. */
export function adapterOutDim(d: number, outRatio: number): number {
  return Math.max(1, Math.round(d * outRatio));
}
export type EvaluationSpec = z.infer<typeof EvaluationSpec>;
export type CellPattern = z.infer<typeof CellPattern>;
export type MatrixSpec = z.infer<ReturnType<typeof matrixSchemas>["MatrixSpec"]>;
