/**
 * Per-view augmentation parameters. Every draw for image `index`, view `view` comes from
 * `new CounterRng(seed, "augment", split, index, view)` at a fixed draw number per parameter, so
 * a view is a function of (seed, split, index, view) alone: batch size, batch order, sharding and
 * backend cannot change it (docs/architecture.md, "Rules that keep results trustworthy").
 */
import { CounterRng, type StreamLabel } from "../rng/philox.ts";
import type { ResolvedSpec } from "./kind.ts";

/** The stream of one view of one image. */
export function viewRng(seed: number, split: string, index: number, view: number): CounterRng {
  return new CounterRng(seed, "augment", split, index, view);
}

/** Crop box in pixel-edge units: covers [x, x + w] × [y, y + h] of the image's extent [0, W] × [0, H]. */
export interface CropBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The drawn parameters of one view. */
export type ViewParams =
  | { kind: "identity" }
  /** Degrees, counter-clockwise on screen. */
  | { kind: "rotation"; degrees: number }
  /** translate: pixels (x right, y down); shear: degrees (x then y). */
  | { kind: "affine"; degrees: number; translate: [number, number]; scale: number; shear: [number, number] }
  /** The per-value noise itself is drawn by noise.ts from the same stream. */
  | { kind: "gaussian_noise"; std: number }
  | { kind: "resized_crop"; box: CropBox }
  /** A corruption (a kind with `corrupt`): its per-value draws come from the view's stream as it is applied. */
  | { kind: "corruption"; of: string; severity: number }
  /** `compose` / `random_choice`: steps applied in order, each on the pixels the previous step left. */
  | { kind: "sequence"; steps: SequenceStep[] };

/** One step of a sequence: its spec, its drawn parameters, and the labels deriving its stream from the view's. */
export interface SequenceStep {
  spec: ResolvedSpec;
  params: ViewParams;
  stream: StreamLabel[];
}

/** Draw numbers (`CounterRng.uniform(i)`) of each parameter; fixed so views never shift. */
export const DRAW = {
  angle: 0,
  translateX: 1,
  translateY: 2,
  scale: 3,
  shearX: 4,
  shearY: 5,
  /** Resized crop attempt k uses draws CROP + 4k .. CROP + 4k + 3 (area, ratio, x, y). */
  crop: 16,
  cropAttempts: 10,
  /** Elastic transform's jitter of its three affine anchor points: six draws from ELASTIC_AFFINE. */
  elasticAffine: 48,
  /** random_choice's op j is draw CHOICE + j. */
  choice: 64,
  /** Gaussian noise uses blocks NOISE + j (two normals per block). */
  noise: 1 << 20,
  /** A corruption's per-value draws (impulse and shot noise, elastic fields) start at block PIXELS. */
  pixels: 1 << 24,
} as const;

/** The point at fraction `u` of the range `r`. */
export const lerp = (r: readonly [number, number], u: number): number => r[0] + (r[1] - r[0]) * u;

/**
 * torchvision's RandomResizedCrop.get_params without the rounding to whole pixels: up to 10
 * attempts of (area fraction uniform in `area`, aspect w/h log-uniform in `ratio`), the first box
 * that fits placed uniformly; else the largest centred box with aspect clamped into `ratio`.
 */
export function sampleCrop(
  area: readonly [number, number],
  ratio: readonly [number, number],
  rng: CounterRng,
  width: number,
  height: number,
): CropBox {
  const full = width * height;
  for (let k = 0; k < DRAW.cropAttempts; k++) {
    const d = DRAW.crop + 4 * k;
    const target = full * lerp(area, rng.uniform(d));
    const aspect = Math.exp(lerp([Math.log(ratio[0]), Math.log(ratio[1])], rng.uniform(d + 1)));
    const w = Math.sqrt(target * aspect), h = Math.sqrt(target / aspect);
    if (w <= width && h <= height) {
      return { x: (width - w) * rng.uniform(d + 2), y: (height - h) * rng.uniform(d + 3), w, h };
    }
  }
  const inRatio = width / height;
  let w = width, h = height;
  if (inRatio < ratio[0]) h = w / ratio[0];
  else if (inRatio > ratio[1]) w = h * ratio[1];
  return { x: (width - w) / 2, y: (height - h) / 2, w, h };
}
