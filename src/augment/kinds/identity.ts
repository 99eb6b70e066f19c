/** `identity`: no change, the clean image normalised (what the backbone sees for clean inputs). */
import { defineAugmentation } from "../kind.ts";

export const augmentation = defineAugmentation({
  kind: "identity",
  summary: "no change: the clean image, normalised",
  fields: {},
  geometric: false,
  random: false,
  tta: "draws",
  resolve: () => ({ kind: "identity" }),
  sample: () => ({ kind: "identity" }),
  bins: () => ({ count: 1, identity: 0, describe: "one bin", binOf: () => 0 }),
});
