/**
 * `gaussian_noise_c`: ImageNet-C's gaussian_noise, N(0, c²) per value in [0, 1] pixel units,
 * clipped (named apart from `gaussian_noise`, which adds σ in normalised units and does not clip).
 */
import { defineCorruption } from "../corruption.ts";
import { addGaussianNoise } from "../noise.ts";

export const augmentation = defineCorruption({
  kind: "gaussian_noise_c",
  summary: "ImageNet-C Gaussian noise: + N(0, c²) per value in pixel units, clipped; c by severity",
  table: [0.04, 0.06, 0.08, 0.09, 0.10],
  random: true,
  apply(image, _shape, c, rng) {
    addGaussianNoise(image, c, rng);
    return image;
  },
});
