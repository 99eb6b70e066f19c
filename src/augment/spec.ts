/**
 * The augmentation kinds by name (registered in ./kinds/registered.ts, one file and one line
 * each), and the operations the pipeline needs of a spec: resolving it (defaults from the kind's
 * fields, every field checked), drawing a view's parameters, and the steering bins. Field names
 * are the matrix schema's, which is generated from the same entries, so a parsed matrix entry can
 * be passed as is.
 */
import { catalog } from "../catalog/entries.ts";
import { ConfigError } from "../errors.ts";
import type { CounterRng } from "../rng/philox.ts";
import type { TransformBins } from "./bins.ts";
import type { CorruptPass } from "./corrupt_passes.ts";
import type { AugmentationKind, AugmentSpec, ImageShape, ResolvedSpec } from "./kind.ts";
import * as registered from "./kinds/registered.ts";
import { setKindLookup } from "./nested.ts";
import type { ViewParams } from "./params.ts";

export type { AugmentSpec, ResolvedSpec } from "./kind.ts";

/** The augmentation kinds in name order. */
export const AUGMENTATIONS = catalog<AugmentationKind, "kind">(
  "augmentation kind",
  "kind",
  Object.values(registered) as unknown as AugmentationKind[],
);

function kindOf(spec: { kind: unknown }): AugmentationKind {
  const k = AUGMENTATIONS.entries.find((e) => e.kind === spec.kind);
  if (!k) {
    throw new ConfigError(
      "augmentation kind",
      `${JSON.stringify(spec.kind)}: expected one of ${AUGMENTATIONS.names.join(", ")}`,
    );
  }
  return k;
}
setKindLookup((kind) => kindOf({ kind }));

/** Applies defaults and checks ranges, naming the field that is wrong. */
export function resolveSpec(spec: AugmentSpec): ResolvedSpec {
  return kindOf(spec).resolve(spec);
}

/** Whether the spec moves pixels (needs a warp) rather than changing values in place. */
export function isGeometric(spec: ResolvedSpec): boolean {
  return kindOf(spec).geometric;
}

/**
 * Whether the spec works in [0, 1] pixel units before normalisation (a warp, a corruption, a
 * sequence), rather than in normalised units (gaussian_noise) or not at all (identity).
 */
export function isPixelSpace(spec: ResolvedSpec): boolean {
  const k = kindOf(spec);
  return k.geometric || k.pixels === true;
}

/** Whether a view of the spec draws random parameters (identity does not). */
export function isRandom(spec: ResolvedSpec): boolean {
  return kindOf(spec).random;
}

/** How the warp of the spec samples outside the image. */
export function borderOf(spec: ResolvedSpec): "fill" | "clamp" {
  return kindOf(spec).border ?? "fill";
}

/** Draws one view's parameters for an image of width × height pixels. */
export function sampleParams(spec: ResolvedSpec, rng: CounterRng, width: number, height: number): ViewParams {
  return kindOf(spec).sample(spec, rng, width, height);
}

/** Corruption `p` (drawn by its kind's `sample`) applied to one CHW image in [0, 1] pixel units. */
export function corruptImage(
  p: ViewParams & { kind: "corruption" },
  image: Float32Array,
  shape: ImageShape,
  rng: CounterRng,
): Float32Array {
  const k = kindOf({ kind: p.of });
  if (!k.corrupt) throw new Error(`augmentation ${p.of} drew corruption parameters but has no corrupt()`);
  return k.corrupt(p, image, shape, rng);
}

/** Corruption `p` as passes both backends run, or null when its kind is CPU only. */
export function corruptionPasses(
  p: ViewParams & { kind: "corruption" },
  shape: ImageShape,
  rng: CounterRng,
): CorruptPass[] | null {
  return kindOf({ kind: p.of }).passes?.(p, shape, rng) ?? null;
}

/** The steering bins of `augmentation` with `bins` requested (src/augment/bins.ts). */
export function transformBins(augmentation: AugmentSpec, bins: number): TransformBins {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins ${bins}: expected a positive integer`);
  const kind = kindOf(augmentation);
  return kind.bins(kind.resolve(augmentation), bins);
}

/** How `tta` enumerates the augmentation: fixed rotations, or independent draws. */
export function ttaCopyKind(augmentation: AugmentSpec): "rotations" | "draws" {
  return kindOf(augmentation).tta;
}
