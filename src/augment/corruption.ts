/**
 * What the corruption kinds share (Hendrycks & Dietterich 2019, ImageNet-C / CIFAR-C): a
 * `severity` field 1–5 that picks a column of the kind's table, one steering bin without the
 * identity (a corrupted image is never clean), independent tta draws, and the pixel stage of the
 * pipeline (./pixel_stage.ts): the kind's `apply` sees one CHW image in [0, 1] units and the result
 * is clipped to [0, 1], as the reference's np.clip(…, 0, 1).
 *
 * The tables are make_cifar_c.py's (github.com/hendrycks/robustness, ImageNet-C/create_c): its
 * 32×32 scale is the nearest to 28×28 MNIST (MNIST-C, Mu & Gilmer 2019, has one severity and a
 * different set of families). Lengths that CIFAR-C writes relative to its 32-pixel side (pixelate's
 * size, elastic_transform's α, σ and jitter) scale with the image's smaller side; blur σ and radii
 * are in pixels, as in the reference. docs/matrix.md, "Corruptions", lists each kind's table.
 */
import { augmentationField, type AugmentationNumberField } from "../catalog/entries.ts";
import type { CounterRng } from "../rng/philox.ts";
import { type CorruptPass, runPassesCpu } from "./corrupt_passes.ts";
import { defineAugmentation, type ImageShape } from "./kind.ts";
import type { ViewParams } from "./params.ts";

/** The severity field every corruption has. */
export const SEVERITY: AugmentationNumberField = {
  description: "severity 1 (mildest) to 5 (the column of make_cifar_c.py's table)",
  type: "number",
  integer: true,
  default: 3,
  min: 1,
  max: 5,
};

/** A five-entry severity table, indexed by severity 1–5. */
export type Table<T> = readonly [T, T, T, T, T];

/** Clips every value to [0, 1] in place. */
export function clip01(x: Float32Array): Float32Array {
  for (let k = 0; k < x.length; k++) x[k] = x[k] < 0 ? 0 : x[k] > 1 ? 1 : x[k];
  return x;
}

interface CorruptionBase<T> {
  kind: string;
  summary: string;
  /** The reference's constant per severity. */
  table: Table<T>;
  /** Whether a view draws random numbers (noise, elastic fields); the others are fixed per image. */
  random: boolean;
}

/** A corruption defined by its effect on one image (CPU only), or by passes both backends run. */
type CorruptionDefinition<T> =
  & CorruptionBase<T>
  & (
    /** The corruption of one image at the table's value; may work in place; clipped afterwards. */
    | { apply(image: Float32Array, shape: ImageShape, c: T, rng: CounterRng): Float32Array }
    /** The corruption as passes (./corrupt_passes.ts) at the table's value; clipped afterwards. */
    | { passes(shape: ImageShape, c: T, rng: CounterRng): CorruptPass[] }
  );

/** A corruption kind: `severity` 1–5 and the kind's apply at table[severity − 1]. */
export function defineCorruption<T>(d: CorruptionDefinition<T>) {
  return defineAugmentation({
    kind: d.kind,
    summary: d.summary,
    fields: { severity: SEVERITY },
    geometric: false,
    pixels: true,
    random: d.random,
    tta: "draws",
    resolve(spec) {
      return { kind: d.kind, severity: augmentationField(this, spec, "severity") as number };
    },
    sample: (spec) => ({ kind: "corruption", of: d.kind, severity: spec.severity }),
    bins: () => ({ count: 1, identity: null, describe: "one bin", binOf: () => 0 }),
    corrupt(p, image, shape, rng) {
      const c = valueOf(p);
      return clip01(
        "apply" in d ? d.apply(image, shape, c, rng) : runPassesCpu(image, shape, d.passes(shape, c, rng)),
      );
    },
    passes: "passes" in d ? (p, shape, rng) => d.passes(shape, valueOf(p), rng) : undefined,
  });

  function valueOf(p: ViewParams): T {
    if (p.kind !== "corruption") throw new Error(`${d.kind}: got parameters of kind ${p.kind}`);
    return d.table[p.severity - 1];
  }
}
