/**
 * How `steer` and `canon` discretise the transform parameter of a view into bins, one steering
 * map per bin:
 *   rotation over a full turn (hi − lo ≥ 360°): `bins` equal cyclic bins of 360°/bins centred on
 *     the multiples of 360°/bins, so bin 0 is centred on the identity (angles wrap around);
 *   rotation over a partial range [lo, hi]: `bins` equal bins over the range;
 *   rotation_c4 / rotation_c8: one bin per group element (4 / 8; `bins` is ignored);
 *   affine: `bins` equal bins over its rotation range (cyclic if it spans a full turn), by the
 *     rotation component only (the translation, scale and shear of a view are not binned);
 *   gaussian_noise, resized_crop: one bin (a single map).
 * Clean inputs belong to the bin of the identity when the identity is a member of the
 * augmentation's family (rotations with 0° in range; affine with 0°, scale 1 and shear 0 in range); for noise and crops it is not, and
 * clean inputs take the identity map: `identity` is null and canon's head gets one extra class
 * ("clean") for them.
 */
import type { ViewParams } from "./params.ts";

export interface TransformBins {
  /** Number of parameter bins (steering maps). */
  count: number;
  /** The bin clean inputs belong to, or null: clean inputs take the identity map. */
  identity: number | null;
  /** One line for reports. */
  describe: string;
  /** The bin of one view's drawn parameters. */
  binOf(p: ViewParams): number;
}

export const mod = (a: number, m: number) => ((a % m) + m) % m;

export function angleOf(p: ViewParams, kind: string): number {
  if (p.kind === "rotation" || p.kind === "affine") return p.degrees;
  throw new RangeError(`transform bins of ${kind}: got parameters of kind ${p.kind}`);
}

export function rangeBins(lo: number, hi: number, bins: number, kind: string): TransformBins {
  const width = hi - lo;
  if (width >= 360) {
    const w = 360 / bins;
    return {
      count: bins,
      identity: 0,
      describe: `${bins} cyclic bins of ${w}° centred on multiples of ${w}°`,
      binOf: (p) => mod(Math.round(angleOf(p, kind) / w), bins),
    };
  }
  if (!(width > 0)) {
    return { count: 1, identity: lo === 0 ? 0 : null, describe: `one bin (${lo}°)`, binOf: () => 0 };
  }
  const binOf = (deg: number) => Math.min(bins - 1, Math.max(0, Math.floor(((deg - lo) / width) * bins)));
  return {
    count: bins,
    identity: lo <= 0 && 0 <= hi ? binOf(0) : null,
    describe: `${bins} equal bins over [${lo}°, ${hi}°]`,
    binOf: (p) => binOf(angleOf(p, kind)),
  };
}
