/**
 * `resized_crop`: a crop with area fraction uniform in `area` and aspect ratio w/h log-uniform in
 * `ratio`, position uniform, resized back to full size (bilinear, edges clamped).
 */
import { augmentationField } from "../../catalog/entries.ts";
import { defineAugmentation } from "../kind.ts";
import { sampleCrop } from "../params.ts";

type Range = readonly [number, number];

export const augmentation = defineAugmentation({
  kind: "resized_crop",
  summary: "random resized crop: area fraction uniform in `area`, aspect log-uniform in `ratio`",
  fields: {
    area: {
      description: "area fraction range",
      type: "range",
      default: [0.5, 0.7],
      min: 0,
      exclusiveMin: true,
      max: 1,
    },
    ratio: {
      description: "aspect ratio w/h range",
      type: "range",
      default: [0.75, 1.33],
      min: 0,
      exclusiveMin: true,
    },
  },
  geometric: true,
  random: true,
  border: "clamp",
  tta: "draws",
  resolve(spec) {
    return {
      kind: "resized_crop",
      area: augmentationField(this, spec, "area") as Range,
      ratio: augmentationField(this, spec, "ratio") as Range,
    };
  },
  sample: (spec, rng, width, height) => ({
    kind: "resized_crop",
    box: sampleCrop(spec.area, spec.ratio, rng, width, height),
  }),
  bins: () => ({ count: 1, identity: null, describe: "one bin", binOf: () => 0 }),
});
