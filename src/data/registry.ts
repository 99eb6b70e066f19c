/**
 * `loadDataset(spec, split)`: one entry point from a matrix's `datasets[]` entry to an in-memory
 * split, whatever the source. The sources are registered in ./sources/registered.ts (one file
 * and one line each); field names follow the matrix schema (id, source, path, train/test {limit,
 * stratified_seed}), and ./source.ts `DataSpec` lists the extra fields some sources read.
 */
import { catalog } from "../catalog/entries.ts";
import { DataError } from "../errors.ts";
import type { Dataset, FeatureDataset, Split } from "./dataset.ts";
import type { DataSource, DataSpec, LoadContext } from "./source.ts";
import * as registered from "./sources/registered.ts";

/** The dataset sources in name order; `DATA_SOURCES.get(name)` fails listing what exists. */
export const DATA_SOURCES = catalog<DataSource, "source">(
  "dataset source",
  "source",
  Object.values(registered),
);

function sourceOf(spec: DataSpec): DataSource {
  const source = DATA_SOURCES.entries.find((s) => s.source === spec.source);
  if (!source) {
    throw new DataError(
      `dataset ${spec.id ?? "?"}`,
      { field: "source" },
      `one of ${DATA_SOURCES.names.join(", ")}`,
      JSON.stringify((spec as { source: unknown }).source),
    );
  }
  return source;
}

/** Loads split `split` of the dataset `spec` describes. */
export async function loadDataset(
  spec: DataSpec,
  split: Split,
  context?: LoadContext,
): Promise<Dataset | FeatureDataset> {
  return await sourceOf(spec).load(spec, split, context);
}

/** Both splits (a source may read shared files once for the two). */
export async function loadDatasetSplits(
  spec: DataSpec,
  context?: LoadContext,
): Promise<Record<Split, Dataset | FeatureDataset>> {
  const source = sourceOf(spec);
  if (source.loadSplits) return source.loadSplits(spec);
  return { train: await source.load(spec, "train", context), test: await source.load(spec, "test", context) };
}

export type { DataSource, DataSpec, LoadContext, SplitFiles } from "./source.ts";
