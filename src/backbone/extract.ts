/**
 * Feature extraction through the content-addressed cache: the "clean + views ─backbone─▶
 * features" stage of a cell (docs/architecture.md). The cache key holds everything that determines the
 * features (backbone bytes + output + runtime, dataset content hash, split, rows, preprocessing,
 * augmentation or "clean", seed, view, format version) and nothing else: method and classifier are
 * not in it, so every method and classifier of a matrix that shares a backbone, and every seed for
 * clean features, reuses one feature set.
 *
 * Pipelines (both end in the backbone's layout, NCHW or NHWC):
 *   clean:     pixels → [0, 1] → replicate 1 → 3 channels / bilinear resize as the spec says →
 *              (x − mean) / std                                     (src/backbone/input_spec.ts)
 *   augmented: pixels → [0, 1] → replicate / resize to the model's channels and size →
 *              augmentBatch (warp, normalise with the backbone's mean/std, noise in normalised
 *              units; src/augment/augment.ts), keyed by (seed, split, sourceIndex, view)
 * so an augmented view is drawn at the model's resolution, like torchvision's Resize →
 * RandomRotation → Normalize, and noise σ is in the model's normalised units (docs/protocol.md).
 *
 * Shapes are checked against the backbone's spec before the cache is consulted or any image is
 * augmented; augmented extractions run in chunks of CHUNK_ROWS images so memory stays bounded.
 */
import { BackboneError } from "../errors.ts";
import { augmentBatch, readBatch } from "../augment/augment.ts";
import { type AugmentSpec, resolveSpec } from "../augment/spec.ts";
import { describeIndices, type FeatureCache, type FeatureKeyFields } from "../cache/feature_cache.ts";
import { collect, type FeatureRows, type FeatureStream, spillRows } from "../cache/feature_rows.ts";
import type { Dataset } from "../data/dataset.ts";
import { DEFAULT_EXECUTION_PROVIDER } from "./execution_provider.ts";
import { preprocess, type ResolvedInputSpec, specForKey } from "./input_spec.ts";
import { type ImageBatch, ONNX_RUNTIME, type OnnxBackbone, type ProgressCallback } from "./onnx_backbone.ts";

/**
 * Version of the augmented pipeline above, recorded in the cache key of augmented features.
 * Bump it when the pipeline or the augmentation code (src/augment) changes the pixels it makes.
 */
export const AUGMENT_PIPELINE_VERSION = "invbench.augment-pipeline/v1";

/**
 * An augmentation as extraction needs it: a canonical description for the cache key, and a
 * function producing normalised views. Views must be a pure function of (seed, split, source
 * index, view), never of the chunking (docs/architecture.md randomness rule).
 */
export interface FeatureAugmentation {
  /** Kind, parameters (defaults applied) and code version, as plain JSON: equal keys ⇒ equal views. */
  key: Record<string, unknown>;
  /**
   * True when the views draw nothing (a fixed transform): they are the same for every seed and
   * view, so one extraction serves them all (the cache key leaves both out).
   */
  fixed?: boolean;
  /**
   * View `view` of `images` (NCHW at the model's channels and size; uint8 0–255 or float32 in [0, 1]),
   * normalised with `normalize`: float32 NCHW of the same shape. `ids` are the images' stable ids
   * (the dataset's source indices).
   */
  apply(args: {
    images: { data: Uint8Array | Float32Array; n: number; channels: number; height: number; width: number };
    ids: Int32Array;
    seed: number;
    split: string;
    view: number;
    normalize: { mean: readonly number[]; std: readonly number[] };
  }): Float32Array;
}

/** A matrix augmentation spec (src/augment/spec.ts) as a FeatureAugmentation, via `augmentBatch`. */
export function featureAugmentation(spec: AugmentSpec): FeatureAugmentation {
  const resolved = resolveSpec(spec); // checks the spec now; `id` is not part of the key
  return {
    key: { ...resolved, pipeline: AUGMENT_PIPELINE_VERSION },
    apply: ({ images, ids, seed, split, view, normalize }) =>
      augmentBatch(images, ids, spec, seed, split, view, { normalize }),
  };
}

export interface ExtractOptions {
  backbone: OnnxBackbone;
  dataset: Dataset;
  /** The split the features are for; must be the dataset's split when given. */
  split?: string;
  /** Rows of the dataset (positions 0..n−1), in order; default all. A limit is `indices: 0..limit−1`. */
  indices?: ArrayLike<number>;
  /** The augmentation (a matrix spec or a FeatureAugmentation); absent for clean features. */
  augmentation?: AugmentSpec | FeatureAugmentation;
  /** Seed of the augmentation streams (not in the key of clean features). Default 0. */
  seed?: number;
  /** Augmented view index (not in the key of clean features). Default 0. */
  view?: number;
  /** The cache; absent: compute without caching. */
  cache?: FeatureCache;
  /** Images per inference call (default the backbone's). */
  batchSize?: number;
  /** Progress over the images of this extraction (called only when computing). */
  progress?: ProgressCallback;
}

/** A row-major feature matrix [rows, cols] with the key fields that address it. */
export interface ExtractedFeatures {
  rows: number;
  cols: number;
  data: Float32Array;
  key: FeatureKeyFields;
}

/** Rows augmented and run per chunk: bounds the augmented images held at once. */
export const CHUNK_ROWS = 4096;

function asFeatureAugmentation(a: AugmentSpec | FeatureAugmentation): FeatureAugmentation {
  return typeof a.apply === "function" ? a as FeatureAugmentation : featureAugmentation(a as AugmentSpec);
}

/** The cache key fields of an extraction. */
export function extractionKey(o: ExtractOptions, rows: ArrayLike<number>): FeatureKeyFields {
  const aug = o.augmentation ? asFeatureAugmentation(o.augmentation) : null;
  return {
    backbone: {
      sha256: o.backbone.sha256,
      output: o.backbone.outputName,
      runtime: ONNX_RUNTIME,
      // Only where they apply, so that a self-contained model on the CPU keeps its keys.
      ...(o.backbone.externalData.length ? { content: o.backbone.contentHash } : {}),
      ...(o.backbone.executionProvider !== DEFAULT_EXECUTION_PROVIDER
        ? { execution_provider: o.backbone.executionProvider }
        : {}),
    },
    dataset: o.dataset.contentHash,
    split: o.dataset.split,
    indices: describeIndices(rows),
    preprocess: specForKey(o.backbone.spec),
    augmentation: aug ? aug.key : "clean",
    seed: aug && !aug.fixed ? o.seed ?? 0 : null,
    view: aug && !aug.fixed ? o.view ?? 0 : null,
  };
}

/** What an extraction checked before any work, and what it runs on. */
interface Prepared {
  where: string;
  aug: FeatureAugmentation | null;
  rows: ArrayLike<number>;
  shape: readonly [number, number, number, number];
  key: FeatureKeyFields;
}

/** Checks an extraction's options against the dataset and the backbone, before any cache lookup or work. */
function prepare(o: ExtractOptions): Prepared {
  const { backbone, dataset } = o;
  const where = `${backbone.path} on dataset ${dataset.id} (${dataset.split})`;
  if (o.split !== undefined && o.split !== dataset.split) {
    throw new BackboneError(`${where}: asked for split "${o.split}" of a "${dataset.split}" dataset`);
  }
  const aug = o.augmentation ? asFeatureAugmentation(o.augmentation) : null;
  if (aug) {
    for (const [name, v] of [["seed", o.seed ?? 0], ["view", o.view ?? 0]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new BackboneError(`${where}: ${name} ${v}: expected a non-negative integer`);
      }
    }
  }
  const rows = o.indices ?? Int32Array.from({ length: dataset.n }, (_, i) => i);
  for (let i = 0; i < rows.length; i++) {
    if (!Number.isInteger(rows[i]) || rows[i] < 0 || rows[i] >= dataset.n) {
      throw new BackboneError(
        `${where}: index ${rows[i]} (position ${i}) is outside the dataset's ${dataset.n} rows`,
      );
    }
  }
  const shape = [dataset.n, dataset.channels, dataset.height, dataset.width] as const;
  if (!dataset.decode && dataset.images.length !== shape[0] * shape[1] * shape[2] * shape[3]) {
    throw new BackboneError(
      `${where}: dataset has ${dataset.images.length} pixel values, expected [${shape.join(", ")}]`,
    );
  }
  backbone.checkImages(shape, where);
  return { where, aug, rows, shape, key: extractionKey(o, rows) };
}

function checkShape(p: Prepared, o: ExtractOptions, got: { rows: number; cols: number }): void {
  if (got.rows !== p.rows.length || got.cols !== o.backbone.featureDim) {
    throw new BackboneError(
      `${p.where}: features are [${got.rows}, ${got.cols}], expected [${p.rows.length}, ${o.backbone.featureDim}]`,
    );
  }
}

/** Features of `dataset` rows through `backbone`, clean or augmented, via the cache. */
export async function extractFeatures(o: ExtractOptions): Promise<ExtractedFeatures> {
  const p = prepare(o);
  const compute = async () => {
    const stream = featureStream(o, p);
    return { rows: stream.rows, cols: stream.cols, data: await collect(stream) };
  };
  const m = o.cache ? await o.cache.getOrCompute(p.key, compute) : await compute();
  checkShape(p, o, m);
  return { ...m, key: p.key };
}

/**
 * `extractFeatures` as rows read on demand: computed in chunks streamed into the cache entry and
 * read back by row, so a large split's features are never all in memory (without a cache, through a
 * private temp file). The caller closes the rows.
 */
export async function extractFeatureRows(o: ExtractOptions): Promise<FeatureRows> {
  const p = prepare(o);
  const rows = o.cache
    ? await o.cache.openRows(p.key, () => featureStream(o, p))
    : await spillRows(featureStream(o, p));
  checkShape(p, o, rows);
  return rows;
}

/**
 * The extraction in chunks of whole rows: CHUNK_ROWS images augmented (or decoded) and run at a
 * time. Clean images, held or decoded, go in chunks of a multiple of the inference batch, so every
 * inference call sees the same images whatever the chunking and wherever the pixels come from.
 */
function featureStream(o: ExtractOptions, p: Prepared): FeatureStream {
  const { backbone, dataset } = o;
  const { aug, rows, shape } = p;
  const n = rows.length, d = backbone.featureDim;
  const label = `${backbone.id} ${dataset.id} ${dataset.split} ${
    aug ? `${String(aug.key.kind ?? "augmented")} seed ${o.seed ?? 0} view ${o.view ?? 0}` : "clean"
  }`;
  // The caller's callback over the whole extraction (the library draws nothing itself).
  const bar = o.progress;
  const batch = backbone.fixedBatch ?? o.batchSize ?? backbone.batchSize;
  const chunkRows = aug ? CHUNK_ROWS : Math.max(1, Math.floor(CHUNK_ROWS / batch)) * batch;
  return {
    rows: n,
    cols: d,
    chunks: async function* () {
      for (let start = 0; start < n; start += chunkRows) {
        const chunk = Int32Array.from({ length: Math.min(chunkRows, n - start) }, (_, i) => rows[start + i]);
        const options = {
          batchSize: o.batchSize,
          imageIndex: Array.from(chunk, (r) => dataset.sourceIndex[r]),
          label,
          progress: bar && ((done: number) => bar(start + done, n)),
        };
        if (aug) {
          yield await backbone.run(await augmentedViews(o, aug, chunk), undefined, {
            ...options,
            normalized: true,
          });
        } else if (dataset.decode) {
          const { images } = await readBatch(dataset, chunk);
          yield await backbone.run(
            { data: images.data, shape: [chunk.length, shape[1], shape[2], shape[3]] },
            undefined,
            options,
          );
        } else {
          yield await backbone.run({ data: dataset.images, shape }, chunk, options);
        }
      }
    },
  };
}

/** Normalised views of dataset rows `chunk` at the model's channels and size (NCHW float32). */
async function augmentedViews(
  o: ExtractOptions,
  aug: FeatureAugmentation,
  chunk: Int32Array,
): Promise<ImageBatch> {
  const { backbone, dataset } = o;
  const spec: ResolvedInputSpec = backbone.spec;
  const [h, w] = spec.size, c = spec.channels;
  const { images, indices } = await readBatch(dataset, chunk);
  let pixels: {
    data: Uint8Array | Float32Array;
    n: number;
    channels: number;
    height: number;
    width: number;
  } = images;
  if (dataset.channels !== c || dataset.height !== h || dataset.width !== w) {
    // Replicate / resize in [0, 1] pixel units (the identity normalisation), then augment.
    const unit: ResolvedInputSpec = {
      ...spec,
      layout: "NCHW",
      mean: new Array(c).fill(0),
      std: new Array(c).fill(1),
    };
    const data = preprocess(
      unit,
      images.data,
      [chunk.length, dataset.channels, dataset.height, dataset.width],
      Int32Array.from({ length: chunk.length }, (_, i) => i),
    );
    pixels = { data, n: chunk.length, channels: c, height: h, width: w };
  }
  const data = aug.apply({
    images: pixels,
    ids: indices,
    seed: o.seed ?? 0,
    split: dataset.split,
    view: o.view ?? 0,
    normalize: { mean: spec.mean, std: spec.std },
  });
  if (data.length !== chunk.length * c * h * w) {
    throw new BackboneError(
      `augmentation ${
        JSON.stringify(aug.key)
      } returned ${data.length} values for ${chunk.length} images of ${c}×${h}×${w}`,
    );
  }
  return { data, shape: [chunk.length, c, h, w] };
}
