/** `rotation_c8`: angle uniform over the multiples of 45° (the cyclic group C8). */
import { angleOf, mod } from "../bins.ts";
import { defineAugmentation } from "../kind.ts";
import { DRAW } from "../params.ts";

export const augmentation = defineAugmentation({
  kind: "rotation_c8",
  summary: "rotation by a multiple of 45°, uniform over the group C8",
  fields: {},
  geometric: true,
  random: true,
  tta: "rotations",
  resolve: () => ({ kind: "rotation_c8" }),
  sample: (_spec, rng) => ({ kind: "rotation", degrees: 45 * Math.floor(8 * rng.uniform(DRAW.angle)) }),
  // One bin per group element; the requested number of bins is ignored.
  bins: () => ({
    count: 8,
    identity: 0,
    describe: "one bin per element of C8",
    binOf: (p) => mod(Math.round(angleOf(p, "rotation_c8") / 45), 8),
  }),
});
