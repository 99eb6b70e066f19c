/**
 * A result document as flat, typed tables for analysis (pandas, R, DuckDB): one row per cell, or
 * one row per (dataset, backbone, augmentation, method, classifier) group. The columns are the one
 * list that the CSV, JSON Lines and Parquet renderings (./table_formats.ts) all write:
 *
 *   cell, dataset, backbone, augmentation, method, classifier, seed, status, reason, flags
 *   metrics.<name>        every metric any row has (methods and method files add their own)
 *   cost.<name>           backbone passes per input, trainable parameters
 *   <part>.<field>...     the cell's resolved spec: dataset, backbone, augmentation, method (loss
 *                         params with their defaults, training merged over the matrix's),
 *                         classifier and evaluation, nested fields joined by "." and arrays by index
 *   spec_verified         the resolved spec hashes to the row's cell id, i.e. it is what ran
 *   backend, backend.device, execution_provider, harness.version, harness.commit, harness.dirty,
 *   matrix.name, matrix.version, matrix.sha256   (per shard for a merged result)
 *
 * The summary table has the group columns, the spec columns the group shares, `seeds`, `n_seeds`,
 * `failed`, and per metric `metrics.<name>.mean`, `.sd`, `.ci95_lo`, `.ci95_hi`, `.n`.
 *
 * Column types follow the values: metrics (and their summary statistics but `n`) are doubles; any
 * other column whose values are all integers is an int, all numbers a double, all booleans a
 * boolean, and anything else (or a mix) a string. Missing values are null.
 */
import { resolveParams } from "../catalog/entries.ts";
import { CATALOGS } from "../catalogs.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { sha256Hex } from "../util/hash.ts";
import type { ResultDocument, ResultRow, SummaryRow } from "./schema.ts";

export type FlatValue = number | string | boolean | null;
export type FlatType = "double" | "int" | "boolean" | "string";

export interface FlatTable {
  columns: { name: string; type: FlatType }[];
  rows: FlatValue[][];
}

/** The columns that name a group of cells (a summary row): everything but the seed. */
export const GROUP = ["dataset", "backbone", "augmentation", "method", "classifier"] as const;
/** The parts of a cell's resolved spec, in column order (ids are the identity columns). */
const SPEC_PARTS = ["dataset", "backbone", "augmentation", "method", "classifier", "evaluation"] as const;

type Json = unknown;
type Record_ = Record<string, Json>;

/** `value` flattened into `out` under `prefix`: objects by key, arrays by index. */
function flatten(value: Json, prefix: string, out: Map<string, FlatValue>): void {
  if (Array.isArray(value)) value.forEach((v, i) => flatten(v, `${prefix}.${i}`, out));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) flatten(v, `${prefix}.${k}`, out);
  } else if (value === undefined) return;
  else out.set(prefix, value as FlatValue);
}

const byId = (list: unknown, id: string): Record_ | undefined =>
  Array.isArray(list) ? list.find((e) => (e as Record_)?.id === id) as Record_ | undefined : undefined;

/**
 * A row's cell spec resolved from the matrix the result embeds, as expansion resolves it
 * (src/matrix/expand.ts): adapters' training merged over the matrix's, built-in losses' params
 * with their defaults, a method file's loss as its sha256 (its params as the matrix gave them).
 */
function resolvedSpec(doc: ResultDocument, row: ResultRow): Record_ {
  const spec = doc.matrix.spec as Record_;
  let method = byId(spec.methods, row.method);
  if (method?.kind === "adapter") {
    const training = { ...(spec.training as Record_), ...(method.training as Record_) };
    const loss = CATALOGS.losses.find((l) => l.name === method!.loss);
    const file = doc.method_files?.find((f) => f.path === method!.loss);
    let params = method.params as Record_ | undefined;
    if (loss) {
      try {
        params = resolveParams(`${loss.name} params`, loss.params, params) as Record_;
      } catch {
        // Params this harness's loss no longer takes: kept as written (spec_verified says so).
      }
    }
    method = { ...method, ...(file ? { loss: `sha256:${file.sha256}` } : {}), params, training };
  }
  const classifier = byId(spec.classifiers, row.classifier);
  return {
    dataset: byId(spec.datasets, row.dataset),
    backbone: byId(spec.backbones, row.backbone),
    augmentation: byId(spec.augmentations, row.augmentation),
    method,
    classifier,
    seed: row.seed,
    evaluation: spec.evaluation,
  };
}

/** The run columns of each row: its shard's where a merged result says which shard ran it. */
function runColumns(doc: ResultDocument): (cell: string) => Map<string, FlatValue> {
  const of = (harness: ResultDocument["harness"], environment: Record_) => {
    const backend = environment.backend as Record_ | undefined;
    const values: FlatValue[] = [
      (backend?.chosen as string) ?? null,
      (backend?.device as string) ?? null,
      (environment.execution_provider as string) ?? null,
      harness.version,
      harness.commit,
      harness.dirty,
      doc.matrix.name,
      doc.matrix.version,
      doc.matrix.sha256,
    ];
    return new Map<string, FlatValue>(RUN_COLUMNS.map((name, i) => [name, values[i]]));
  };
  const whole = of(doc.harness, doc.environment);
  const byCell = new Map<string, Map<string, FlatValue>>();
  for (const s of doc.provenance?.merged_from ?? []) {
    const cols = of(s.harness, s.environment);
    for (const c of s.cells) byCell.set(c, cols);
  }
  return (cell) => byCell.get(cell) ?? whole;
}

/** The spec columns of a row (every part flattened) and whether the spec is the one that ran. */
function specColumns(doc: ResultDocument, row: ResultRow): Map<string, FlatValue> {
  const spec = resolvedSpec(doc, row);
  const out = new Map<string, FlatValue>();
  for (const part of SPEC_PARTS) {
    const { id: _id, ...fields } = (spec[part] ?? {}) as Record_;
    flatten(fields, part, out);
  }
  out.set("spec_verified", sha256Hex(canonicalJson(spec)).slice(0, 16) === row.cell);
  return out;
}

/** Types each column from its values (`double(name)`: always a double) and lays the rows out. */
function build(
  names: string[],
  records: Map<string, FlatValue>[],
  double: (name: string) => boolean,
): FlatTable {
  const columns = names.map((name) => {
    const values = records.map((r) => r.get(name) ?? null).filter((v) => v !== null);
    let type: FlatType = "string";
    if (double(name) && values.every((v) => typeof v === "number")) type = "double";
    else if (values.length && values.every((v) => typeof v === "boolean")) type = "boolean";
    else if (values.length && values.every((v) => typeof v === "number")) {
      type = values.every((v) => Number.isSafeInteger(v)) ? "int" : "double";
    }
    return { name, type };
  });
  const rows = records.map((r) =>
    columns.map(({ name, type }) => {
      const v = r.get(name) ?? null;
      return v === null || type !== "string" ? v : String(v);
    })
  );
  return { columns, rows };
}

/** What ran a row; these columns come last. */
const RUN_COLUMNS = [
  "backend",
  "backend.device",
  "execution_provider",
  "harness.version",
  "harness.commit",
  "harness.dirty",
  "matrix.name",
  "matrix.version",
  "matrix.sha256",
] as const;

/** Column names: the fixed leading ones, the rest in first-seen order, the run columns last. */
function names(leading: readonly string[], records: Map<string, FlatValue>[]): string[] {
  const seen = new Set(leading);
  const run = new Set<string>(RUN_COLUMNS);
  for (const r of records) for (const k of r.keys()) if (!run.has(k)) seen.add(k);
  return [...seen, ...RUN_COLUMNS];
}

/** One row per cell: identity, status, metrics, cost, resolved spec, run (module doc). */
export function cellTable(doc: ResultDocument): FlatTable {
  const run = runColumns(doc);
  const metricNames = [...new Set(doc.rows.flatMap((r) => Object.keys(r.metrics)))];
  const costNames = [...new Set(doc.rows.flatMap((r) => Object.keys(r.cost)))];
  const records = doc.rows.map((r) => {
    const m = new Map<string, FlatValue>([
      ["cell", r.cell],
      ...GROUP.map((k): [string, FlatValue] => [k, r[k]]),
      ["seed", r.seed],
      ["status", r.status],
      ["reason", r.reason ?? null],
      ["flags", r.flags.join(";")],
    ]);
    for (const k of metricNames) m.set(`metrics.${k}`, r.metrics[k] ?? null);
    for (const k of costNames) m.set(`cost.${k}`, (r.cost as Record<string, number>)[k] ?? null);
    for (const [k, v] of specColumns(doc, r)) m.set(k, v);
    for (const [k, v] of run(r.cell)) m.set(k, v);
    return m;
  });
  const leading = [
    "cell",
    ...GROUP,
    "seed",
    "status",
    "reason",
    "flags",
    ...metricNames.map((k) => `metrics.${k}`),
    ...costNames.map((k) => `cost.${k}`),
  ];
  return build(names(leading, records), records, (name) => name.startsWith("metrics."));
}

const STATS = ["mean", "sd", "ci95_lo", "ci95_hi", "n"] as const;

function statsOf(s: SummaryRow["metrics"][string]): Record<(typeof STATS)[number], number> {
  return { mean: s.mean, sd: s.sd, ci95_lo: s.ci95[0], ci95_hi: s.ci95[1], n: s.n };
}

/**
 * One row per group: its identity, the spec columns its cells share (seed aside), `seeds`,
 * `n_seeds`, `failed`, per metric mean/sd/ci95/n over the ok seeds, and the run columns.
 */
export function summaryTable(doc: ResultDocument): FlatTable {
  const run = runColumns(doc);
  const metricNames = [...new Set(doc.summary.flatMap((s) => Object.keys(s.metrics)))];
  const records = doc.summary.map((s) => {
    const m = new Map<string, FlatValue>(GROUP.map((k): [string, FlatValue] => [k, s[k]]));
    m.set("seeds", s.seeds.join(";"));
    m.set("n_seeds", s.seeds.length);
    m.set("failed", s.failed);
    for (const k of metricNames) {
      const st = s.metrics[k];
      for (const stat of STATS) m.set(`metrics.${k}.${stat}`, st ? statsOf(st)[stat] : null);
    }
    const first = doc.rows.find((r) => GROUP.every((k) => r[k] === s[k]));
    if (first) {
      for (const [k, v] of specColumns(doc, first)) if (k !== "spec_verified") m.set(k, v);
      for (const [k, v] of run(first.cell)) m.set(k, v);
    }
    return m;
  });
  const leading = [
    ...GROUP,
    "seeds",
    "n_seeds",
    "failed",
    ...metricNames.flatMap((k) => STATS.map((stat) => `metrics.${k}.${stat}`)),
  ];
  return build(
    names(leading, records),
    records,
    (name) => name.startsWith("metrics.") && !name.endsWith(".n"),
  );
}
