/**
 * The result document, `invbench.result/v1`: one JSON document per run, carrying its own schema
 * id, the matrix it ran (name, version, sha256), the harness (version, commit, dirty flag), the
 * environment fingerprint, the sha256 of every input, one row per cell and summary rows over
 * seeds. schemas/result.v1.schema.json is generated from this file. A change here that is not
 * backward compatible bumps the schema id; `readResult` keeps reading every older version.
 */
import { ResultFormatError } from "../errors.ts";
import { z } from "zod";
import { sha256Hex } from "../util/hash.ts";

export const RESULT_SCHEMA_ID = "invbench.result/v1";

/** Metrics whose values measure the machine, not the method: never compared across runs. */
export function isTimingMetric(name: string): boolean {
  return name.endsWith("_seconds");
}

const metric = z.number().nullable();

export const RowMetrics = z.looseObject({
  /** Accuracies are fractions in [0, 1]. */
  acc_clean: metric,
  /** Mean accuracy over K augmentation draws of the whole test set; sd over the draws. */
  acc_aug: metric,
  acc_aug_sd: metric,
  /** Structure of E on clean test features over all pairs (docs/protocol.md, Metrics). */
  l1: metric,
  l2: metric,
  slope: metric,
  intercept: metric,
  r2: metric,
  rmsd: metric,
  nrmsd: metric,
  cvrmsd: metric,
  /** Collision rate of (F, t), raw and after rigid alignment. */
  collision_raw: metric,
  collision_aligned: metric,
  train_seconds: metric,
  test_seconds: metric,
}).catchall(metric);

export const CostProfile = z.strictObject({
  backbone_passes_train: z.number().nonnegative(),
  backbone_passes_test: z.number().nonnegative(),
  trainable_parameters: z.number().int().nonnegative(),
});

export const ResultRow = z.strictObject({
  cell: z.string(),
  dataset: z.string(),
  backbone: z.string(),
  augmentation: z.string(),
  method: z.string(),
  classifier: z.string(),
  seed: z.number().int().nonnegative(),
  /** ok, or what went wrong (a collapsed or diverged loss is reported, never dropped). */
  status: z.enum(["ok", "collapsed", "diverged", "failed"]),
  reason: z.string().optional(),
  /** Flags for honest reading, e.g. "invariant-classifier-not-latent" for aug-probe. */
  flags: z.array(z.string()).default([]),
  metrics: RowMetrics,
  cost: CostProfile,
  /** Sampled pairwise distances (d = ‖Fx − Fy‖, e = ‖EFx − EFy‖) for the structure scatter. */
  structure_sample: z.strictObject({ d: z.array(z.number()), e: z.array(z.number()) }).optional(),
});

export const SummaryStat = z.strictObject({
  n: z.number().int().positive(),
  mean: z.number(),
  sd: z.number(),
  ci95: z.tuple([z.number(), z.number()]),
});

export const SummaryRow = z.strictObject({
  dataset: z.string(),
  backbone: z.string(),
  augmentation: z.string(),
  method: z.string(),
  classifier: z.string(),
  seeds: z.array(z.number().int()),
  /** Rows not "ok" are counted here and left out of the statistics. */
  failed: z.number().int().nonnegative(),
  metrics: z.record(z.string(), SummaryStat),
});

export const InputFile = z.strictObject({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

/**
 * A folder a dataset split was read from (an image folder), recorded by its manifest instead of a
 * line per file: `manifest` is the manifest's file beside result.json (one JSON line per file:
 * path relative to the folder, sha256, bytes; src/data/file_manifest.ts), `sha256` that file's.
 */
export const InputManifest = z.strictObject({
  split: z.enum(["train", "test"]),
  /** The folder, relative to the project root when inside it. */
  folder: z.string(),
  /** The manifest file, relative to the result's directory (`manifests/<dataset>-<split>.jsonl`). */
  manifest: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});

/** A backbone's ONNX file and, for a model with external data, each data file it reads. */
export const BackboneInput = z.strictObject({
  path: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  external_data: z.array(InputFile).optional(),
});

/** A method file the result ran, embedded whole: `sha256` is that of `source` (checked on reading). */
export const MethodFile = z.strictObject({
  /** The `loss` value the matrix gave (relative to the matrix file). */
  path: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  source: z.string(),
}).refine((m) => sha256Hex(m.source) === m.sha256, {
  message: "sha256 is not the sha256 of the embedded source",
  path: ["sha256"],
});

/** How a shard was chosen (`--shard`, `--shard-by`) and where its index came from. */
export const ShardProvenance = z.strictObject({
  index: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  by: z.enum(["cell", "group"]),
  source: z.enum(["flag", "slurm", "kubernetes"]),
});

/** One shard of a merged result: what ran it and which cells it contributed. */
export const MergedShard = z.strictObject({
  /** The shard's run directory as given to `merge` (its last path component). */
  directory: z.string(),
  shard: ShardProvenance.optional(),
  harness: z.strictObject({ version: z.string(), commit: z.string(), dirty: z.boolean() }),
  environment: z.record(z.string(), z.unknown()),
  cells: z.array(z.string()),
});

/**
 * What part of the matrix a document covers and how it came to be: `matrix_cells` is the size of
 * the whole matrix, so a reader sees at once whether the rows are all of it. Absent from results
 * written before it existed.
 */
export const Provenance = z.strictObject({
  matrix_cells: z.number().int().nonnegative(),
  /** `--filter` expressions the run kept cells by. */
  filters: z.array(z.string()).optional(),
  shard: ShardProvenance.optional(),
  /** The run was restricted to an explicit list of cells (reproduce) of this many cells. */
  selected_cells: z.number().int().nonnegative().optional(),
  /** Set by `invbench merge`: the shards this document was merged from. */
  merged_from: z.array(MergedShard).optional(),
});

export const ResultDocument = z.strictObject({
  schema: z.literal(RESULT_SCHEMA_ID),
  matrix: z.strictObject({
    name: z.string(),
    version: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** The matrix file, relative to the project root when inside it (for `reproduce`). */
    path: z.string(),
    /** The matrix as parsed (defaults applied), so a result can be re-run without its file. */
    spec: z.record(z.string(), z.unknown()),
  }),
  /** The method files its adapters' losses came from (cells name them by sha256:<hex>). */
  method_files: z.array(MethodFile).optional(),
  harness: z.strictObject({ version: z.string(), commit: z.string(), dirty: z.boolean() }),
  environment: z.record(z.string(), z.unknown()),
  inputs: z.strictObject({
    datasets: z.record(
      z.string(),
      z.strictObject({
        content: z.string(),
        /** Each file read, besides those of `manifests`. */
        files: z.array(InputFile),
        /** Folders recorded by a manifest (absent when none was read, and in results before them). */
        manifests: z.array(InputManifest).optional(),
      }),
    ),
    backbones: z.record(z.string(), BackboneInput),
  }),
  provenance: Provenance.optional(),
  /** The signer's note, e.g. "local key generated by invbench; not a leaderboard identity". */
  signer: z.string().optional(),
  rows: z.array(ResultRow),
  summary: z.array(SummaryRow),
  signature: z.strictObject({ protected: z.string(), signature: z.string() }).optional(),
});

export type RowMetrics = z.infer<typeof RowMetrics>;
export type CostProfile = z.infer<typeof CostProfile>;
export type ResultRow = z.infer<typeof ResultRow>;
export type SummaryRow = z.infer<typeof SummaryRow>;
export type ResultDocument = z.infer<typeof ResultDocument>;
export type ShardProvenance = z.infer<typeof ShardProvenance>;
export type Provenance = z.infer<typeof Provenance>;

/** Upgrades older result versions to the current one (none older than v1 exist yet). */
const UPGRADES: Record<string, (doc: Record<string, unknown>) => Record<string, unknown>> = {};

/** Validates a parsed result document of any known version; `file` is used in messages. */
export function readResult(raw: unknown, file = "<result>"): ResultDocument {
  const schema = (raw as { schema?: unknown })?.schema;
  let doc = raw as Record<string, unknown>;
  if (typeof schema === "string" && UPGRADES[schema]) doc = UPGRADES[schema](doc);
  else if (schema !== RESULT_SCHEMA_ID) {
    throw new ResultFormatError(file, [`schema: "${String(schema)}"; expected ${RESULT_SCHEMA_ID}`]);
  }
  const parsed = ResultDocument.safeParse(doc);
  if (!parsed.success) {
    throw new ResultFormatError(
      file,
      parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(top level)"}: ${i.message}`),
    );
  }
  return parsed.data;
}
