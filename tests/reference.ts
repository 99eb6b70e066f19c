/**
 * Float64 reference implementations of every op in `src/tensor/ops.ts`, in plain JS loops with no
 * shared code with the backends. The tests compare the float32 backends against these, and the
 * gradient tests take central finite differences of them (in float64 the differences are precise).
 */

/** A row-major float64 matrix. */
export interface Mat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function mat(rows: number, cols: number, data?: ArrayLike<number>): Mat {
  const d = new Float64Array(rows * cols);
  if (data) {
    if (data.length !== rows * cols) throw new Error(`mat: ${data.length} values for [${rows}, ${cols}]`);
    for (let i = 0; i < d.length; i++) d[i] = data[i];
  }
  return { rows, cols, data: d };
}

export function at(a: Mat, i: number, j: number): number {
  return a.data[i * a.cols + j];
}

function map(a: Mat, f: (x: number) => number): Mat {
  const out = mat(a.rows, a.cols);
  for (let i = 0; i < a.data.length; i++) out.data[i] = f(a.data[i]);
  return out;
}

// ---- creation --------------------------------------------------------------------------

export function zeros(rows: number, cols: number): Mat {
  return mat(rows, cols);
}

export function full(rows: number, cols: number, value: number): Mat {
  return map(mat(rows, cols), () => value);
}

// ---- elementwise -----------------------------------------------------------------------

export const neg = (a: Mat): Mat => map(a, (x) => -x);
export const relu = (a: Mat): Mat => map(a, (x) => (x > 0 ? x : 0));
export const exp = (a: Mat): Mat => map(a, Math.exp);
export const log = (a: Mat): Mat => map(a, Math.log);
export const sqrt = (a: Mat): Mat => map(a, Math.sqrt);
export const abs = (a: Mat): Mat => map(a, Math.abs);
/** x ** p; NaN for x < 0 and non-integer p (as Math.pow). */
export const pow = (a: Mat, p: number): Mat => map(a, (x) => Math.pow(x, p));
export const square = (a: Mat): Mat => map(a, (x) => x * x);

export type BinaryName = "add" | "sub" | "mul" | "div" | "maximum" | "minimum";

const BINARY: Record<BinaryName, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  maximum: (x, y) => Math.max(x, y),
  minimum: (x, y) => Math.min(x, y),
};

/** Broadcasting binary op; a number operand is a scalar. */
export function binary(op: BinaryName, a: Mat | number, b: Mat | number): Mat {
  const A = typeof a === "number" ? mat(1, 1, [a]) : a;
  const B = typeof b === "number" ? mat(1, 1, [b]) : b;
  const dim = (x: number, y: number): number => {
    if (x === y || y === 1) return x;
    if (x === 1) return y;
    throw new Error(`reference ${op}: cannot broadcast [${A.rows}, ${A.cols}] with [${B.rows}, ${B.cols}]`);
  };
  const rows = dim(A.rows, B.rows), cols = dim(A.cols, B.cols);
  const out = mat(rows, cols);
  const f = BINARY[op];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const x = at(A, A.rows === 1 ? 0 : i, A.cols === 1 ? 0 : j);
      const y = at(B, B.rows === 1 ? 0 : i, B.cols === 1 ? 0 : j);
      out.data[i * cols + j] = f(x, y);
    }
  }
  return out;
}

export const add = (a: Mat | number, b: Mat | number): Mat => binary("add", a, b);
export const sub = (a: Mat | number, b: Mat | number): Mat => binary("sub", a, b);
export const mul = (a: Mat | number, b: Mat | number): Mat => binary("mul", a, b);
export const div = (a: Mat | number, b: Mat | number): Mat => binary("div", a, b);
export const maximum = (a: Mat, b: Mat): Mat => binary("maximum", a, b);
export const minimum = (a: Mat, b: Mat): Mat => binary("minimum", a, b);

// ---- matmul ----------------------------------------------------------------------------

export function transpose(a: Mat): Mat {
  const out = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = at(a, i, j);
  return out;
}

export function matmul(a: Mat, b: Mat, transA = false, transB = false): Mat {
  const A = transA ? transpose(a) : a;
  const B = transB ? transpose(b) : b;
  if (A.cols !== B.rows) throw new Error("reference matmul: inner dimensions differ");
  const out = mat(A.rows, B.cols);
  for (let i = 0; i < A.rows; i++) {
    for (let j = 0; j < B.cols; j++) {
      let s = 0;
      for (let k = 0; k < A.cols; k++) s += at(A, i, k) * at(B, k, j);
      out.data[i * B.cols + j] = s;
    }
  }
  return out;
}

/** Σ_k |op(a)_ik| |op(b)_kj|: the scale of the rounding error of entry (i, j) of a product. */
export function matmulAbs(a: Mat, b: Mat, transA = false, transB = false): Mat {
  return matmul(abs(a), abs(b), transA, transB);
}

// ---- reductions ------------------------------------------------------------------------

export function sum(a: Mat, axis?: 0 | 1): Mat {
  if (axis === undefined) {
    let s = 0;
    for (const x of a.data) s += x;
    return mat(1, 1, [s]);
  }
  const out = axis === 0 ? mat(1, a.cols) : mat(a.rows, 1);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) out.data[axis === 0 ? j : i] += at(a, i, j);
  }
  return out;
}

export function mean(a: Mat, axis?: 0 | 1): Mat {
  const n = axis === undefined ? a.rows * a.cols : axis === 0 ? a.rows : a.cols;
  return map(sum(a, axis), (x) => x / n);
}

/** Max over an axis with the index of the first maximum along it. */
export function max(a: Mat, axis: 0 | 1): { values: Mat; indices: number[] } {
  const outer = axis === 0 ? a.cols : a.rows, inner = axis === 0 ? a.rows : a.cols;
  const values = axis === 0 ? mat(1, a.cols) : mat(a.rows, 1);
  const indices: number[] = [];
  for (let o = 0; o < outer; o++) {
    let best = -Infinity, arg = 0;
    for (let k = 0; k < inner; k++) {
      const x = axis === 0 ? at(a, k, o) : at(a, o, k);
      if (x > best) {
        best = x;
        arg = k;
      }
    }
    values.data[o] = best;
    indices.push(arg);
  }
  return { values, indices };
}

/** Row-wise log Σ exp, max-shifted. */
export function logsumexp(a: Mat): Mat {
  const out = mat(a.rows, 1);
  for (let i = 0; i < a.rows; i++) {
    let m = -Infinity;
    for (let j = 0; j < a.cols; j++) m = Math.max(m, at(a, i, j));
    let s = 0;
    for (let j = 0; j < a.cols; j++) s += Math.exp(at(a, i, j) - m);
    out.data[i] = m + Math.log(s);
  }
  return out;
}

export function logSoftmax(a: Mat): Mat {
  return sub(a, logsumexp(a));
}

/** Mean over rows of logsumexp(row) − row[label]; a [1, 1] result. */
export function softmaxCrossEntropy(logits: Mat, labels: readonly number[]): Mat {
  const lse = logsumexp(logits);
  let s = 0;
  for (let i = 0; i < logits.rows; i++) s += lse.data[i] - at(logits, i, labels[i]);
  return mat(1, 1, [s / logits.rows]);
}

// ---- sorting, gather, scatter ----------------------------------------------------------

/** Sort key order: ascending, NaN after +Infinity, ties by source column. */
function sortKey(x: number, y: number): number {
  const xn = Number.isNaN(x), yn = Number.isNaN(y);
  if (xn || yn) return xn === yn ? 0 : xn ? 1 : -1;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function sortRows(a: Mat): { values: Mat; indices: number[][] } {
  const values = mat(a.rows, a.cols);
  const indices: number[][] = [];
  for (let i = 0; i < a.rows; i++) {
    const cols = Array.from({ length: a.cols }, (_, j) => j);
    // Array.prototype.sort is stable (ES2019); ties fall back to the column index anyway.
    cols.sort((p, q) => sortKey(at(a, i, p), at(a, i, q)) || p - q);
    cols.forEach((src, j) => (values.data[i * a.cols + j] = at(a, i, src)));
    indices.push(cols);
  }
  return { values, indices };
}

export function gatherRows(a: Mat, idx: readonly number[]): Mat {
  const out = mat(idx.length, a.cols);
  idx.forEach((r, i) => {
    for (let j = 0; j < a.cols; j++) out.data[i * a.cols + j] = at(a, r, j);
  });
  return out;
}

export function scatterAddRows(src: Mat, idx: readonly number[], rows: number): Mat {
  const out = mat(rows, src.cols);
  idx.forEach((r, i) => {
    for (let j = 0; j < src.cols; j++) out.data[r * src.cols + j] += at(src, i, j);
  });
  return out;
}

export function permuteRows(a: Mat, perm: readonly number[]): Mat {
  return gatherRows(a, perm);
}

/** out[i, j] = a[i, idx[i][j]]. */
export function gatherElems(a: Mat, idx: readonly (readonly number[])[]): Mat {
  const k = idx[0]?.length ?? 0;
  const out = mat(a.rows, k);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < k; j++) out.data[i * k + j] = at(a, i, idx[i][j]);
  return out;
}

/** out[i, idx[i][j]] += src[i, j]. */
export function scatterAddElems(src: Mat, idx: readonly (readonly number[])[], cols: number): Mat {
  const out = mat(src.rows, cols);
  for (let i = 0; i < src.rows; i++) {
    for (let j = 0; j < src.cols; j++) out.data[i * cols + idx[i][j]] += at(src, i, j);
  }
  return out;
}

// ---- layout ----------------------------------------------------------------------------

export function reshape(a: Mat, rows: number, cols: number): Mat {
  return mat(rows, cols, a.data);
}

export function slice(a: Mat, axis: 0 | 1, start: number, end: number): Mat {
  const rows = axis === 0 ? end - start : a.rows, cols = axis === 1 ? end - start : a.cols;
  const out = mat(rows, cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      out.data[i * cols + j] = axis === 0 ? at(a, start + i, j) : at(a, i, start + j);
    }
  }
  return out;
}

export function concat(xs: readonly Mat[], axis: 0 | 1): Mat {
  const rows = axis === 0 ? xs.reduce((s, x) => s + x.rows, 0) : xs[0].rows;
  const cols = axis === 1 ? xs.reduce((s, x) => s + x.cols, 0) : xs[0].cols;
  const out = mat(rows, cols);
  let off = 0;
  for (const x of xs) {
    for (let i = 0; i < x.rows; i++) {
      for (let j = 0; j < x.cols; j++) {
        const [r, c] = axis === 0 ? [off + i, j] : [i, off + j];
        out.data[r * cols + c] = at(x, i, j);
      }
    }
    off += axis === 0 ? x.rows : x.cols;
  }
  return out;
}

/** Broadcast a [1, c], [r, 1] or [1, 1] matrix to [rows, cols]. */
export function expand(a: Mat, rows: number, cols: number): Mat {
  return add(a, zeros(rows, cols));
}

// ---- composites ------------------------------------------------------------------------

/** Squared Euclidean distances between rows, by the direct Σ (x − y)² (no expansion). */
export function pairwiseSqDist(x: Mat, y: Mat): Mat {
  const out = mat(x.rows, y.rows);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < y.rows; j++) {
      let s = 0;
      for (let k = 0; k < x.cols; k++) s += (at(x, i, k) - at(y, j, k)) ** 2;
      out.data[i * y.rows + j] = s;
    }
  }
  return out;
}

/** MaWa: mean over rows of ‖y_j − anchor_j‖². */
export function mawaLoss(y: Mat, anchors: Mat): Mat {
  return mean(sum(square(sub(y, anchors)), 1));
}

/** The Mlp forward: relu between layers; `layers` holds [weight [in, out], bias [1, out]] pairs. */
export function mlpForward(x: Mat, layers: readonly { weight: Mat; bias: Mat }[]): Mat {
  let h = x;
  layers.forEach((l, i) => {
    h = add(matmul(h, l.weight), l.bias);
    if (i < layers.length - 1) h = relu(h);
  });
  return h;
}

/** Σ_ij a_ij · b_ij (the scalar probe of the gradient tests). */
export function dot(a: Mat, b: Mat): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}
