/**
 * `brightness`: ImageNet-C's brightness: HSV value + c, clipped to 1 (hue and saturation kept):
 * grey values get + c; an RGB pixel is scaled by v'/v with v = max(r, g, b), a black one becomes
 * grey v' (skimage's rgb2hsv/hsv2rgb round trip in closed form).
 */
import { defineCorruption } from "../corruption.ts";

export const augmentation = defineCorruption({
  kind: "brightness",
  summary: "ImageNet-C brightness: HSV value + c, clipped; c by severity",
  table: [0.05, 0.1, 0.15, 0.2, 0.3],
  random: false,
  apply(image, { channels, height, width }, c) {
    const n = height * width;
    if (channels !== 3) {
      for (let k = 0; k < image.length; k++) image[k] += c;
      return image;
    }
    for (let k = 0; k < n; k++) {
      const v = Math.max(image[k], image[n + k], image[2 * n + k]);
      const after = Math.min(1, Math.max(0, v + c));
      for (let ch = 0; ch < 3; ch++) image[ch * n + k] = v > 0 ? image[ch * n + k] * (after / v) : after;
    }
    return image;
  },
});
