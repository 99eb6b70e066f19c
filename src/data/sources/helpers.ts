/** What several sources share: the required directory, and rows of a matrix file as a dataset. */
import { DataError } from "../../errors.ts";
import {
  checkLabels,
  type Dataset,
  type FeatureDataset,
  finishFeatures,
  finishImages,
  type RawSplit,
  type Split,
} from "../dataset.ts";
import type { DataSpec } from "../source.ts";

export function requirePath(spec: DataSpec): string {
  if (spec.path === undefined) {
    throw new DataError(
      `dataset ${spec.id ?? spec.source}`,
      { field: "path" },
      `a directory for source "${spec.source}"`,
    );
  }
  return spec.path;
}

/** Rows of features (or flattened images) plus labels → a dataset, checking they agree. */
export function fromMatrix(
  spec: DataSpec,
  split: Split,
  m: { rows: number; cols: number; data: Float32Array; file: string },
  labels: Int32Array,
  labelsFile: string,
  files: RawSplit["files"],
  convention: string,
): Dataset | FeatureDataset {
  if (labels.length !== m.rows) {
    throw new DataError(
      labelsFile,
      { field: "shape[0] (label count)" },
      `${m.rows} labels, one per row of ${m.file}`,
      `${labels.length}`,
    );
  }
  const classes = spec.classes ?? labels.reduce((a, y) => Math.max(a, y + 1), 0);
  checkLabels(labels, classes, labelsFile);
  const raw: RawSplit = { values: m.data, perExample: m.cols, labels, classes, files, convention };
  const meta = { id: spec.id ?? spec.source, source: spec.source, split };
  if (!spec.image) return finishFeatures(raw, meta, spec[split]);
  const { channels, height, width } = spec.image;
  if (channels * height * width !== m.cols) {
    throw new DataError(
      m.file,
      { field: "shape[1]" },
      `${channels * height * width} values per row for images ${channels}×${height}×${width}`,
      `${m.cols}`,
    );
  }
  return finishImages(raw, spec.image, meta, spec[split]);
}
