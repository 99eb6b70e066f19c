/**
 * `npy`: {split}_features.npy (float32 [n, d]) and {split}_labels.npy in `path`: precomputed
 * features, or images of the CHW shape `image` (library use; a matrix cannot declare it).
 */
import { join } from "node:path";
import { readNpyLabels, readNpyMatrix } from "../npy.ts";
import type { DataSource } from "../source.ts";
import { fromMatrix, requirePath } from "./helpers.ts";

export const source: DataSource = {
  source: "npy",
  summary: "precomputed features: {split}_features.npy (float32 [n, d]) and {split}_labels.npy in `path`",
  yields: "features",
  load(spec, split) {
    const files = spec.files?.[split] ?? {};
    const m = readNpyMatrix(files.features ?? join(requirePath(spec), `${split}_features.npy`));
    const y = readNpyLabels(files.labels ?? join(requirePath(spec), `${split}_labels.npy`));
    return fromMatrix(
      spec,
      split,
      { ...m, file: m.file.path },
      y.labels,
      y.file.path,
      [m.file, y.file],
      "npy/v1",
    );
  },
};
