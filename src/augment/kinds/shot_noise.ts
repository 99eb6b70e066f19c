/**
 * `shot_noise`: ImageNet-C's shot noise, Poisson(c·x)/c per value (photon counting at c photons
 * for a white pixel). Value k inverts uniform draw PIXELS + k through the Poisson CDF of its λ,
 * cached per λ (8-bit images have at most 256 λ per severity).
 */
import { defineCorruption } from "../corruption.ts";
import { DRAW } from "../params.ts";

const cdfs = new Map<number, Float64Array>();

/** The Poisson(λ) CDF up to where its tail is below 1e-16 (λ ≤ 745: e^−λ is a normal double). */
function poissonCdf(lambda: number): Float64Array {
  let cdf = cdfs.get(lambda);
  if (cdf) return cdf;
  const top = Math.ceil(lambda + 12 * Math.sqrt(lambda) + 12);
  cdf = new Float64Array(top + 1);
  let p = Math.exp(-lambda), sum = 0;
  for (let k = 0; k <= top; k++) {
    sum += p;
    cdf[k] = sum;
    p *= lambda / (k + 1);
  }
  if (cdfs.size >= 4096) cdfs.clear();
  cdfs.set(lambda, cdf);
  return cdf;
}

/** The smallest k with CDF(k) > u (binary search). */
function invert(cdf: Float64Array, u: number): number {
  let lo = 0, hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export const augmentation = defineCorruption({
  kind: "shot_noise",
  summary: "ImageNet-C shot noise: Poisson(c·x)/c per value, clipped; c by severity",
  table: [500, 250, 100, 75, 50],
  random: true,
  apply(image, _shape, c, rng) {
    for (let k = 0; k < image.length; k++) {
      const lambda = Math.min(1, Math.max(0, image[k])) * c;
      image[k] = lambda === 0 ? 0 : invert(poissonCdf(lambda), rng.uniform(DRAW.pixels + k)) / c;
    }
    return image;
  },
});
