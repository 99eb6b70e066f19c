/**
 * A baseline JPEG round trip without the entropy coding (which is lossless): 8-bit samples,
 * level shift, 8×8 DCT-II per block (edges padded by replicating the last row and column, as
 * libjpeg does), quantisation by the standard tables of the JPEG specification (Annex K) scaled by
 * quality as libjpeg's jpeg_quality_scaling, dequantisation, inverse DCT, rounding to 8 bits. Grey
 * images use the luminance table; RGB goes through JFIF YCbCr with the chrominance table on Cb and
 * Cr at full resolution. Differences from Pillow/libjpeg, which the reference uses: no 4:2:0 chroma
 * subsampling, and a float DCT instead of libjpeg's integer one (values differ by a grey level or
 * so). Written here rather than taken from a dependency: the round trip is all a corruption needs,
 * and it stays deterministic to the bit on every machine.
 */
import type { ImageShape } from "./kind.ts";

/** Annex K.1, the luminance quantisation table (row-major). */
export const LUMINANCE: readonly number[] = [
  16,
  11,
  10,
  16,
  24,
  40,
  51,
  61,
  12,
  12,
  14,
  19,
  26,
  58,
  60,
  55,
  14,
  13,
  16,
  24,
  40,
  57,
  69,
  56,
  14,
  17,
  22,
  29,
  51,
  87,
  80,
  62,
  18,
  22,
  37,
  56,
  68,
  109,
  103,
  77,
  24,
  35,
  55,
  64,
  81,
  104,
  113,
  92,
  49,
  64,
  78,
  87,
  103,
  121,
  120,
  101,
  72,
  92,
  95,
  98,
  112,
  100,
  103,
  99,
];
/** Annex K.2, the chrominance quantisation table. */
const CHROMINANCE = [
  17,
  18,
  24,
  47,
  99,
  99,
  99,
  99,
  18,
  21,
  26,
  66,
  99,
  99,
  99,
  99,
  24,
  26,
  56,
  99,
  99,
  99,
  99,
  99,
  47,
  66,
  99,
  99,
  ...new Array(36).fill(99),
];

/** libjpeg's table for `quality` 1–100 (baseline: entries in 1..255). */
export function quantTable(base: readonly number[], quality: number): Int32Array {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
  return Int32Array.from(base, (b) => Math.min(255, Math.max(1, Math.floor((b * scale + 50) / 100))));
}

/** C[u·8 + x] = a(u)·cos((2x + 1)uπ/16), the orthonormal 8-point DCT-II. */
const COS = Float64Array.from({ length: 64 }, (_, k) => {
  const u = Math.floor(k / 8), x = k % 8;
  return (u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
});

/** One 8×8 block (level-shifted samples) through DCT, quantisation by `q` and back, in place. */
function roundTripBlock(block: Float64Array, q: Int32Array, tmp: Float64Array): void {
  // Rows, then columns: F = C·B·Cᵀ.
  for (let y = 0; y < 8; y++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let x = 0; x < 8; x++) s += COS[u * 8 + x] * block[y * 8 + x];
      tmp[y * 8 + u] = s;
    }
  }
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let y = 0; y < 8; y++) s += COS[v * 8 + y] * tmp[y * 8 + u];
      block[v * 8 + u] = Math.round(s / q[v * 8 + u]) * q[v * 8 + u];
    }
  }
  // B = Cᵀ·F·C.
  for (let v = 0; v < 8; v++) {
    for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let u = 0; u < 8; u++) s += COS[u * 8 + x] * block[v * 8 + u];
      tmp[v * 8 + x] = s;
    }
  }
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let v = 0; v < 8; v++) s += COS[v * 8 + y] * tmp[v * 8 + x];
      block[y * 8 + x] = s;
    }
  }
}

/** One plane of 8-bit samples (as floats 0–255) through the round trip with table `q`, in place. */
function roundTripPlane(plane: Float64Array, H: number, W: number, q: Int32Array): void {
  const block = new Float64Array(64), tmp = new Float64Array(64);
  for (let by = 0; by < H; by += 8) {
    for (let bx = 0; bx < W; bx += 8) {
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          block[y * 8 + x] = plane[Math.min(by + y, H - 1) * W + Math.min(bx + x, W - 1)] - 128;
        }
      }
      roundTripBlock(block, q, tmp);
      for (let y = 0; y < 8 && by + y < H; y++) {
        for (let x = 0; x < 8 && bx + x < W; x++) {
          plane[(by + y) * W + bx + x] = Math.min(255, Math.max(0, Math.round(block[y * 8 + x] + 128)));
        }
      }
    }
  }
}

const to8 = (v: number) => Math.min(255, Math.max(0, Math.round(v * 255)));

/** A grey (1-channel) or RGB (3-channel) image in [0, 1] compressed at `quality` and decoded; a new array. */
export function jpegRoundTrip(image: Float32Array, shape: ImageShape, quality: number): Float32Array {
  const { channels, height: H, width: W } = shape, n = H * W;
  const out = new Float32Array(image.length);
  if (channels === 3) {
    const ycc = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    for (let k = 0; k < n; k++) {
      const r = to8(image[k]), g = to8(image[n + k]), b = to8(image[2 * n + k]);
      ycc[0][k] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      ycc[1][k] = Math.min(255, Math.max(0, Math.round(-0.168736 * r - 0.331264 * g + 0.5 * b + 128)));
      ycc[2][k] = Math.min(255, Math.max(0, Math.round(0.5 * r - 0.418688 * g - 0.081312 * b + 128)));
    }
    roundTripPlane(ycc[0], H, W, quantTable(LUMINANCE, quality));
    const chroma = quantTable(CHROMINANCE, quality);
    roundTripPlane(ycc[1], H, W, chroma);
    roundTripPlane(ycc[2], H, W, chroma);
    for (let k = 0; k < n; k++) {
      const y = ycc[0][k], cb = ycc[1][k] - 128, cr = ycc[2][k] - 128;
      out[k] = to8((y + 1.402 * cr) / 255) / 255;
      out[n + k] = to8((y - 0.344136 * cb - 0.714136 * cr) / 255) / 255;
      out[2 * n + k] = to8((y + 1.772 * cb) / 255) / 255;
    }
    return out;
  }
  // Grey, or any other channel count: each plane alone with the luminance table.
  const q = quantTable(LUMINANCE, quality);
  for (let c = 0; c < channels; c++) {
    const plane = Float64Array.from(image.subarray(c * n, (c + 1) * n), to8);
    roundTripPlane(plane, H, W, q);
    for (let k = 0; k < n; k++) out[c * n + k] = plane[k] / 255;
  }
  return out;
}
