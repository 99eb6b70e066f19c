/**
 * `impulse_noise`: ImageNet-C's impulse (salt-and-pepper) noise, skimage's random_noise(mode="s&p"):
 * each value independently becomes 1 or 0 (even odds) with probability c. Value k reads block
 * PIXELS + k: its first two words decide whether it flips, the last two salt or pepper.
 */
import { defineCorruption } from "../corruption.ts";
import { DRAW } from "../params.ts";

const U32 = 4294967296;

export const augmentation = defineCorruption({
  kind: "impulse_noise",
  summary: "ImageNet-C impulse noise: each value set to 0 or 1 (even odds) with probability c; c by severity",
  table: [0.01, 0.02, 0.03, 0.05, 0.07],
  random: true,
  apply(image, _shape, c, rng) {
    for (let k = 0; k < image.length; k++) {
      const b = rng.block(DRAW.pixels + k);
      if ((b[0] + b[1] / U32) / U32 < c) image[k] = (b[2] + b[3] / U32) / U32 < 0.5 ? 1 : 0;
    }
    return image;
  },
});
