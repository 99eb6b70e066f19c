/**
 * The pipeline's pixel stage (between the warp and the normalisation, docs in ./augment.ts): a
 * corruption, or a sequence of steps (`compose`, `random_choice`), applied to one image in [0, 1]
 * pixel units. A sequence step is applied by what it drew: a warp (rotation, affine, crop) warps
 * this image alone, a corruption corrupts it, `gaussian_noise` adds σ·std_c per value of channel c
 * (its normalised σ in pixel units, so a last step equals the plain kind up to rounding), a nested
 * sequence recurses. Step k draws from the view's stream derived by its labels (CounterRng(view,
 * ...labels)), so no two steps share draws.
 */
import { CounterRng } from "../rng/philox.ts";
import type { ImageShape } from "./kind.ts";
import { addGaussianNoise } from "./noise.ts";
import type { ViewParams } from "./params.ts";
import { borderOf, corruptImage, isGeometric } from "./spec.ts";
import { type BorderMode, warpCpu } from "./warp_cpu.ts";
import { paramsMatrix } from "./warp_matrix.ts";

/** What a step needs of the batch besides its pixels. */
export interface PixelContext {
  fill: Float32Array;
  /** The normalisation std per channel (gaussian_noise steps are in normalised units). */
  std: Float32Array;
}

/** Whether `p` is handled by the pixel stage (the other kinds by the warp or the noise of the pipeline). */
export function isPixelStage(p: ViewParams): p is ViewParams & { kind: "corruption" | "sequence" } {
  return p.kind === "corruption" || p.kind === "sequence";
}

/** View `p` of one CHW image in [0, 1] units; `rng` is the view's stream. May reuse `image`. */
export function applyPixelView(
  p: ViewParams,
  image: Float32Array,
  shape: ImageShape,
  ctx: PixelContext,
  rng: CounterRng,
  border: BorderMode = "fill",
): Float32Array {
  switch (p.kind) {
    case "identity":
      return image;
    case "corruption":
      return corruptImage(p, image, shape, rng);
    case "gaussian_noise": {
      const z = new Float32Array(image.length);
      addGaussianNoise(z, 1, rng);
      const plane = shape.height * shape.width;
      for (let k = 0; k < image.length; k++) image[k] += p.std * ctx.std[Math.floor(k / plane)] * z[k];
      return image;
    }
    case "sequence":
      for (const step of p.steps) {
        const geometric = isGeometric(step.spec);
        image = applyPixelView(
          step.params,
          image,
          shape,
          ctx,
          new CounterRng(rng, ...step.stream),
          geometric ? borderOf(step.spec) : "fill",
        );
      }
      return image;
    default:
      return warpCpu(image, { n: 1, ...shape }, paramsMatrix(p, shape.width, shape.height), ctx.fill, border);
  }
}
