/**
 * The in-memory dataset types every loader returns, and the two per-split options (`limit`,
 * `stratified_seed`) applied the same way to every source.
 *
 * Layout and range: `images` is [n, channels, height, width] (CHW per image), row-major. Sources
 * stored as bytes (MNIST, Fashion-MNIST, CIFAR, STL-10, IDX ubyte) keep their raw uint8 values
 * 0–255 in a Uint8Array (1 byte per pixel: 60000 MNIST images are 47 MB, not 188); float sources
 * (other IDX types, NPY, safetensors) are Float32Array with the values as stored. Augmentation
 * (src/augment) maps uint8 to [0, 1] by /255 itself.
 */
import { ConfigError, DataError } from "../errors.ts";
import { CounterRng } from "../rng/philox.ts";
import { sha256Hex } from "../util/hash.ts";
import { type FileManifest, manifestSummary } from "./file_manifest.ts";
import type { FileRecord } from "./source_file.ts";

export type Split = "train" | "test";

/** Per-split options, as in the matrix schema (`datasets[].train` / `.test`). */
export interface SplitOptions {
  /** Keep at most this many examples (after stratification). */
  limit?: number;
  /**
   * Draw the `limit` examples stratified by class with this seed: each class gets its share of
   * `limit` (largest-remainder rounding, so within 1 of exact), its members chosen by a
   * CounterRng(seed, "subset", split, class) permutation, kept in source order. Without it the
   * first `limit` examples are kept.
   */
  stratified_seed?: number;
}

/** An image classification split. */
export interface Dataset {
  kind: "images";
  /** The dataset id (matrix `datasets[].id`, default the source name). */
  id: string;
  source: string;
  split: Split;
  /**
   * [n, channels, height, width], row-major: uint8 0–255 or float32 as stored (see module doc).
   * Empty when the images are decoded on demand (`decode`).
   */
  images: Uint8Array | Float32Array;
  /**
   * Sources that decode image files (image-folder, parquet) keep no pixels in memory: this decodes
   * rows (positions 0..n−1) into uint8 [rows.length, channels, height, width], so extraction holds
   * one batch of images at a time. Absent when `images` holds every pixel.
   */
  decode?: (rows: Int32Array) => Promise<Uint8Array>;
  /** Class names by label index, for sources whose classes are named (image-folder). */
  classNames?: readonly string[];
  dtype: "uint8" | "float32";
  /** Class index 0..classes−1 per image. */
  labels: Int32Array;
  /**
   * Index of each example in the full split before `limit`/stratification. Key augmentation
   * streams by this, so an image gets the same views whatever subset it was loaded in.
   */
  sourceIndex: Int32Array;
  n: number;
  channels: number;
  height: number;
  width: number;
  classes: number;
  /** Every file read to build the split, in read order (besides those of `manifest`). */
  files: FileRecord[];
  /** The files of a folder the split was read from (image-folder), recorded by one hash. */
  manifest?: FileManifest;
  /** sha256 over the files' hashes, the loader convention and the subset spec (see `contentHash`). */
  contentHash: string;
}

/** Precomputed features (e.g. a backbone's outputs saved as NPY or safetensors). */
export interface FeatureDataset {
  kind: "features";
  id: string;
  source: string;
  split: Split;
  /** [n, dim] row-major float32. */
  features: Float32Array;
  labels: Int32Array;
  sourceIndex: Int32Array;
  n: number;
  dim: number;
  classes: number;
  files: FileRecord[];
  contentHash: string;
}

/** A whole split as a loader read it, before the split options. */
export interface RawSplit {
  /** Per-example values, [n, perExample] (images: perExample = c·h·w). */
  values: Uint8Array | Float32Array;
  perExample: number;
  labels: Int32Array;
  classes: number;
  files: FileRecord[];
  /** The files of a folder the split was read from (image-folder), one record for all. */
  manifest?: FileManifest;
  /**
   * Names the loader's conventions (e.g. "fashion-mnist/json-v1: first 6000 per class are
   * train"): part of the content hash, so a changed convention changes the hash.
   */
  convention: string;
}

/** Checks that labels lie in 0..classes−1, naming the file and position (byte offset when known) of the first bad one. */
export function checkLabels(
  labels: Int32Array,
  classes: number,
  file: string,
  offsetOf?: (i: number) => number,
): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw new DataError(
        file,
        { offset: offsetOf?.(i), field: `label ${i}` },
        `a label in 0..${classes - 1}`,
        `${labels[i]}`,
      );
    }
  }
}

/** The source indices kept by `options` (ascending). */
export function selectIndices(
  labels: Int32Array,
  classes: number,
  split: Split,
  options: SplitOptions = {},
): Int32Array {
  const n = labels.length;
  const { limit, stratified_seed: seed } = options;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
    throw new ConfigError(`${split}.limit`, `${limit}: expected a positive integer`);
  }
  const k = Math.min(limit ?? n, n);
  if (seed === undefined) return Int32Array.from({ length: k }, (_, i) => i);
  return stratifiedIndices(labels, classes, k, seed, split);
}

/**
 * A class-stratified sample of k of the labels' indices: class c gets k·n_c/n rounded by largest
 * remainder (ties to the lower class), members drawn by a per-class counter-based permutation.
 */
export function stratifiedIndices(
  labels: Int32Array,
  classes: number,
  k: number,
  seed: number,
  split: Split,
): Int32Array {
  const members: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((y, i) => members[y].push(i));
  const n = labels.length;
  const exact = members.map((m) => (k * m.length) / n);
  const quota = exact.map(Math.floor);
  let left = k - quota.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, c) => [e - Math.floor(e), c]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, c] of byRemainder) {
    if (left === 0) break;
    quota[c]++;
    left--;
  }
  const picked: number[] = [];
  members.forEach((m, c) => {
    if (quota[c] === 0) return;
    const perm = new CounterRng(seed, "subset", split, c).permutation(m.length);
    for (let j = 0; j < quota[c]; j++) picked.push(m[perm[j]]);
  });
  return Int32Array.from(picked.sort((a, b) => a - b));
}

/** Rows `indices` of a [n, per] array, as a new array of the same type. */
export function gatherRows<T extends Uint8Array | Float32Array>(
  values: T,
  per: number,
  indices: ArrayLike<number>,
): T {
  const out = new (values.constructor as { new (n: number): T })(indices.length * per);
  for (let i = 0; i < indices.length; i++) {
    out.set(values.subarray(indices[i] * per, (indices[i] + 1) * per), i * per);
  }
  return out;
}

/**
 * sha256 over a canonical JSON of: the source, split, loader convention, the sha256 of each file
 * read (in order, paths excluded so the hash survives moving the data), the sha256 of the folder's
 * manifest when there is one (names relative to the folder, so moving it keeps the hash too) and
 * the split options.
 */
export function contentHash(source: string, split: Split, raw: RawSplit, options: SplitOptions): string {
  return sha256Hex(JSON.stringify({
    format: "invbench.dataset/v1",
    source,
    split,
    convention: raw.convention,
    files: raw.files.map((f) => f.sha256),
    ...(raw.manifest ? { manifest: manifestSummary(raw.manifest).sha256 } : {}),
    limit: options.limit ?? null,
    stratified_seed: options.stratified_seed ?? null,
  }));
}

/** Applies the split options to a raw split of images. */
export function finishImages(
  raw: RawSplit,
  shape: { channels: number; height: number; width: number },
  meta: { id: string; source: string; split: Split },
  options: SplitOptions = {},
): Dataset {
  const keep = selectIndices(raw.labels, raw.classes, meta.split, options);
  const all = keep.length === raw.labels.length;
  return {
    ...imageSplit(raw, shape, meta, options, keep),
    images: all ? raw.values : gatherRows(raw.values, raw.perExample, keep),
    dtype: raw.values instanceof Uint8Array ? "uint8" : "float32",
    labels: all ? raw.labels : Int32Array.from(keep, (i) => raw.labels[i]),
  };
}

/**
 * Applies the split options to a split whose images are decoded on demand: `raw.values` is empty
 * and `decodeSource` decodes images by their index in the whole split (the dataset's `decode`
 * maps its rows to those).
 */
export function finishDecodedImages(
  raw: RawSplit,
  shape: { channels: number; height: number; width: number },
  meta: { id: string; source: string; split: Split; classNames?: readonly string[] },
  options: SplitOptions,
  decodeSource: (sourceRows: Int32Array) => Promise<Uint8Array>,
): Dataset {
  const keep = selectIndices(raw.labels, raw.classes, meta.split, options);
  return {
    ...imageSplit(raw, shape, meta, options, keep),
    images: new Uint8Array(0),
    decode: (rows) => decodeSource(Int32Array.from(rows, (r) => keep[r])),
    dtype: "uint8",
    labels: Int32Array.from(keep, (i) => raw.labels[i]),
  };
}

/** What every image split records besides its pixels and labels. */
function imageSplit(
  raw: RawSplit,
  shape: { channels: number; height: number; width: number },
  meta: { id: string; source: string; split: Split; classNames?: readonly string[] },
  options: SplitOptions,
  keep: Int32Array,
) {
  return {
    kind: "images" as const,
    ...meta,
    sourceIndex: keep,
    n: keep.length,
    ...shape,
    classes: raw.classes,
    files: raw.files,
    ...(raw.manifest ? { manifest: raw.manifest } : {}),
    contentHash: contentHash(meta.source, meta.split, raw, options),
  };
}

/** Applies the split options to a raw split of feature vectors. */
export function finishFeatures(
  raw: RawSplit,
  meta: { id: string; source: string; split: Split },
  options: SplitOptions = {},
): FeatureDataset {
  if (!(raw.values instanceof Float32Array)) throw new TypeError("features must be float32");
  const keep = selectIndices(raw.labels, raw.classes, meta.split, options);
  const all = keep.length === raw.labels.length;
  return {
    kind: "features",
    ...meta,
    features: all ? raw.values : gatherRows(raw.values, raw.perExample, keep),
    labels: all ? raw.labels : Int32Array.from(keep, (i) => raw.labels[i]),
    sourceIndex: keep,
    n: keep.length,
    dim: raw.perExample,
    classes: raw.classes,
    files: raw.files,
    contentHash: contentHash(meta.source, meta.split, raw, options),
  };
}
