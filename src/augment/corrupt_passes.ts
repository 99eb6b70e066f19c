/**
 * Corruptions written as passes that the CPU and the GPU (kernels/corrupt_passes.wgsl, through
 * ./corrupt_webgpu.ts) both run: a correlation with a fixed kernel (the blurs), and a bilinear
 * remap at per-pixel source coordinates (elastic_transform's affine map and displacement field).
 * Random numbers are drawn on the CPU from the view's counter-based stream, so both backends see
 * the same coordinates; the GPU differs only by float32 arithmetic (tests/augment_corrupt_webgpu_test.ts).
 */
import { correlate2d, type FilterBorder, sampleBilinear } from "./filters.ts";
import type { ImageShape } from "./kind.ts";

export type CorruptPass =
  /** Each plane correlated with `kernel` (kh × kw, centred), edges by `border`. */
  | { op: "correlate"; kernel: Float64Array; kh: number; kw: number; border: FilterBorder }
  /** Output pixel k of every plane samples the plane bilinearly at (x[k], y[k]), edges by `border`. */
  | { op: "remap"; x: Float64Array; y: Float64Array; border: FilterBorder };

/** The passes applied in order to one CHW image on the CPU; a new array. */
export function runPassesCpu(
  image: Float32Array,
  shape: ImageShape,
  passes: readonly CorruptPass[],
): Float32Array {
  let x = image;
  for (const pass of passes) {
    if (pass.op === "correlate") {
      x = correlate2d(x, shape, pass.kernel, pass.kh, pass.kw, pass.border);
      continue;
    }
    const n = shape.height * shape.width, out = new Float32Array(x.length);
    for (let c = 0; c < shape.channels; c++) {
      for (let k = 0; k < n; k++) {
        out[c * n + k] = sampleBilinear(x, shape, c, pass.x[k], pass.y[k], pass.border);
      }
    }
    x = out;
  }
  return x;
}

/** The border modes' codes in the kernel. */
export const BORDER_CODE: Record<FilterBorder, number> = { nearest: 0, reflect: 1, reflect101: 2 };
