/**
 * A PNG contact sheet of augmentations, for eyeballing that a spec does what it says: row 0 the
 * clean images, row k the k-th view (k = 0..views−1) of the same images. Views are de-normalised
 * (x·std + mean) and clamped to [0, 1] for display, so noise shows in pixel units.
 */
import { encodePng, type PngImage } from "../data/png.ts";
import { augmentBatch, type AugmentOptions, type ImageBatch, planBatch } from "./augment.ts";
import type { AugmentSpec } from "./spec.ts";

/** Layout of the sheet. */
export interface PreviewOptions extends AugmentOptions {
  /** Views per image, one row each (default 4). */
  views?: number;
  /** Integer upscaling, nearest neighbour (default: 2 for images under 64 px, else 1). */
  zoom?: number;
  /** Gap between tiles in output pixels, drawn mid-grey (default 2). */
  gap?: number;
}

/** The sheet as an 8-bit image (grey for 1 channel, RGB for 3). */
export function previewGrid(
  images: ImageBatch,
  indices: ArrayLike<number>,
  spec: AugmentSpec,
  seed: number,
  split: string,
  options: PreviewOptions = {},
): PngImage {
  const { n, channels, height: H, width: W } = images;
  if (channels !== 1 && channels !== 3) {
    throw new RangeError(`preview: ${channels} channels: expected 1 or 3`);
  }
  const views = options.views ?? 4;
  const zoom = options.zoom ?? (Math.max(H, W) < 64 ? 2 : 1);
  const gap = options.gap ?? 2;
  const tileW = W * zoom, tileH = H * zoom;
  const width = n * tileW + (n + 1) * gap, height = (views + 1) * tileH + (views + 2) * gap;
  const out = new Uint8Array(width * height * channels).fill(128);
  const plan = planBatch(images, indices, { kind: "identity" }, seed, split, 0, options);
  const rows = [augmentBatch(images, indices, { kind: "identity" }, seed, split, 0, options)];
  for (let v = 0; v < views; v++) rows.push(augmentBatch(images, indices, spec, seed, split, v, options));
  rows.forEach((values, r) => {
    for (let i = 0; i < n; i++) {
      const ox = gap + i * (tileW + gap), oy = gap + r * (tileH + gap);
      for (let y = 0; y < tileH; y++) {
        for (let x = 0; x < tileW; x++) {
          for (let c = 0; c < channels; c++) {
            const v = values[((i * channels + c) * H + Math.floor(y / zoom)) * W + Math.floor(x / zoom)];
            const px = Math.min(1, Math.max(0, v * plan.std[c] + plan.mean[c]));
            out[((oy + y) * width + ox + x) * channels + c] = Math.round(px * 255);
          }
        }
      }
    }
  });
  return { width, height, channels, data: out };
}

/** Writes the sheet to `path` as PNG; returns its size in pixels. */
export function writePreview(
  path: string,
  images: ImageBatch,
  indices: ArrayLike<number>,
  spec: AugmentSpec,
  seed: number,
  split: string,
  options: PreviewOptions = {},
): { width: number; height: number } {
  const img = previewGrid(images, indices, spec, seed, split, options);
  Deno.writeFileSync(path, encodePng(img));
  return { width: img.width, height: img.height };
}
