/** The CPU backend's JS matmul (small products and the fallback) and its tiled transpose. */
import { productDims, type Shape } from "../backend.ts";

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
