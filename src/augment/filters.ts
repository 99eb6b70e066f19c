/**
 * Image filters the corruptions share, on CHW float32 images, one plane at a time, in the border
 * conventions of the reference code they reproduce:
 *   "nearest"    a a a | a b c d | d d d      scipy's mode="nearest" (skimage.filters.gaussian)
 *   "reflect"    b a | a b c d | d c          scipy's mode="reflect" (elastic fields, map_coordinates)
 *   "reflect101" c b | a b c d | c b          OpenCV's BORDER_REFLECT_101 (filter2D, warpAffine)
 */
import type { ImageShape } from "./kind.ts";

export type FilterBorder = "nearest" | "reflect" | "reflect101";

/** The in-range index that index `i` of a row of `n` reads under `mode`. */
export function borderIndex(i: number, n: number, mode: FilterBorder): number {
  if (i >= 0 && i < n) return i;
  if (mode === "nearest" || n === 1) return i < 0 ? 0 : n - 1;
  if (mode === "reflect") {
    const m = ((i % (2 * n)) + 2 * n) % (2 * n);
    return m < n ? m : 2 * n - 1 - m;
  }
  const period = 2 * n - 2, m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** scipy.ndimage's Gaussian weights: radius ⌊truncate·σ + ½⌋, normalised to sum 1. */
export function gaussianWeights(sigma: number, truncate = 4): Float64Array {
  const r = Math.floor(truncate * sigma + 0.5);
  const w = Float64Array.from({ length: 2 * r + 1 }, (_, k) => Math.exp(-0.5 * ((k - r) / sigma) ** 2));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / sum);
}

/** OpenCV's getGaussianKernel(ksize, σ) for σ > 0. */
export function cvGaussianWeights(ksize: number, sigma: number): Float64Array {
  const c = (ksize - 1) / 2;
  const w = Float64Array.from({ length: ksize }, (_, k) => Math.exp(-((k - c) ** 2) / (2 * sigma * sigma)));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / sum);
}

/** Correlation of each plane with `kernel` (kh × kw, centred) under `mode`; a new array. */
export function correlate2d(
  image: Float32Array,
  shape: ImageShape,
  kernel: Float64Array,
  kh: number,
  kw: number,
  mode: FilterBorder,
): Float32Array {
  const { channels, height: H, width: W } = shape, plane = H * W;
  const ry = (kh - 1) >> 1, rx = (kw - 1) >> 1;
  const out = new Float32Array(image.length);
  // Index maps once per image: kernel offset × position → source row / column.
  const rows = Int32Array.from(
    { length: kh * H },
    (_, k) => borderIndex((k % H) + Math.floor(k / H) - ry, H, mode),
  );
  const cols = Int32Array.from(
    { length: kw * W },
    (_, k) => borderIndex((k % W) + Math.floor(k / W) - rx, W, mode),
  );
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let acc = 0;
        for (let i = 0; i < kh; i++) {
          const row = base + rows[i * H + y] * W;
          for (let j = 0; j < kw; j++) {
            const w = kernel[i * kw + j];
            if (w !== 0) acc += w * image[row + cols[j * W + x]];
          }
        }
        out[base + y * W + x] = acc;
      }
    }
  }
  return out;
}

/** A separable filter: `weights` along the rows, then along the columns; a new array. */
export function separable(
  image: Float32Array,
  shape: ImageShape,
  weights: Float64Array,
  mode: FilterBorder,
): Float32Array {
  const n = weights.length;
  const across = correlate2d(image, shape, weights, 1, n, mode);
  return correlate2d(across, shape, weights, n, 1, mode);
}

/**
 * Bilinear sample of plane `c` of `image` at (sx, sy) (pixel-centre units); neighbours outside
 * the image read through `mode`.
 */
export function sampleBilinear(
  image: Float32Array,
  shape: ImageShape,
  c: number,
  sx: number,
  sy: number,
  mode: FilterBorder,
): number {
  const { height: H, width: W } = shape, base = c * H * W;
  const x0 = Math.floor(sx), y0 = Math.floor(sy), ax = sx - x0, ay = sy - y0;
  const xa = borderIndex(x0, W, mode), xb = borderIndex(x0 + 1, W, mode);
  const ya = base + borderIndex(y0, H, mode) * W, yb = base + borderIndex(y0 + 1, H, mode) * W;
  return (1 - ay) * ((1 - ax) * image[ya + xa] + ax * image[ya + xb]) +
    ay * ((1 - ax) * image[yb + xa] + ax * image[yb + xb]);
}
