/** `rotation_c4`: angle uniform over the multiples of 90° (the cyclic group C4). */
import { angleOf, mod } from "../bins.ts";
import { defineAugmentation } from "../kind.ts";
import { DRAW } from "../params.ts";

export const augmentation = defineAugmentation({
  kind: "rotation_c4",
  summary: "rotation by a multiple of 90°, uniform over the group C4",
  fields: {},
  geometric: true,
  random: true,
  tta: "rotations",
  resolve: () => ({ kind: "rotation_c4" }),
  sample: (_spec, rng) => ({ kind: "rotation", degrees: 90 * Math.floor(4 * rng.uniform(DRAW.angle)) }),
  // One bin per group element; the requested number of bins is ignored.
  bins: () => ({
    count: 4,
    identity: 0,
    describe: "one bin per element of C4",
    binOf: (p) => mod(Math.round(angleOf(p, "rotation_c4") / 90), 4),
  }),
});
