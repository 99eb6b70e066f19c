/** `parquet`: Hugging Face datasets' parquet files, an image column (struct {bytes, path}) and a label column. */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { DataError } from "../../errors.ts";
import { finishDecodedImages, type Split } from "../dataset.ts";
import { readParquetSplit } from "../parquet_images.ts";
import type { DataSource, DataSpec } from "../source.ts";
import { requirePath } from "./helpers.ts";

/** A split's files: `splits` (relative to `path`), else `[data/]{split}.parquet` or `{split}-*.parquet` in `path`. */
function splitFiles(spec: DataSpec, split: Split): string[] {
  const dir = requirePath(spec);
  const named = spec.splits?.[split];
  if (named) return named.map((f) => resolve(dir, f));
  const pattern = new RegExp(`^${split}([-.][^/]*)?\\.parquet$`);
  for (const sub of [dir, join(dir, "data")]) {
    let names: string[] = [];
    try {
      names = readdirSync(sub);
    } catch { /* checked below */ }
    const found = names.filter((n) => pattern.test(n)).sort();
    if (found.length) return found.map((n) => join(sub, n));
  }
  throw new DataError(
    dir,
    { field: `splits.${split}` },
    `${split}.parquet or ${split}-*.parquet (also under data/), or splits.${split} naming the files`,
  );
}

export const source: DataSource = {
  source: "parquet",
  summary: "Hugging Face parquet files in `path`: an image column (struct {bytes, path}) and a label column",
  yields: "images",
  fields: ["image_column", "label_column", "splits", "holdout", "channels"],
  async load(spec, split, context) {
    const files = splitFiles(spec, spec.holdout ? "train" : split);
    const columns = { image: spec.image_column ?? "image", label: spec.label_column ?? "label" };
    const read = await readParquetSplit(files, split, { ...spec, columns }, context);
    const meta = { id: spec.id ?? "parquet", source: "parquet", split };
    return finishDecodedImages(read.raw, read.shape, meta, spec[split] ?? {}, read.decodeSource);
  },
};
