/**
 * The CPU warp: one routine serves rotation, affine and resized crop. For every output pixel it
 * maps the pixel centre through the image's inverse 2×3 matrix (matrix.ts) and samples the source
 * bilinearly. The WGSL kernel kernels/warp_bilinear.wgsl does the same arithmetic per pixel.
 *
 * Borders: with "fill", each of the four bilinear neighbours outside the image reads the
 * channel's fill value, so the image fades into the fill over one pixel (as torchvision's
 * grid_sample with zeros padding, but with any fill). With "clamp", the sample position is
 * clamped to the outermost pixel centres (edge replication; used by resized crop, whose samples
 * stay within half a pixel of the image).
 *
 * Exactness: the blend is (1−ax)·((1−ay)·v00 + ay·v10) + ax·(…), which returns a source pixel
 * bit-for-bit when the position falls on a pixel centre (ax, ay ∈ {0, 1}), so identity and 90°
 * rotations are exact. Zero-weight neighbours still enter as 0·value, hence fill must be finite.
 */

export type BorderMode = "fill" | "clamp";

/** Shape of a batch of CHW images. */
export interface WarpShape {
  n: number;
  channels: number;
  height: number;
  width: number;
}

/** Checks the warp's arguments, shared with the WebGPU path so both reject the same inputs. */
export function checkWarpArgs(
  src: Float32Array,
  shape: WarpShape,
  mats: ArrayLike<number>,
  fill: ArrayLike<number>,
): void {
  const { n, channels, height, width } = shape;
  if (src.length !== n * channels * height * width) {
    throw new RangeError(`warp: ${src.length} values for ${n}×${channels}×${height}×${width} images`);
  }
  if (mats.length !== 6 * n) {
    throw new RangeError(`warp: ${mats.length} matrix entries, expected 6 per image (${6 * n})`);
  }
  if (fill.length !== channels) {
    throw new RangeError(`warp: ${fill.length} fill values, expected one per channel (${channels})`);
  }
  // A zero-weight neighbour still enters the blend (0 · fill), so a non-finite fill would leak.
  for (let c = 0; c < channels; c++) {
    if (!Number.isFinite(fill[c])) {
      throw new RangeError(`warp: fill[${c}] = ${fill[c]}: expected a finite value`);
    }
  }
}

/**
 * Warps each image i of `src` ([n, c, h, w]) by its inverse matrix mats[6i..6i+5] into a new
 * array of the same shape. Coordinates are computed in float64.
 */
export function warpCpu(
  src: Float32Array,
  shape: WarpShape,
  mats: ArrayLike<number>,
  fill: ArrayLike<number>,
  border: BorderMode = "fill",
): Float32Array {
  checkWarpArgs(src, shape, mats, fill);
  const { n, channels, height: H, width: W } = shape;
  const out = new Float32Array(src.length);
  const plane = H * W, clamp = border === "clamp";
  for (let i = 0; i < n; i++) {
    const m = 6 * i;
    const a = mats[m], b = mats[m + 1], c = mats[m + 2], d = mats[m + 3], e = mats[m + 4], f = mats[m + 5];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let sx = a * x + b * y + c, sy = d * x + e * y + f;
        if (clamp) {
          sx = Math.min(Math.max(sx, 0), W - 1);
          sy = Math.min(Math.max(sy, 0), H - 1);
        }
        const x0 = Math.floor(sx), y0 = Math.floor(sy);
        const ax = sx - x0, ay = sy - y0;
        // In clamp mode x0 + 1 can only reach W with ax = 0: read x0 again instead of past the edge.
        const x1 = clamp ? Math.min(x0 + 1, W - 1) : x0 + 1, y1 = clamp ? Math.min(y0 + 1, H - 1) : y0 + 1;
        const in0x = x0 >= 0 && x0 < W, in1x = x1 >= 0 && x1 < W;
        const in0y = y0 >= 0 && y0 < H, in1y = y1 >= 0 && y1 < H;
        for (let ch = 0; ch < channels; ch++) {
          const base = (i * channels + ch) * plane, fv = fill[ch];
          const v00 = in0y && in0x ? src[base + y0 * W + x0] : fv;
          const v01 = in0y && in1x ? src[base + y0 * W + x1] : fv;
          const v10 = in1y && in0x ? src[base + y1 * W + x0] : fv;
          const v11 = in1y && in1x ? src[base + y1 * W + x1] : fv;
          out[base + y * W + x] = (1 - ax) * ((1 - ay) * v00 + ay * v10) + ax * ((1 - ay) * v01 + ay * v11);
        }
      }
    }
  }
  return out;
}
