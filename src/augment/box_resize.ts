/**
 * Pillow's resize with the BOX filter (Resample.c, precompute_coeffs): output pixel x' averages the
 * input pixels whose centres fall in its footprint [x'·s, (x'+1)·s), s = in/out; upscaling
 * degenerates to nearest neighbour. Rows, then columns, in float (Pillow rounds to 8 bits between
 * the passes; here values stay float).
 */
import type { ImageShape } from "./kind.ts";

/** Per output pixel: the first input index and the normalised weights. */
function boxCoefficients(inSize: number, outSize: number): { first: Int32Array; weights: Float64Array[] } {
  const scale = inSize / outSize, filterscale = Math.max(scale, 1), support = 0.5 * filterscale;
  const first = new Int32Array(outSize), weights: Float64Array[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const w = Float64Array.from({ length: xmax }, (_, x) => {
      const t = (x + xmin - center + 0.5) / filterscale;
      return t > -0.5 && t <= 0.5 ? 1 : 0;
    });
    const sum = w.reduce((a, b) => a + b, 0);
    first[xx] = xmin;
    weights.push(sum ? w.map((v) => v / sum) : w);
  }
  return { first, weights };
}

/** Each plane of `image` resized to outH × outW with the BOX filter. */
export function boxResize(image: Float32Array, shape: ImageShape, outH: number, outW: number): Float32Array {
  const { channels, height: H, width: W } = shape;
  const cx = boxCoefficients(W, outW), cy = boxCoefficients(H, outH);
  const mid = new Float32Array(channels * H * outW), out = new Float32Array(channels * outH * outW);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < outW; x++) {
        const w = cx.weights[x], src = (c * H + y) * W + cx.first[x];
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k] * image[src + k];
        mid[(c * H + y) * outW + x] = acc;
      }
    }
    for (let y = 0; y < outH; y++) {
      const w = cy.weights[y];
      for (let x = 0; x < outW; x++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k] * mid[(c * H + cy.first[y] + k) * outW + x];
        out[(c * outH + y) * outW + x] = acc;
      }
    }
  }
  return out;
}
