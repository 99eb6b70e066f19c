/** `rotation`: angle uniform in `degrees`; positive = counter-clockwise on screen. */
import { augmentationField } from "../../catalog/entries.ts";
import { rangeBins } from "../bins.ts";
import { defineAugmentation } from "../kind.ts";
import { DRAW, lerp } from "../params.ts";

type Range = readonly [number, number];

export const augmentation = defineAugmentation({
  kind: "rotation",
  summary: "rotation by an angle uniform in `degrees` (counter-clockwise on screen)",
  fields: {
    degrees: {
      description: "continuous angle range in degrees, uniform",
      type: "range",
      default: [-180, 180],
    },
  },
  geometric: true,
  random: true,
  tta: "rotations",
  resolve(spec) {
    return { kind: "rotation", degrees: augmentationField(this, spec, "degrees") as Range };
  },
  sample: (spec, rng) => ({ kind: "rotation", degrees: lerp(spec.degrees, rng.uniform(DRAW.angle)) }),
  bins: (spec, bins) => rangeBins(spec.degrees[0], spec.degrees[1], bins, "rotation"),
});
