/**
 * 2-D convolution and max-pooling on the tensor core, built only from existing differentiable ops
 * (`gatherRows`, `concat`, `reshape`, `matmul`, `add`, `maximum`), so they run on every backend and
 * get their gradients from the ops' own backward rules. No new backend primitive.
 *
 * Activations are NHWC, stored as a 2-D tensor [B·H·W, C]: row b·H·W + y·W + x holds the C channels
 * of pixel (y, x) of image b. A convolution is im2col + GEMM:
 *  - a host-computed index lists, for every output pixel (b, oy, ox) and kernel offset (ky, kx), the
 *    input row it reads; positions outside the image (padding) point at an extra zero row appended
 *    below the input (row B·H·W);
 *  - `gatherRows` with that index gives [B·OH·OW·KH·KW, C], `reshape` makes it
 *    [B·OH·OW, KH·KW·C] (column (ky·KW + kx)·C + c), and `matmul` with the weight [KH·KW·C, OC]
 *    plus the bias [1, OC] gives the output [B·OH·OW, OC], again NHWC.
 * The gradient of the gather is a `scatterAddRows`, which is col2im.
 *
 * Max-pooling k×k with stride k is the elementwise `maximum` of k² `gatherRows` (one per window
 * offset). `maximum` sends the gradient of a tie to its second operand, so exactly one input of a
 * window receives it.
 *
 * Index tensors depend only on the geometry, so they are built once per (backend, geometry) and
 * cached outside any `tidy` scope (see `clearConvIndexCache`).
 */
import { TensorError } from "../errors.ts";
import type { Backend } from "../tensor/backend.ts";
import { add, concat, gatherRows, indexTensor, matmul, maximum, reshape, zeros } from "../tensor/ops.ts";
import { type IndexTensor, keep, shapeStr, type Tensor } from "../tensor/tensor.ts";

/** An NHWC batch of images: `data` is [batch·height·width, channels]. */
export interface Nhwc {
  readonly data: Tensor;
  readonly batch: number;
  readonly height: number;
  readonly width: number;
}

/** The channel count of an NHWC batch (the columns of its data). */
export function channels(x: Nhwc): number {
  return x.data.cols;
}

/** Wraps a [batch·height·width, channels] tensor as an NHWC batch, checking the row count. */
export function nhwc(data: Tensor, batch: number, height: number, width: number): Nhwc {
  for (const [k, v] of [["batch", batch], ["height", height], ["width", width]] as const) {
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw new TensorError("nhwc", `${k} ${v}; expected a positive integer`);
    }
  }
  if (data.rows !== batch * height * width) {
    throw new TensorError(
      "nhwc",
      `data ${shapeStr(data.shape)} for ${batch}×${height}×${width} images; expected ${
        batch * height * width
      } rows`,
    );
  }
  return { data, batch, height, width };
}

export interface Conv2dOptions {
  /** Kernel height and width. */
  kernel: readonly [number, number];
  /** Stride in both directions (default 1). */
  stride?: number;
  /** Zero padding on every side (default 0). */
  padding?: number;
}

/** Output height and width of a convolution, or a TensorError when the kernel does not fit. */
export function convOutputSize(
  height: number,
  width: number,
  kernel: readonly [number, number],
  stride = 1,
  padding = 0,
): [number, number] {
  const [kh, kw] = kernel;
  for (
    const [k, v, min] of [["kernel height", kh, 1], ["kernel width", kw, 1], ["stride", stride, 1], [
      "padding",
      padding,
      0,
    ]] as const
  ) {
    if (!Number.isSafeInteger(v) || v < min) {
      throw new TensorError("conv2d", `${k} ${v}; expected an integer ≥ ${min}`);
    }
  }
  const oh = Math.floor((height + 2 * padding - kh) / stride) + 1;
  const ow = Math.floor((width + 2 * padding - kw) / stride) + 1;
  if (oh <= 0 || ow <= 0) {
    throw new TensorError(
      "conv2d",
      `kernel ${kh}×${kw} with padding ${padding} does not fit ${height}×${width} images; expected kernel ≤ size + 2·padding`,
    );
  }
  return [oh, ow];
}

/**
 * The im2col row index of a convolution: entry ((b·OH + oy)·OW + ox)·KH·KW + ky·KW + kx is the
 * input row of pixel (oy·stride + ky − padding, ox·stride + kx − padding) of image b, or
 * B·H·W (the appended zero row) where that pixel lies outside the image.
 */
export function im2colIndex(
  batch: number,
  height: number,
  width: number,
  kernel: readonly [number, number],
  stride = 1,
  padding = 0,
): { index: Int32Array; outHeight: number; outWidth: number; padded: boolean } {
  const [oh, ow] = convOutputSize(height, width, kernel, stride, padding);
  const [kh, kw] = kernel;
  const zeroRow = batch * height * width;
  const index = new Int32Array(batch * oh * ow * kh * kw);
  let padded = false;
  let n = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          const y = oy * stride + ky - padding;
          for (let kx = 0; kx < kw; kx++) {
            const x = ox * stride + kx - padding;
            if (y < 0 || y >= height || x < 0 || x >= width) {
              index[n++] = zeroRow;
              padded = true;
            } else index[n++] = (b * height + y) * width + x;
          }
        }
      }
    }
  }
  return { index, outHeight: oh, outWidth: ow, padded };
}

/**
 * The row indices of window offset (dy, dx) of a k×k, stride-k max-pool: entry (b·OH + oy)·OW + ox
 * is the input row of pixel (oy·k + dy, ox·k + dx) of image b. OH = ⌊H/k⌋, OW = ⌊W/k⌋.
 */
export function poolIndex(
  batch: number,
  height: number,
  width: number,
  k: number,
  dy: number,
  dx: number,
): Int32Array {
  const oh = Math.floor(height / k), ow = Math.floor(width / k);
  const index = new Int32Array(batch * oh * ow);
  let n = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) index[n++] = (b * height + oy * k + dy) * width + ox * k + dx;
    }
  }
  return index;
}

// ---- index cache -----------------------------------------------------------------------

/** Most geometries kept per backend; the least recently used entry is freed beyond this. */
const CACHE_LIMIT = 32;
const cache = new WeakMap<Backend, Map<string, IndexTensor[]>>();

function cachedIndex(backend: Backend, key: string, make: () => Int32Array[]): IndexTensor[] {
  let byKey = cache.get(backend);
  if (!byKey) cache.set(backend, byKey = new Map());
  const hit = byKey.get(key);
  if (hit && hit.every((t) => !t.disposed)) {
    byKey.delete(key); // re-insert: Map order is the LRU order
    byKey.set(key, hit);
    return hit;
  }
  const made = make().map((host) => keep(indexTensor(host, [host.length, 1], backend)));
  byKey.set(key, made);
  while (byKey.size > CACHE_LIMIT) {
    const [oldest, tensors] = byKey.entries().next().value!;
    byKey.delete(oldest);
    for (const t of tensors) t.dispose();
  }
  return made;
}

/** Frees the cached im2col/pool index tensors of `backend` (or does nothing if it has none). */
export function clearConvIndexCache(backend: Backend): void {
  const byKey = cache.get(backend);
  if (!byKey) return;
  for (const tensors of byKey.values()) for (const t of tensors) t.dispose();
  cache.delete(backend);
}

/** How many geometries are cached for `backend` (for tests). */
export function convIndexCacheSize(backend: Backend): number {
  return cache.get(backend)?.size ?? 0;
}

// ---- ops -------------------------------------------------------------------------------

/**
 * 2-D convolution (cross-correlation, as in PyTorch and ONNX Conv) of an NHWC batch with
 * `weight` [KH·KW·C, OC] (row (ky·KW + kx)·C + c) and an optional `bias` [1, OC].
 */
export function conv2d(x: Nhwc, weight: Tensor, bias: Tensor | null, opts: Conv2dOptions): Nhwc {
  const { kernel } = opts;
  const stride = opts.stride ?? 1, padding = opts.padding ?? 0;
  const c = channels(x);
  const [kh, kw] = kernel;
  const [oh, ow] = convOutputSize(x.height, x.width, kernel, stride, padding);
  if (x.data.rows !== x.batch * x.height * x.width) {
    throw new TensorError(
      "conv2d",
      `input ${shapeStr(x.data.shape)} for ${x.batch}×${x.height}×${x.width} images; expected ${
        x.batch * x.height * x.width
      } rows`,
    );
  }
  if (weight.rows !== kh * kw * c) {
    throw new TensorError(
      "conv2d",
      `weight ${shapeStr(weight.shape)} for a ${kh}×${kw} kernel over ${c} channels; expected ${
        kh * kw * c
      } rows`,
    );
  }
  if (bias && (bias.rows !== 1 || bias.cols !== weight.cols)) {
    throw new TensorError("conv2d", `bias ${shapeStr(bias.shape)}; expected [1, ${weight.cols}]`);
  }
  const key = `conv:${x.batch}:${x.height}:${x.width}:${kh}:${kw}:${stride}:${padding}`;
  const [index] = cachedIndex(x.data.backend, key, () => [
    im2colIndex(x.batch, x.height, x.width, kernel, stride, padding).index,
  ]);
  // With padding > 0 the first output pixel always reads above the image, so the zero row is needed.
  const source = padding > 0 ? concat([x.data, zeros([1, c], x.data.backend)], 0) : x.data;
  const patches = reshape(gatherRows(source, index), [x.batch * oh * ow, kh * kw * c]);
  const out = matmul(patches, weight);
  return { data: bias ? add(out, bias) : out, batch: x.batch, height: oh, width: ow };
}

/**
 * Max-pooling with a k×k window and stride k (default 2: the 2×2 pool), flooring odd sizes:
 * the elementwise maximum of the k² window offsets' `gatherRows`.
 */
export function maxPool2d(x: Nhwc, k = 2): Nhwc {
  if (!Number.isSafeInteger(k) || k < 1) {
    throw new TensorError("maxPool2d", `window ${k}; expected an integer ≥ 1`);
  }
  const oh = Math.floor(x.height / k), ow = Math.floor(x.width / k);
  if (oh === 0 || ow === 0) {
    throw new TensorError("maxPool2d", `window ${k}×${k} is larger than the ${x.height}×${x.width} images`);
  }
  const key = `pool:${x.batch}:${x.height}:${x.width}:${k}`;
  const indices = cachedIndex(x.data.backend, key, () => {
    const out: Int32Array[] = [];
    for (let dy = 0; dy < k; dy++) {
      for (let dx = 0; dx < k; dx++) out.push(poolIndex(x.batch, x.height, x.width, k, dy, dx));
    }
    return out;
  });
  // A balanced tree of maxima (for k = 2: max(max(a, b), max(c, d))).
  let level = indices.map((idx) => gatherRows(x.data, idx));
  while (level.length > 1) {
    const next: Tensor[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(maximum(level[i], level[i + 1]));
    if (level.length % 2) next.push(level[level.length - 1]);
    level = next;
  }
  return { data: level[0], batch: x.batch, height: oh, width: ow };
}

/** Flattens each image of an NHWC batch to one row, in (y, x, c) order: [batch, H·W·C]. */
export function flattenNhwc(x: Nhwc): Tensor {
  return reshape(x.data, [x.batch, x.height * x.width * channels(x)]);
}
