/**
 * Host kernels of the fused ops (src/tensor/fused_ops.ts): each computes in one or two passes what
 * a chain of plain CPU kernels computes in several, rounding every intermediate to float32 where
 * that chain stores it and summing in float64 in the same order, so the bits are the chain's.
 */

import { bitsOf, stepOfBits } from "./cpu_elementwise.ts";
import { EXP_CHUNK, expArguments, expF32Into } from "./cpu_exp.ts";

const f = Math.fround;

/** relu on one float32 as the relu kernel does it on the bits: −0 and negatives → +0, NaN kept. */
function relu(v: number): number {
  return v > 0 || v !== v ? v : 0;
}

/**
 * out_ij = relu((xx_i + yy_j) + gram_ij·(−2)) for rows [lo, hi) of gram [n, m]: `pairwiseSqDist`'s
 * tail.
 */
export function sqDistInto(
  lo: number,
  hi: number,
  xx: Float32Array,
  yy: Float32Array,
  gram: Float32Array,
  m: number,
  out: Float32Array,
): void {
  for (let i = lo; i < hi; i++) {
    const o = i * m, xi = xx[i];
    for (let j = 0; j < m; j++) out[o + j] = relu(f(f(xi + yy[j]) + f(gram[o + j] * -2)));
  }
}

/**
 * The gradients of `sqDistInto` given g and its output d: gram's g·step(d)·(−2), xx's row sums
 * and yy's column sums of g·step(d) (float64, stored as float32).
 */
export function sqDistGradInto(
  g: Float32Array,
  d: Float32Array,
  n: number,
  m: number,
  gram: Float32Array,
  xx: Float32Array,
  yy: Float32Array,
): void {
  const cols = new Float64Array(m), db = bitsOf(d);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    let row = 0;
    for (let j = 0; j < m; j++) {
      const r = f(g[o + j] * stepOfBits(db[o + j]));
      gram[o + j] = r * -2;
      row += r;
      cols[j] += r;
    }
    xx[i] = row;
  }
  yy.set(cols);
}

/**
 * The smallest p < rows such that row i of a [rows, cols] equals row i − p, bit for bit, for
 * every i ≥ p; rows when there is none. HSIC's anchors are each clean feature repeated once per
 * view, so their distance matrix repeats with the batch size.
 */
export function rowPeriod(a: Float32Array, rows: number, cols: number): number {
  const bits = new Int32Array(a.buffer, a.byteOffset, rows * cols);
  const sameRows = (i: number, k: number) => {
    for (let j = 0; j < cols; j++) if (bits[i * cols + j] !== bits[k * cols + j]) return false;
    return true;
  };
  for (let p = 1; p < rows; p++) {
    if (rows % p !== 0 || bits[p * cols] !== bits[0] || !sameRows(p, 0)) continue;
    let periodic = true;
    for (let i = p + 1; i < rows && periodic; i++) periodic = sameRows(i, i - p);
    if (periodic) return p;
  }
  return rows;
}

/**
 * Side of the square blocks in which `isSymmetric` and `mirrorUpper` walk a matrix and its
 * transpose. Each spells the walk out: one walker calling back per pair made the 1024×1024
 * Gaussian kernel 40 % slower (9.4 → 13.2 ms).
 */
const BLOCK = 64;

/** Whether the [n, n] matrix `a` equals its transpose bit for bit. */
export function isSymmetric(a: Float32Array, n: number): boolean {
  const bits = new Int32Array(a.buffer, a.byteOffset, n * n);
  for (let bi = 0; bi < n; bi += BLOCK) {
    for (let bj = bi; bj < n; bj += BLOCK) {
      const iEnd = Math.min(bi + BLOCK, n), jEnd = Math.min(bj + BLOCK, n);
      for (let i = bi; i < iEnd; i++) {
        for (let j = Math.max(bj, i + 1); j < jEnd; j++) {
          if (bits[i * n + j] !== bits[j * n + i]) return false;
        }
      }
    }
  }
  return true;
}

/** Copies the upper triangle of the [n, n] matrix `a` onto its lower one. */
export function mirrorUpper(a: Float32Array, n: number): void {
  for (let bi = 0; bi < n; bi += BLOCK) {
    for (let bj = bi; bj < n; bj += BLOCK) {
      const iEnd = Math.min(bi + BLOCK, n), jEnd = Math.min(bj + BLOCK, n);
      for (let i = bi; i < iEnd; i++) {
        for (let j = Math.max(bj, i + 1); j < jEnd; j++) a[j * n + i] = a[i * n + j];
      }
    }
  }
}

/**
 * out = exp(−(d / t)) elementwise for d [rows, cols]: the Gaussian kernel of squared distances d,
 * t = 2σ² + ε. Where the rows repeat (`rowPeriod`), one period is computed (by `exps`, which
 * fills [0, n) as `gaussianExpInto` does, split or not) and copied; where d is square and equals
 * its transpose bit for bit (the distances of a point set to itself), the upper triangle is
 * computed (by `upperExps`, as `gaussianExpUpperInto` does) and mirrored. The same values, a
 * fraction of the exponentials.
 */
export function gaussianInto(
  d: Float32Array,
  out: Float32Array,
  rows: number,
  cols: number,
  exps: (n: number) => void,
  upperExps: () => void,
): void {
  const length = rowPeriod(d, rows, cols) * cols;
  if (length === rows * cols && rows === cols && isSymmetric(d, rows)) {
    upperExps();
    mirrorUpper(out, rows);
    return;
  }
  exps(length);
  for (let start = length; start < rows * cols; start += length) out.copyWithin(start, 0, length);
}

/**
 * Pairs [lo, hi) of rows (p, n − 1 − p) of exp(−(d / t)) on and above the diagonal of a square
 * [n, n] d: folding the rows so gives every pair n + 1 elements, halves of equal work.
 */
export function gaussianExpUpperInto(
  lo: number,
  hi: number,
  d: Float32Array,
  t: number,
  out: Float32Array,
  n: number,
): void {
  for (let p = lo; p < hi; p++) {
    const q = n - 1 - p;
    gaussianExpInto(p * n + p, (p + 1) * n, d, t, out);
    if (q !== p) gaussianExpInto(q * n + q, (q + 1) * n, d, t, out);
  }
}

/** Elements [lo, hi) of exp(−(d / t)). */
export function gaussianExpInto(lo: number, hi: number, d: Float32Array, t: number, out: Float32Array): void {
  for (let start = lo; start < hi; start += EXP_CHUNK) {
    const m = Math.min(EXP_CHUNK, hi - start), z = expArguments(m);
    for (let i = 0; i < m; i++) z[i] = -f(d[start + i] / t);
    expF32Into(z, m, out, start);
  }
}

/** Its gradient: −(g·k) / t, k the kernel's output. */
export function gaussianGradInto(
  g: Float32Array,
  k: Float32Array,
  t: number,
  out: Float32Array,
  length: number,
): void {
  for (let i = 0; i < length; i++) out[i] = -f(g[i] * k[i]) / t;
}

/** Row sums (float64 in column order) and column sums (float64 in row order) of a [n, m], as float32. */
function rowAndColumnSums(a: Float32Array, n: number, m: number): { rows: Float32Array; cols: Float32Array } {
  const rows = new Float32Array(n), cols = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    let s = 0;
    for (let j = 0; j < m; j++) {
      const v = a[o + j];
      s += v;
      cols[j] += v;
    }
    rows[i] = s;
  }
  return { rows, cols: Float32Array.from(cols) };
}

/** The terms of a double centring or its gradient: rows' sums, columns' terms, the overall term. */
export interface CenterTerms {
  rows: Float32Array;
  cols: Float32Array;
  all: number;
}

/**
 * Double centring of k [n, n]: ((k − mean over rows) − mean over columns) + mean, each mean the
 * sum kernel's float32 sum times 1/count, as `center` composes it. First the terms (one pass),
 * then `doubleCenterRowsInto` row by row.
 */
export function doubleCenterTerms(k: Float32Array, n: number): CenterTerms {
  const { rows, cols } = rowAndColumnSums(k, n, n);
  const all = f(total(rows) * (1 / (n * n)));
  for (let j = 0; j < n; j++) cols[j] = f(cols[j] * (1 / n));
  return { rows, cols, all };
}

/** Rows [lo, hi) of the double centring of k [n, n] from its terms. */
export function doubleCenterRowsInto(
  lo: number,
  hi: number,
  k: Float32Array,
  n: number,
  rows: Float32Array,
  cols: Float32Array,
  all: number,
  out: Float32Array,
): void {
  for (let i = lo; i < hi; i++) {
    const o = i * n, ri = f(rows[i] * (1 / n));
    for (let j = 0; j < n; j++) out[o + j] = f(f(f(k[o + j] - cols[j]) - ri) + all);
  }
}

/**
 * Its gradient given g, accumulated as reverse-mode accumulates the four paths into k: the
 * overall mean's, the row means', g itself, then the column means' (each path's value rounded as
 * its own kernels round it, a "+ 0" where a sum's gradient passes through `add(g, 0)`). The terms,
 * then `doubleCenterGradRowsInto`.
 */
export function doubleCenterGradTerms(g: Float32Array, n: number): CenterTerms {
  const { rows, cols } = rowAndColumnSums(g, n, n);
  const all = f(f(f(total(cols) * (1 / (n * n))) + 0) + 0) + 0;
  for (let j = 0; j < n; j++) cols[j] = f(f(-cols[j] * (1 / n)) + 0);
  return { rows, cols, all };
}

/** Rows [lo, hi) of the double centring's gradient from its terms. */
export function doubleCenterGradRowsInto(
  lo: number,
  hi: number,
  g: Float32Array,
  n: number,
  rows: Float32Array,
  cols: Float32Array,
  all: number,
  out: Float32Array,
): void {
  for (let i = lo; i < hi; i++) {
    const o = i * n, head = f(all + f(f(-rows[i] * (1 / n)) + 0));
    for (let j = 0; j < n; j++) out[o + j] = f(f(head + g[o + j]) + cols[j]);
  }
}

/** Row sums [lo, hi) of a∘b for a, b [n, m]: products rounded to float32, summed in float64. */
export function rowProductSumsInto(
  lo: number,
  hi: number,
  a: Float32Array,
  b: Float32Array,
  m: number,
  rows: Float32Array,
): void {
  for (let i = lo; i < hi; i++) {
    const o = i * m;
    let s = 0;
    for (let j = 0; j < m; j++) s += f(a[o + j] * b[o + j]);
    rows[i] = s;
  }
}

/** Σ of a float32 vector in float64, as float32 (the sum kernel over one axis). */
export function total(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return f(s);
}

/**
 * g·step(t) into `out` (relu's gradient, as the reluGrad kernel rounds it) and its column sums
 * into `sums` (float64 row by row, stored as float32: the sum kernel over axis 0), in one pass:
 * a hidden layer's pre-activation and bias gradients. Only columns [lo, hi) of g [rows, cols]:
 * each column's sum runs over the rows in the same order whatever the range, so the columns can
 * be split (cpu_split_kernels.ts).
 */
export function reluGradColumnSumsInto(
  lo: number,
  hi: number,
  g: Float32Array,
  t: Float32Array,
  rows: number,
  cols: number,
  out: Float32Array,
  sums: Float32Array,
): void {
  const acc = new Float64Array(hi - lo), tb = bitsOf(t);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = lo; j < hi; j++) {
      const v = f(g[o + j] * stepOfBits(tb[o + j]));
      out[o + j] = v;
      acc[j - lo] += v;
    }
  }
  sums.set(acc, lo);
}

/**
 * Rows [lo, hi) of x + 0 off the diagonal and x + value on it, for a square x [n, n] (SimCLR's
 * self-similarity mask).
 */
export function addDiagonalInto(
  lo: number,
  hi: number,
  x: Float32Array,
  n: number,
  value: number,
  out: Float32Array,
): void {
  for (let i = lo * n; i < hi * n; i++) out[i] = x[i] + 0;
  for (let a = lo; a < hi; a++) out[a * n + a] = x[a * n + a] + value;
}
