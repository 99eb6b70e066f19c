/**
 * `defocus_blur`: ImageNet-C's defocus blur: correlation (OpenCV filter2D, edges reflected 101)
 * with the reference's `disk`: the pixels within `radius` of the centre of a 17×17 grid,
 * normalised, then anti-aliased by a 3×3 Gaussian of σ = alias_blur (OpenCV GaussianBlur).
 */
import { defineCorruption } from "../corruption.ts";
import { cvGaussianWeights, separable } from "../filters.ts";

const kernels = new Map<string, { kernel: Float64Array; size: number }>();

/** The reference's disk(radius, alias_blur) for radius ≤ 8, cropped to its non-zero square. */
export function defocusKernel(radius: number, aliasBlur: number): { kernel: Float64Array; size: number } {
  const key = `${radius}/${aliasBlur}`;
  const hit = kernels.get(key);
  if (hit) return hit;
  const n = 17, r = 8;
  const disk = new Float32Array(n * n);
  for (let y = -r; y <= r; y++) {
    for (let x = -r; x <= r; x++) disk[(y + r) * n + x + r] = x * x + y * y <= radius ** 2 ? 1 : 0;
  }
  const count = disk.reduce((a, b) => a + b, 0);
  for (let k = 0; k < disk.length; k++) disk[k] /= count;
  const blurred = separable(
    disk,
    { channels: 1, height: n, width: n },
    cvGaussianWeights(3, aliasBlur),
    "reflect101",
  );
  let reach = 0;
  blurred.forEach((v, k) => {
    if (v !== 0) reach = Math.max(reach, Math.abs(Math.floor(k / n) - r), Math.abs((k % n) - r));
  });
  const size = 2 * reach + 1;
  const kernel = Float64Array.from(
    { length: size * size },
    (_, k) => blurred[(Math.floor(k / size) - reach + r) * n + (k % size) - reach + r],
  );
  kernels.set(key, { kernel, size });
  return { kernel, size };
}

export const augmentation = defineCorruption({
  kind: "defocus_blur",
  summary: "ImageNet-C defocus blur: an anti-aliased disk of (radius, alias σ) by severity",
  table: [[0.3, 0.4], [0.4, 0.5], [0.5, 0.6], [1, 0.2], [1.5, 0.1]],
  random: false,
  passes(_shape, [radius, alias]) {
    const { kernel, size } = defocusKernel(radius, alias);
    return [{ op: "correlate", kernel, kh: size, kw: size, border: "reflect101" }];
  },
});
