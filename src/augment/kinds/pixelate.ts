/**
 * `pixelate`: ImageNet-C's pixelate: Pillow BOX resize to ⌊c·W⌋ × ⌊c·H⌋ and back (CIFAR-C's
 * ⌊32c⌋ on its 32-pixel images).
 */
import { boxResize } from "../box_resize.ts";
import { defineCorruption } from "../corruption.ts";

export const augmentation = defineCorruption({
  kind: "pixelate",
  summary: "ImageNet-C pixelate: box-downsampled to a fraction c of the size and back; c by severity",
  table: [0.95, 0.9, 0.85, 0.75, 0.65],
  random: false,
  apply(image, shape, c) {
    const h = Math.max(1, Math.floor(shape.height * c)), w = Math.max(1, Math.floor(shape.width * c));
    const small = boxResize(image, shape, h, w);
    return boxResize(small, { channels: shape.channels, height: h, width: w }, shape.height, shape.width);
  },
});
