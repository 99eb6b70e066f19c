/**
 * Augmentation specs, with the protocol's defaults (docs/protocol.md, "Augmentations"). Kinds and field
 * names are the matrix schema's (src/matrix/schema.ts `AugmentationSpec`), so a parsed matrix entry
 * can be passed as is; every field is optional here and defaults to the protocol value.
 */
import { ConfigError } from "../errors.ts";

type Range = readonly [number, number];

/** One augmentation, as declared. */
export type AugmentSpec =
  /** No change: the clean image, normalised (what the backbone sees for clean inputs). */
  | { id?: string; kind: "identity" }
  /** Angle uniform in `degrees` (default [−180, 180]); positive = counter-clockwise on screen. */
  | { id?: string; kind: "rotation"; degrees?: Range }
  /** Angle uniform over {0, 90, 180, 270} (C4) or multiples of 45° (C8). */
  | { id?: string; kind: "rotation_c4" }
  | { id?: string; kind: "rotation_c8" }
  /**
   * Rotation uniform in `degrees` (±30°), translation uniform in ±translate of the width / height
   * (0.2; a pair gives x and y separately), isotropic scale uniform in `scale` (0.8–1.2), x-shear
   * angle uniform in `shear` (±15°) and y-shear in `shear_y` (default none), as torchvision's
   * RandomAffine with a scalar shear; translations are continuous, not rounded to pixels.
   */
  | {
    id?: string;
    kind: "affine";
    degrees?: Range;
    translate?: number | Range;
    scale?: Range;
    shear?: Range;
    shear_y?: Range;
  }
  /** Adds N(0, std²) per value, std in normalised units (default 1), after normalisation. */
  | { id?: string; kind: "gaussian_noise"; std?: number }
  /**
   * Crop with area fraction uniform in `area` (0.5–0.7) and aspect ratio w/h log-uniform in
   * `ratio` (0.75–1.33), position uniform, resized back to full size (bilinear).
   */
  | { id?: string; kind: "resized_crop"; area?: Range; ratio?: Range };

export type AugmentKind = AugmentSpec["kind"];

/** A spec with every default applied and checked. */
export type ResolvedSpec =
  | { kind: "identity" }
  | { kind: "rotation"; degrees: Range }
  | { kind: "rotation_c4" }
  | { kind: "rotation_c8" }
  | { kind: "affine"; degrees: Range; translate: Range; scale: Range; shear: Range; shear_y: Range }
  | { kind: "gaussian_noise"; std: number }
  | { kind: "resized_crop"; area: Range; ratio: Range };

/** The protocol's defaults. */
export const DEFAULTS = {
  rotation: { degrees: [-180, 180] as Range },
  affine: {
    degrees: [-30, 30] as Range,
    translate: 0.2,
    scale: [0.8, 1.2] as Range,
    shear: [-15, 15] as Range,
    shear_y: [0, 0] as Range,
  },
  gaussian_noise: { std: 1 },
  resized_crop: { area: [0.5, 0.7] as Range, ratio: [0.75, 1.33] as Range },
} as const;

function range(kind: string, field: string, r: Range, check: (v: number) => boolean, what: string): Range {
  if (!Array.isArray(r) || r.length !== 2 || !(r[0] <= r[1]) || !check(r[0]) || !check(r[1])) {
    throw new ConfigError(
      `augmentation ${kind}.${field}`,
      `${JSON.stringify(r)}: expected [lo, hi] with lo ≤ hi, ${what}`,
    );
  }
  return [r[0], r[1]];
}

const finite = Number.isFinite;

/** Applies defaults and checks ranges, naming the field that is wrong. */
export function resolveSpec(spec: AugmentSpec): ResolvedSpec {
  switch (spec.kind) {
    case "identity":
    case "rotation_c4":
    case "rotation_c8":
      return { kind: spec.kind };
    case "rotation":
      return {
        kind: "rotation",
        degrees: range("rotation", "degrees", spec.degrees ?? DEFAULTS.rotation.degrees, finite, "finite"),
      };
    case "affine": {
      const d = DEFAULTS.affine;
      const t = spec.translate ?? d.translate;
      const [tx, ty] = typeof t === "number" ? [t, t] : t;
      if (!(tx >= 0 && tx <= 1 && ty >= 0 && ty <= 1)) {
        throw new ConfigError(
          "augmentation affine.translate",
          `${JSON.stringify(t)}: expected fractions of the size in [0, 1]`,
        );
      }
      return {
        kind: "affine",
        degrees: range("affine", "degrees", spec.degrees ?? d.degrees, finite, "finite"),
        translate: [tx, ty],
        scale: range("affine", "scale", spec.scale ?? d.scale, (v) => v > 0 && finite(v), "positive"),
        shear: range("affine", "shear", spec.shear ?? d.shear, (v) => Math.abs(v) < 90, "inside (−90°, 90°)"),
        shear_y: range(
          "affine",
          "shear_y",
          spec.shear_y ?? d.shear_y,
          (v) => Math.abs(v) < 90,
          "inside (−90°, 90°)",
        ),
      };
    }
    case "gaussian_noise": {
      const std = spec.std ?? DEFAULTS.gaussian_noise.std;
      if (!(std >= 0 && finite(std))) {
        throw new ConfigError("augmentation gaussian_noise.std", `${std}: expected a finite σ ≥ 0`);
      }
      return { kind: "gaussian_noise", std };
    }
    case "resized_crop": {
      const d = DEFAULTS.resized_crop;
      return {
        kind: "resized_crop",
        area: range("resized_crop", "area", spec.area ?? d.area, (v) => v > 0 && v <= 1, "each in (0, 1]"),
        ratio: range("resized_crop", "ratio", spec.ratio ?? d.ratio, (v) => v > 0 && finite(v), "positive"),
      };
    }
    default:
      throw new ConfigError(
        "augmentation kind",
        `${
          JSON.stringify((spec as { kind: unknown }).kind)
        }: expected identity, rotation, rotation_c4, rotation_c8, affine, gaussian_noise or resized_crop`,
      );
  }
}

/** Whether the spec moves pixels (needs a warp) rather than changing values in place. */
export function isGeometric(spec: ResolvedSpec): boolean {
  return spec.kind !== "identity" && spec.kind !== "gaussian_noise";
}
