/** `gaussian_blur`: ImageNet-C's Gaussian blur, skimage's gaussian (σ = c pixels, truncated at 4σ, edges nearest). */
import { defineCorruption } from "../corruption.ts";
import { gaussianWeights } from "../filters.ts";

export const augmentation = defineCorruption({
  kind: "gaussian_blur",
  summary: "ImageNet-C Gaussian blur: σ = c pixels, edges replicated; c by severity",
  table: [0.4, 0.6, 0.7, 0.8, 1],
  random: false,
  // Separable: along the rows, then along the columns.
  passes(_shape, sigma) {
    const w = gaussianWeights(sigma);
    return [
      { op: "correlate", kernel: w, kh: 1, kw: w.length, border: "nearest" },
      { op: "correlate", kernel: w, kh: w.length, kw: 1, border: "nearest" },
    ];
  },
});
