/**
 * `affine`: rotation uniform in `degrees`, translation uniform in ±translate of the width / height
 * (a pair gives x and y separately), isotropic scale uniform in `scale`, x-shear angle uniform in
 * `shear` and y-shear in `shear_y`, as torchvision's RandomAffine with a scalar shear; translations
 * are continuous, not rounded to pixels.
 */
import { augmentationField } from "../../catalog/entries.ts";
import { rangeBins } from "../bins.ts";
import { defineAugmentation } from "../kind.ts";
import { DRAW, lerp } from "../params.ts";

type Range = readonly [number, number];
const shear = { type: "range", min: -90, exclusiveMin: true, max: 90, exclusiveMax: true } as const;

export const augmentation = defineAugmentation({
  kind: "affine",
  summary: "random affine: rotation, translation, isotropic scale and shear (torchvision's RandomAffine)",
  fields: {
    degrees: { description: "rotation angle range in degrees", type: "range", default: [-30, 30] },
    translate: {
      description: "translation as a fraction of the width and height (a pair: x, y)",
      type: "number",
      pair: true,
      default: 0.2,
      min: 0,
      max: 1,
    },
    scale: {
      description: "isotropic scale range",
      type: "range",
      default: [0.8, 1.2],
      min: 0,
      exclusiveMin: true,
    },
    shear: { description: "x-shear angle range in degrees", default: [-15, 15], ...shear },
    shear_y: {
      description: "y-shear angle range in degrees (default none)",
      default: [0, 0],
      late: true,
      ...shear,
    },
  },
  geometric: true,
  random: true,
  tta: "draws",
  resolve(spec) {
    const t = augmentationField(this, spec, "translate");
    const [tx, ty] = typeof t === "number" ? [t, t] : t;
    return {
      kind: "affine",
      degrees: augmentationField(this, spec, "degrees") as Range,
      translate: [tx, ty] as Range,
      scale: augmentationField(this, spec, "scale") as Range,
      shear: augmentationField(this, spec, "shear") as Range,
      shear_y: augmentationField(this, spec, "shear_y") as Range,
    };
  },
  sample: (spec, rng, width, height) => ({
    kind: "affine",
    degrees: lerp(spec.degrees, rng.uniform(DRAW.angle)),
    translate: [
      lerp([-spec.translate[0], spec.translate[0]], rng.uniform(DRAW.translateX)) * width,
      lerp([-spec.translate[1], spec.translate[1]], rng.uniform(DRAW.translateY)) * height,
    ],
    scale: lerp(spec.scale, rng.uniform(DRAW.scale)),
    shear: [lerp(spec.shear, rng.uniform(DRAW.shearX)), lerp(spec.shear_y, rng.uniform(DRAW.shearY))],
  }),
  // By the rotation component only; the identity is a member only when scale 1 and shear 0 can be drawn too.
  bins(spec, bins) {
    const b = rangeBins(spec.degrees[0], spec.degrees[1], bins, "affine");
    const { scale, shear } = spec;
    const member = scale[0] <= 1 && 1 <= scale[1] && shear[0] <= 0 && 0 <= shear[1];
    return {
      ...b,
      identity: member ? b.identity : null,
      describe: `${b.describe}, by the rotation component`,
    };
  },
});
