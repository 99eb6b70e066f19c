/**
 * An augmentation kind: its catalog entry (fields with defaults and bounds, plain data the matrix
 * schema is generated from) and what the pipeline needs of it: resolving a spec, drawing one
 * view's parameters, and how `steer`/`canon` bin it and `tta` enumerates it. Each kind is one file
 * in ./kinds/, registered by one line in ./kinds/registered.ts.
 */
import type { AugmentationEntry } from "../catalog/entries.ts";
import type { TransformBins } from "./bins.ts";
import type { ViewParams } from "./params.ts";
import type { CounterRng } from "../rng/philox.ts";
import type { CorruptPass } from "./corrupt_passes.ts";

/** An augmentation as declared (a matrix entry, or a library caller's object); `id` is ignored. */
export interface AugmentSpec {
  id?: string;
  kind: string;
  [field: string]: unknown;
}

/** A spec with every default applied and checked: `kind` plus the kind's resolved fields. */
export interface ResolvedSpec {
  kind: string;
  [field: string]: unknown;
}

export interface AugmentationKind<R extends ResolvedSpec = ResolvedSpec> extends AugmentationEntry {
  /** Whether it moves pixels (a warp) rather than changing values in place. */
  readonly geometric: boolean;
  /** Whether a view draws random parameters (identity does not). */
  readonly random: boolean;
  /** How the warp samples outside the image: `fill` (default) or `clamp` to the edge. */
  readonly border?: "fill" | "clamp";
  /**
   * Whether it changes [0, 1] pixel values before normalisation other than by a warp (a corruption,
   * a sequence): tta then stacks its copies in pixel units, as for warps.
   */
  readonly pixels?: boolean;
  /** How `tta` enumerates it: fixed rotations 360°·j/K, or K independent draws. */
  readonly tta: "rotations" | "draws";
  /** Applies defaults and checks every field, naming the one that is wrong. */
  resolve(spec: Readonly<Record<string, unknown>>): R;
  /** Draws one view's parameters for an image of width × height pixels. */
  sample(spec: R, rng: CounterRng, width: number, height: number): ViewParams;
  /** The steering bins of `steer` / `canon` with `bins` requested. */
  bins(spec: R, bins: number): TransformBins;
  /**
   * A corruption's effect on one CHW image in [0, 1] pixel units (`p` is what `sample` drew); may
   * work in place; returns the corrupted image, clipped to [0, 1].
   */
  corrupt?(p: ViewParams, image: Float32Array, shape: ImageShape, rng: CounterRng): Float32Array;
  /**
   * The same corruption as passes both backends run (./corrupt_passes.ts), for the kinds that
   * have them (the blurs, elastic_transform); `corrupt` runs them on the CPU and clips.
   */
  passes?(p: ViewParams, shape: ImageShape, rng: CounterRng): CorruptPass[];
}

/** The shape of one CHW image. */
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/** Declares an augmentation kind, typing `sample` and `bins` by what `resolve` returns. */
export function defineAugmentation<R extends ResolvedSpec>(k: AugmentationKind<R>): AugmentationKind<R> {
  return k;
}
