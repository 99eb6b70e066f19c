/** `gaussian_noise`: adds N(0, std²) per value, std in normalised units, after normalisation. */
import { augmentationField } from "../../catalog/entries.ts";
import { defineAugmentation } from "../kind.ts";

export const augmentation = defineAugmentation({
  kind: "gaussian_noise",
  summary: "Gaussian noise of σ = `std` per value, in normalised units (added after normalisation)",
  fields: {
    std: {
      description: "σ in normalised units (added after mean/std normalisation)",
      type: "number",
      default: 1,
      min: 0,
    },
  },
  geometric: false,
  random: true,
  tta: "draws",
  resolve(spec) {
    return { kind: "gaussian_noise", std: augmentationField(this, spec, "std") as number };
  },
  // The per-value noise itself is drawn by noise.ts from the same stream.
  sample: (spec) => ({ kind: "gaussian_noise", std: spec.std }),
  bins: () => ({ count: 1, identity: null, describe: "one bin", binOf: () => 0 }),
});
