/**
 * `augmentBatch`: view `view` of each image of a batch. The pipeline, in this order:
 *   1. pixels to [0, 1]: uint8 / 255 (float input is taken as already in [0, 1] pixel units,
 *      or scaled by `inputScale`);
 *   2. geometric warp (rotation, rotation_c4/c8, affine, resized_crop): bilinear, inverse-mapped
 *      about the image centre ((W−1)/2, (H−1)/2); pixels from outside the image take `fill`,
 *      default 0 in [0, 1] units, i.e. black, the background of MNIST-like data and torchvision's
 *      default; after step 3 that is −mean/std, not 0 (pass fill "mean" to get 0 after
 *      normalisation instead);
 *   3. pixel stage (./pixel_stage.ts): a corruption (severity 1–5, clipped to [0, 1]) or the steps
 *      of compose / random_choice, each image in [0, 1] pixel units;
 *   4. normalisation (x − mean_c) / std_c with the backbone's mean/std (default 0 and 1);
 *   5. gaussian_noise: + σ·N(0, 1) per value, σ in normalised units; no clamping afterwards.
 * Output: float32 [n, c, h, w], normalised. Parameters and noise come from
 * CounterRng(seed, "augment", split, indices[i], view), so image indices[i]'s view is the same
 * whatever batch, order, shard or backend computed it; `indices` should be stable ids such as a
 * Dataset's `sourceIndex`.
 */
import type { Dataset } from "../data/dataset.ts";
import { CounterRng } from "../rng/philox.ts";
import { addGaussianNoise } from "./noise.ts";
import type { CorruptPass } from "./corrupt_passes.ts";
import type { WebGpuCorrupt } from "./corrupt_webgpu.ts";
import { clip01 } from "./corruption.ts";
import { applyPixelView, isPixelStage } from "./pixel_stage.ts";
import { paramsMatrix } from "./warp_matrix.ts";
import { type ViewParams, viewRng } from "./params.ts";
import {
  type AugmentSpec,
  borderOf,
  corruptionPasses,
  isGeometric,
  isRandom,
  resolveSpec,
  sampleParams,
} from "./spec.ts";
import { type BorderMode, warpCpu, type WarpShape } from "./warp_cpu.ts";

/** A batch of CHW images: uint8 (0–255) or float32 (pixel units, see `inputScale`). */
export interface ImageBatch {
  data: Uint8Array | Float32Array;
  n: number;
  channels: number;
  height: number;
  width: number;
}

/** How images are scaled, filled and normalised around the augmentation. */
export interface AugmentOptions {
  /** Per-channel (or one shared) mean and std of step 3; default mean 0, std 1 (no-op). */
  normalize?: { mean: number | readonly number[]; std: number | readonly number[] };
  /** Fill of step 2 in [0, 1] pixel units, per channel or shared; "mean" = the normalisation mean. Default 0. */
  fill?: number | readonly number[] | "mean";
  /** Factor of step 1; default 1/255 for uint8 input, 1 for float32. */
  inputScale?: number;
}

/** A warp implementation: the CPU one, or WebGpuWarp.warp. */
export type WarpFn = (
  src: Float32Array,
  shape: WarpShape,
  mats: Float64Array,
  fill: Float32Array,
  border: BorderMode,
) => Float32Array | Promise<Float32Array>;

/** Rows `indices` of a dataset as an ImageBatch (values copied), with the matching augmentation ids. */
export function batchOf(ds: Dataset, rows: ArrayLike<number>): { images: ImageBatch; indices: Int32Array } {
  if (ds.decode) {
    throw new RangeError(`batchOf: dataset ${ds.id} decodes its images on demand; use readBatch`);
  }
  const per = ds.channels * ds.height * ds.width;
  const data = ds.dtype === "uint8" ? new Uint8Array(rows.length * per) : new Float32Array(rows.length * per);
  for (let i = 0; i < rows.length; i++) {
    data.set(ds.images.subarray(rows[i] * per, (rows[i] + 1) * per), i * per);
  }
  return {
    images: { data, n: rows.length, channels: ds.channels, height: ds.height, width: ds.width },
    indices: Int32Array.from(rows, (r) => ds.sourceIndex[r]),
  };
}

/** `batchOf` for any dataset: rows of a dataset that decodes its images (image-folder, parquet) are decoded now. */
export async function readBatch(
  ds: Dataset,
  rows: ArrayLike<number>,
): Promise<{ images: ImageBatch; indices: Int32Array }> {
  if (!ds.decode) return batchOf(ds, rows);
  const positions = Int32Array.from(rows);
  return {
    images: {
      data: await ds.decode(positions),
      n: positions.length,
      channels: ds.channels,
      height: ds.height,
      width: ds.width,
    },
    indices: Int32Array.from(positions, (r) => ds.sourceIndex[r]),
  };
}

function perChannel(v: number | readonly number[], channels: number, what: string): Float32Array {
  const arr = typeof v === "number" ? new Array(channels).fill(v) : [...v];
  if (arr.length === 1 && channels > 1) return new Float32Array(channels).fill(arr[0]);
  if (arr.length !== channels || arr.some((x) => !Number.isFinite(x))) {
    throw new RangeError(
      `${what} ${JSON.stringify(v)}: expected one finite value or one per channel (${channels})`,
    );
  }
  return Float32Array.from(arr);
}

/** Everything a batch needs besides the pixels: per-image parameters, matrices, fill, scaling. */
export interface BatchPlan {
  params: ViewParams[];
  /** Inverse maps, 6 per image; null when the spec does not move pixels. */
  mats: Float64Array | null;
  border: BorderMode;
  fill: Float32Array;
  mean: Float32Array;
  std: Float32Array;
  inputScale: number;
}

/** Draws the batch's parameters and builds its matrices (no pixel work). */
export function planBatch(
  images: ImageBatch,
  indices: ArrayLike<number>,
  spec: AugmentSpec,
  seed: number,
  split: string,
  view: number,
  options: AugmentOptions = {},
): BatchPlan {
  const { n, channels, height, width } = images;
  if (images.data.length !== n * channels * height * width) {
    throw new RangeError(
      `augmentBatch: ${images.data.length} values for ${n}×${channels}×${height}×${width} images`,
    );
  }
  if (indices.length !== n) throw new RangeError(`augmentBatch: ${indices.length} indices for ${n} images`);
  for (let i = 0; i < n; i++) {
    if (!Number.isSafeInteger(indices[i]) || indices[i] < 0) {
      throw new RangeError(
        `augmentBatch: indices[${i}] = ${indices[i]}: expected a non-negative integer image id`,
      );
    }
  }
  const resolved = resolveSpec(spec);
  // A kind that draws nothing (identity, a blur) skips building its streams (≈ 20 µs per image).
  const params = Array.from(
    indices,
    (index) =>
      sampleParams(
        resolved,
        isRandom(resolved) ? viewRng(seed, split, index, view) : NO_DRAWS,
        width,
        height,
      ),
  );
  let mats: Float64Array | null = null;
  if (isGeometric(resolved)) {
    mats = new Float64Array(6 * n);
    params.forEach((p, i) => mats!.set(paramsMatrix(p, width, height), 6 * i));
  }
  const mean = perChannel(options.normalize?.mean ?? 0, channels, "normalize.mean");
  const std = perChannel(options.normalize?.std ?? 1, channels, "normalize.std");
  if (std.some((s) => !(s > 0))) {
    throw new RangeError(`normalize.std ${JSON.stringify(options.normalize?.std)}: expected positive values`);
  }
  const fill = options.fill === "mean" ? mean.slice() : perChannel(options.fill ?? 0, channels, "fill");
  const inputScale = options.inputScale ?? (images.data instanceof Uint8Array ? 1 / 255 : 1);
  return {
    params,
    mats,
    border: borderOf(resolved),
    fill,
    mean,
    std,
    inputScale,
  };
}

/** The stream handed to kinds that draw nothing (never read). */
const NO_DRAWS = new CounterRng(0, "augment", "no draws");

/** Step 3, in place: corruptions and sequences, one image at a time. */
function pixelStage(
  x: Float32Array,
  images: ImageBatch,
  indices: ArrayLike<number>,
  plan: BatchPlan,
  seed: number,
  split: string,
  view: number,
): Float32Array {
  const { channels, height, width } = images, per = channels * height * width;
  plan.params.forEach((p, i) => {
    if (!isPixelStage(p)) return;
    const image = x.subarray(i * per, (i + 1) * per);
    const out = applyPixelView(
      p,
      image,
      { channels, height, width },
      plan,
      viewRng(seed, split, indices[i], view),
    );
    if (out !== image) image.set(out);
  });
  return x;
}

/** Step 1: the batch as float32 pixel units (a plain loop: TypedArray.from with a map is ~20× slower). */
function toUnit(images: ImageBatch, scale: number): Float32Array {
  if (images.data instanceof Float32Array && scale === 1) return images.data.slice();
  const src = images.data, out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] * scale;
  return out;
}

/** Steps 4 and 5, in place. */
function finish(
  out: Float32Array,
  images: ImageBatch,
  indices: ArrayLike<number>,
  plan: BatchPlan,
  seed: number,
  split: string,
  view: number,
): Float32Array {
  const { n, channels, height, width } = images;
  const plane = height * width;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) {
      const m = plan.mean[c], inv = 1 / plan.std[c], base = (i * channels + c) * plane;
      for (let k = base; k < base + plane; k++) out[k] = (out[k] - m) * inv;
    }
  }
  plan.params.forEach((p, i) => {
    if (p.kind !== "gaussian_noise") return;
    const per = channels * plane;
    addGaussianNoise(out.subarray(i * per, (i + 1) * per), p.std, viewRng(seed, split, indices[i], view));
  });
  return out;
}

/**
 * View `view` of each image (CPU). `indices[i]` identifies image i for its random stream;
 * `split` names the stream family (e.g. "train", "test"). Returns float32 [n, c, h, w], normalised.
 */
export function augmentBatch(
  images: ImageBatch,
  indices: ArrayLike<number>,
  spec: AugmentSpec,
  seed: number,
  split: string,
  view: number,
  options: AugmentOptions = {},
): Float32Array {
  const plan = planBatch(images, indices, spec, seed, split, view, options);
  let x = toUnit(images, plan.inputScale);
  if (plan.mats) x = warpCpu(x, images, plan.mats, plan.fill, plan.border);
  pixelStage(x, images, indices, plan, seed, split, view);
  return finish(x, images, indices, plan, seed, split, view);
}

/**
 * As `augmentBatch`, with the warp done by `warp` (e.g. a WebGpuWarp's) and, when `corrupt` is
 * given, the corruptions that have passes (the blurs, elastic_transform) run by it on the GPU; the
 * other corruptions and sequences stay on the CPU.
 */
export async function augmentBatchWith(
  warp: WarpFn,
  images: ImageBatch,
  indices: ArrayLike<number>,
  spec: AugmentSpec,
  seed: number,
  split: string,
  view: number,
  options: AugmentOptions = {},
  corrupt?: WebGpuCorrupt,
): Promise<Float32Array> {
  const plan = planBatch(images, indices, spec, seed, split, view, options);
  let x = toUnit(images, plan.inputScale);
  if (plan.mats) x = await warp(x, images, plan.mats, plan.fill, plan.border);
  const { channels, height, width } = images, shape = { channels, height, width };
  const passes = corrupt &&
    plan.params.map((p, i) =>
      p.kind === "corruption" ? corruptionPasses(p, shape, viewRng(seed, split, indices[i], view)) : null
    );
  if (corrupt && passes?.every((p) => p !== null)) {
    x = clip01(await corrupt.run(x, images, passes as CorruptPass[][]));
  } else pixelStage(x, images, indices, plan, seed, split, view);
  return finish(x, images, indices, plan, seed, split, view);
}
