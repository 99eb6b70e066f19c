/**
 * Expands a matrix into cells (the cartesian product, minus `exclude`, restricted to `include`),
 * gives each cell a stable id (the hash of its fully resolved spec), and partitions cells into
 * shards. A cell's id changes exactly when something that determines its result changes.
 */
import { type LossEntry, type MethodEntry, resolveParams } from "../catalog/entries.ts";
import { InputError } from "../errors.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { sha256Hex } from "../util/hash.ts";
import {
  type AdapterMethodSpec,
  type AugmentationSpec,
  type BackboneSpec,
  type CellPattern,
  type ClassifierSpec,
  type DatasetSpec,
  type EvaluationSpec,
  isAdapter,
  type MatrixSpec,
  type MethodSpec,
  type OtherMethodSpec,
  type TrainingSpec,
  viewBudget,
} from "./schema.ts";

/** A method with every default resolved (adapter training merged over the matrix's). */
export type ResolvedMethod = OtherMethodSpec | ResolvedAdapter;

/** An adapter whose own `training` is merged over the matrix's. */
export type ResolvedAdapter = Omit<AdapterMethodSpec, "training"> & { training: TrainingSpec };

export interface Cell {
  /** 16 hex digits of sha256 over the canonical (RFC 8785) JSON of `spec`. */
  id: string;
  dataset: string;
  backbone: string;
  augmentation: string;
  method: string;
  classifier: string;
  seed: number;
  spec: {
    dataset: DatasetSpec;
    backbone: BackboneSpec;
    augmentation: AugmentationSpec;
    method: ResolvedMethod;
    classifier: ClassifierSpec;
    seed: number;
    evaluation: EvaluationSpec;
  };
}

/** What a cell needs of a loaded method file: its parameters and its content reference. */
export interface MethodFileRef extends Pick<LossEntry, "name" | "params"> {
  /** "sha256:<hex>" of the file's source: what the cell spec holds instead of the path. */
  readonly ref: string;
}

function resolveMethod(
  method: MethodSpec,
  training: TrainingSpec,
  losses: LossParams,
  files: ReadonlyMap<string, MethodFileRef>,
  kinds: MethodOptions,
): ResolvedMethod {
  if (!isAdapter(method)) {
    // Options that default to the view budget get the matrix's (equal augmentation budgets).
    const options = kinds.find((k) => k.kind === method.kind)?.options ?? {};
    const budget = Object.entries(options).filter(([name, o]) => o.viewBudget && method[name] === undefined);
    if (budget.length === 0) return method as OtherMethodSpec;
    return { ...method, ...Object.fromEntries(budget.map(([name]) => [name, viewBudget(training)])) };
  }
  const merged = { ...method, training: { ...training, ...method.training } };
  const loss = losses.find((l) => l.name === method.loss);
  if (loss) return { ...merged, params: resolveParams(`${method.loss} params`, loss.params, method.params) };
  // A method file: the cell covers its content (sha256 of the source), never its path.
  const file = files.get(method.loss);
  if (!file) throw new Error(`method ${method.id}: method file ${method.loss} was not loaded`);
  return {
    ...merged,
    loss: file.ref,
    params: resolveParams(`${file.name} params`, file.params, method.params),
  };
}

function matches(cell: Pick<Cell, keyof CellPattern>, pattern: CellPattern): boolean {
  return Object.entries(pattern).every(([k, v]) => v === undefined || cell[k as keyof CellPattern] === v);
}

/**
 * The most cells a matrix may have before include/exclude: expansion holds every cell (with its
 * resolved spec) in memory, about 0.6 kB each, and no single machine runs more.
 */
export const MAX_CELLS = 100_000;

/** The size of the cartesian product, and the cells include/exclude keep (NaN past MAX_CELLS). */
export function countCells(spec: MatrixSpec): { product: number; kept: number } {
  const lists = [
    spec.datasets,
    spec.backbones,
    spec.augmentations,
    spec.methods,
    spec.classifiers,
    spec.seeds,
  ];
  const product = lists.reduce((n, l) => n * l.length, 1);
  if (product > MAX_CELLS) return { product, kept: NaN };
  let kept = 0;
  for (const dataset of spec.datasets) {
    for (const backbone of spec.backbones) {
      for (const augmentation of spec.augmentations) {
        for (const method of spec.methods) {
          for (const c of spec.classifiers) {
            for (const seed of spec.seeds) {
              const cell = {
                dataset: dataset.id,
                backbone: backbone.id,
                augmentation: augmentation.id,
                method: method.id,
                classifier: (c as Exclude<ClassifierSpec, string>).id,
                seed,
              };
              if (spec.exclude.some((p) => matches(cell, p))) continue;
              if (spec.include && !spec.include.some((p) => matches(cell, p))) continue;
              kept++;
            }
          }
        }
      }
    }
  }
  return { product, kept };
}

/** What expansion needs of the loss catalog: each loss's parameters, for their defaults. */
type LossParams = readonly Pick<LossEntry, "name" | "params">[];

/** What expansion needs of the method catalog: each kind's options, for those set by the view budget. */
type MethodOptions = readonly Pick<MethodEntry, "kind" | "options">[];

/**
 * All cells of the matrix in declaration order (datasets outermost, seeds innermost); adapters'
 * loss parameters get the defaults of `losses` (src/catalogs.ts binds it as `expandMatrix`), or
 * of the method file `files` holds for their `loss` (src/matrix/method_files.ts); other methods'
 * options marked `viewBudget` that the matrix leaves out get its view budget (`methods`' entries).
 */
export function expandMatrixWith(
  spec: MatrixSpec,
  losses: LossParams,
  files: ReadonlyMap<string, MethodFileRef> = new Map(),
  methods: MethodOptions = [],
): Cell[] {
  const cells: Cell[] = [];
  for (const dataset of spec.datasets) {
    for (const backbone of spec.backbones) {
      for (const augmentation of spec.augmentations) {
        for (const m of spec.methods) {
          const method = resolveMethod(m, spec.training, losses, files, methods);
          for (const classifier of spec.classifiers) {
            for (const seed of spec.seeds) {
              const cellSpec = {
                dataset,
                backbone,
                augmentation,
                method,
                classifier,
                seed,
                evaluation: spec.evaluation,
              };
              const cell: Cell = {
                id: sha256Hex(canonicalJson(cellSpec)).slice(0, 16),
                dataset: dataset.id,
                backbone: backbone.id,
                augmentation: augmentation.id,
                method: method.id,
                classifier: classifier.id,
                seed,
                spec: cellSpec,
              };
              if (spec.exclude.some((p) => matches(cell, p))) continue;
              if (spec.include && !spec.include.some((p) => matches(cell, p))) continue;
              cells.push(cell);
            }
          }
        }
      }
    }
  }
  return cells;
}

/** Parses `--shard I/N` (0 ≤ I < N). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new InputError(`--shard "${text}": expected I/N with 0 ≤ I < N, e.g. 0/4`);
  }
  return { index, count };
}

/**
 * The cells of shard I of N: cells sorted by id, every N-th from position I. Independent of the
 * order in which the matrix lists things, balanced to within one cell, and the shards of one
 * matrix are disjoint and cover it.
 */
export function shardCells(cells: readonly Cell[], index: number, count: number): Cell[] {
  return [...cells].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).filter((_, i) =>
    i % count === index
  );
}

const FILTER_FIELDS = ["dataset", "backbone", "augmentation", "method", "classifier", "seed"] as const;

/**
 * Keeps cells matching every `field=value[,value...]` filter (values of one field are OR-ed).
 */
export function filterCells(cells: readonly Cell[], filters: readonly string[]): Cell[] {
  const parsed = filters.map((f) => {
    const m = /^([a-z]+)=(.+)$/.exec(f);
    const field = m?.[1] as (typeof FILTER_FIELDS)[number];
    if (!m || !FILTER_FIELDS.includes(field)) {
      throw new InputError(
        `--filter "${f}": expected FIELD=VALUE[,VALUE] with FIELD one of ${FILTER_FIELDS.join(", ")}`,
      );
    }
    const values = new Set(m[2].split(","));
    // A value no cell has is a typo: refused, not an empty (or silently narrower) selection.
    const present = [...new Set(cells.map((c) => String(c[field])))];
    for (const v of values) {
      if (!present.includes(v)) {
        throw new InputError(
          `--filter "${f}": ${field === "seed" ? v : `"${v}"`} is not a ${field} of this matrix's cells; ` +
            `expected one of ${present.join(", ")}`,
        );
      }
    }
    return { field, values };
  });
  return cells.filter((c) => parsed.every(({ field, values }) => values.has(String(c[field]))));
}
