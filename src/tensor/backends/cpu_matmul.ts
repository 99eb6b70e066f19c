/**
 * The CPU backend's products: which go to onnxruntime's MLAS (`ort_gemm.ts`) and which to the JS
 * matmul (small products, and the fallback where onnxruntime does not load), and its tiled transpose.
 */
import { productDims, type Shape } from "../backend.ts";
import { flagsRoundAlike, ortAvailable, ortGemm, transposedRoundsAlike } from "./ort_gemm.ts";

/**
 * Products with fewer multiply-adds than this (m·n·k) run in JS; larger ones through onnxruntime.
 * Measured on a 2-core AVX-512 VM (Node binding): a native call cost ~6 µs however small, which
 * the JS loops (~1.2 G multiply-adds/s) match at about 6-8k multiply-adds (16³: JS 3-4 µs,
 * ORT 6 µs; 24³: JS 10-11 µs, ORT 7 µs). It depends only on the shape (deterministic).
 */
export const ORT_MIN_MACS = 8192;

/** Whether a product of m·n·k multiply-adds runs on onnxruntime (else in JS). */
function onOrt(m: number, n: number, k: number): boolean {
  return m * n * k >= ORT_MIN_MACS && ortAvailable();
}

/** out = op(a) · op(b) (m·n floats, overwritten): onnxruntime for all but tiny products. */
export function matmulInto(
  a: Float32Array,
  aShape: Shape,
  b: Float32Array,
  bShape: Shape,
  transA: boolean,
  transB: boolean,
  out: Float32Array,
): void {
  const [m, k, n] = productDims(aShape, bShape, transA, transB);
  if (m === 0 || n === 0 || k === 0) out.fill(0, 0, m * n);
  else if (onOrt(m, n, k)) ortGemm(a, aShape, b, bShape, transA, transB, out);
  else jsMatmul(a, aShape, b, bShape, transA, transB, out);
}

/**
 * Whether transpose(op(a) · op(b)) (m×n, inner k) is computed as op(b)ᵀ · op(a)ᵀ, the output already
 * transposed: where MLAS rounds that product as the original one (`transposedRoundsAlike`).
 */
export function transposesDirectly(
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): boolean {
  return onOrt(m, n, k) && transposedRoundsAlike(m, n, k, transA, transB);
}

/**
 * `Backend.matmulFlagsRoundAlike`: always for the JS products (their float64 sums do not depend on
 * layout), else as MLAS rounds (`flagsRoundAlike`).
 */
export function productFlagsRoundAlike(
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  transA2: boolean,
  transB2: boolean,
): boolean {
  return !onOrt(m, n, k) || flagsRoundAlike(m, n, k, transA, transB, transA2, transB2);
}

/** Row-major transposed copy of an [r, c] array into `out` ([c, r]), in 32×32 tiles. */
export function transposeInto(a: Float32Array, r: number, c: number, out: Float32Array): void {
  if (r === 1 || c === 1) {
    out.set(a.subarray(0, r * c));
    return;
  }
  // 32×32 tiles; inside a tile, write output rows contiguously and read down input columns.
  const T = 32;
  for (let i0 = 0; i0 < r; i0 += T) {
    const i1 = Math.min(r, i0 + T);
    for (let j0 = 0; j0 < c; j0 += T) {
      const j1 = Math.min(c, j0 + T);
      for (let j = j0; j < j1; j++) {
        let o = j * r + i0, s = i0 * c + j;
        for (let i = i0; i < i1; i++, s += c) out[o++] = a[s];
      }
    }
  }
}

/** out = op(a) · op(b) in JS with float64 accumulation; for small products and as a fallback. */
export function jsMatmul(
  a: Float32Array,
  aShape: Shape,
  b: Float32Array,
  bShape: Shape,
  transA: boolean,
  transB: boolean,
  out: Float32Array,
): void {
  const [m, k, n] = productDims(aShape, bShape, transA, transB);
  let A = a;
  if (transA) {
    A = new Float32Array(m * k);
    transposeInto(a, aShape[0], aShape[1], A);
  }
  if (transB) {
    // b is [n, k]: every output is a dot product of two contiguous rows.
    for (let i = 0; i < m; i++) {
      const ai = i * k;
      for (let j = 0; j < n; j++) {
        const bj = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += A[ai + p] * b[bj + p];
        out[i * n + j] = s;
      }
    }
    return;
  }
  if (n < 16) {
    // Few columns: one float64 dot product per output, striding down b's columns.
    for (let i = 0; i < m; i++) {
      const ai = i * k;
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[ai + p] * b[p * n + j];
        out[i * n + j] = s;
      }
    }
    return;
  }
  // b is [k, n]: accumulate scaled rows of b into a float64 row of the output (streams b).
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    const ai = i * k;
    for (let p = 0; p < k; p++) {
      const x = A[ai + p];
      const bp = p * n;
      for (let j = 0; j < n; j++) acc[j] += x * b[bp + j];
    }
    out.set(acc, i * n);
  }
}
