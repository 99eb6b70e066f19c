/** `rotation_c4`, `rotation_c8`: angle uniform over the multiples of 90° / 45° (the cyclic groups). */
import { angleOf, mod } from "../bins.ts";
import { defineAugmentation } from "../kind.ts";
import { DRAW } from "../params.ts";

/** The rotations of the cyclic group C`k`, one bin per element (the requested bins are ignored). */
function cyclic(k: number) {
  const kind = `rotation_c${k}`, step = 360 / k;
  return defineAugmentation({
    kind,
    summary: `rotation by a multiple of ${step}°, uniform over the group C${k}`,
    fields: {},
    geometric: true,
    random: true,
    tta: "rotations",
    resolve: () => ({ kind }),
    sample: (_spec, rng) => ({ kind: "rotation", degrees: step * Math.floor(k * rng.uniform(DRAW.angle)) }),
    bins: () => ({
      count: k,
      identity: 0,
      describe: `one bin per element of C${k}`,
      binOf: (p) => mod(Math.round(angleOf(p, kind) / step), k),
    }),
  });
}

export const c4 = cyclic(4);
export const c8 = cyclic(8);
