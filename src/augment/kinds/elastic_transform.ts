/**
 * `elastic_transform`: CIFAR-C's elastic transform, with (α, σ, jitter) = table × the image's
 * smaller side S (CIFAR-C: × 32):
 *   1. a random affine map: the three anchor points of the reference (centre ± ⌊S/3⌋) each moved
 *      by a uniform jitter in ±jitter (draws ELASTIC_AFFINE..+5), the image warped by the map
 *      (bilinear, edges reflected 101, as OpenCV's warpAffine);
 *   2. a displacement field per axis: uniform(−1, 1) per pixel (draws PIXELS + k for x, PIXELS +
 *      H·W + k for y), Gaussian-smoothed with σ (truncated at 3σ, edges reflected), times α; the
 *      warped image is resampled at (x + dx, y + dy) (bilinear, edges reflected, as scipy's
 *      map_coordinates(order=1, mode="reflect")). Severity 1 has α = 0: the affine part only.
 * Coordinates are float64 (OpenCV quantises warpAffine's to 1/32 pixel).
 */
import { defineCorruption, type Table } from "../corruption.ts";
import type { CorruptPass } from "../corrupt_passes.ts";
import { gaussianWeights, separable } from "../filters.ts";
import type { ImageShape } from "../kind.ts";
import { DRAW } from "../params.ts";
import type { CounterRng } from "../../rng/philox.ts";

/** The 2×3 affine map sending the points `from` to `to` (OpenCV's getAffineTransform), row-major. */
export function affineFrom3(from: readonly number[][], to: readonly number[][]): number[] {
  const [[x0, y0], [x1, y1], [x2, y2]] = from;
  const det = x0 * (y1 - y2) - y0 * (x1 - x2) + (x1 * y2 - x2 * y1);
  // Cramer's rule on [x y 1]·[a b c]ᵀ = target, once per output row.
  const row = (t: number[]) => [
    (t[0] * (y1 - y2) - y0 * (t[1] - t[2]) + (t[1] * y2 - t[2] * y1)) / det,
    (x0 * (t[1] - t[2]) - t[0] * (x1 - x2) + (x1 * t[2] - x2 * t[1])) / det,
    (x0 * (y1 * t[2] - y2 * t[1]) - y0 * (x1 * t[2] - x2 * t[1]) + t[0] * (x1 * y2 - x2 * y1)) / det,
  ];
  return [...row(to.map((p) => p[0])), ...row(to.map((p) => p[1]))];
}

/** (α, σ, jitter) per severity, as fractions of the image's smaller side (make_cifar_c.py ÷ 32). */
export const ELASTIC_TABLE: Table<readonly [number, number, number]> = [
  [0, 0, 0.08],
  [0.05, 0.2, 0.07],
  [0.08, 0.06, 0.06],
  [0.1, 0.04, 0.05],
  [0.1, 0.03, 0.03],
];

/** A smoothed uniform(−1, 1) field times α, from draws `offset`..`offset + H·W − 1`. */
export function displacementField(
  shape: ImageShape,
  alpha: number,
  sigma: number,
  rng: CounterRng,
  offset: number,
): Float32Array {
  const n = shape.height * shape.width;
  const raw = Float32Array.from({ length: n }, (_, k) => 2 * rng.uniform(offset + k) - 1);
  const one = { channels: 1, height: shape.height, width: shape.width };
  const smooth = sigma > 0 ? separable(raw, one, gaussianWeights(sigma, 3), "reflect") : raw;
  for (let k = 0; k < n; k++) smooth[k] *= alpha;
  return smooth;
}

export const augmentation = defineCorruption({
  kind: "elastic_transform",
  summary: "CIFAR-C elastic transform: a jittered affine map, then a smoothed random displacement field",
  table: ELASTIC_TABLE,
  random: true,
  passes(shape, c, rng) {
    const { height: H, width: W } = shape, S = Math.min(H, W), n = H * W;
    const [alpha, sigma, jitter] = c.map((v) => v * S);
    const cy = Math.floor(H / 2), cx = Math.floor(W / 2), r = Math.floor(S / 3);
    // The reference's points, (x, y) with its centre_square = (H//2, W//2) read as (x, y).
    const from = [[cy + r, cx + r], [cy + r, cx - r], [cy - r, cx - r]];
    const to = from.map((p, i) =>
      p.map((v, j) => v + (2 * rng.uniform(DRAW.elasticAffine + 2 * i + j) - 1) * jitter)
    );
    // warpAffine samples dst(x, y) at M⁻¹(x, y): the map from `to` back to `from`.
    const [a, b, c0, d, e, f] = affineFrom3(to, from);
    const grid = (fn: (x: number, y: number, k: number) => number) =>
      Float64Array.from({ length: n }, (_, k) => fn(k % W, Math.floor(k / W), k));
    const warp: CorruptPass = {
      op: "remap",
      x: grid((x, y) => a * x + b * y + c0),
      y: grid((x, y) => d * x + e * y + f),
      border: "reflect101",
    };
    if (alpha === 0) return [warp];
    const dx = displacementField(shape, alpha, sigma, rng, DRAW.pixels);
    const dy = displacementField(shape, alpha, sigma, rng, DRAW.pixels + n);
    return [warp, {
      op: "remap",
      x: grid((x, _y, k) => x + dx[k]),
      y: grid((_x, y, k) => y + dy[k]),
      border: "reflect",
    }];
  },
});
