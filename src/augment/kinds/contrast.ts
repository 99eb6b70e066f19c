/** `contrast`: ImageNet-C's contrast: (x − m)·c + m per channel, m the channel's mean over the image. */
import { defineCorruption } from "../corruption.ts";

export const augmentation = defineCorruption({
  kind: "contrast",
  summary: "ImageNet-C contrast: each channel pulled towards its mean, (x − m)·c + m; c by severity",
  table: [0.75, 0.5, 0.4, 0.3, 0.15],
  random: false,
  apply(image, { channels, height, width }, c) {
    const n = height * width;
    for (let ch = 0; ch < channels; ch++) {
      const plane = image.subarray(ch * n, (ch + 1) * n);
      let sum = 0;
      for (let k = 0; k < n; k++) sum += plane[k];
      const m = sum / n;
      for (let k = 0; k < n; k++) plane[k] = (plane[k] - m) * c + m;
    }
    return image;
  },
});
