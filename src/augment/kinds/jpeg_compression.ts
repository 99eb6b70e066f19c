/**
 * `jpeg_compression`: ImageNet-C's JPEG compression at quality c, as a baseline JPEG quantise /
 * dequantise round trip (../jpeg.ts; no encoder dependency). CPU only.
 */
import { defineCorruption } from "../corruption.ts";
import { jpegRoundTrip } from "../jpeg.ts";

export const augmentation = defineCorruption({
  kind: "jpeg_compression",
  summary: "ImageNet-C JPEG compression: a baseline JPEG round trip at quality c by severity",
  table: [80, 65, 58, 50, 40],
  random: false,
  apply: (image, shape, quality) => jpegRoundTrip(image, shape, quality),
});
