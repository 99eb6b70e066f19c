/**
 * Closed-form ridge regression in float64, for the steering maps of `steer` and `canon`: a
 * Cholesky solve of the (centred) normal equations. d is the backbone's feature dimension (128 for
 * the fixture backbones, 384–2048 for real ones), so the d×d solves are cheap next to forming
 * the Gram matrices, which costs rows·d² multiply-adds.
 */

/** A fitted affine map y = x·W + b on row vectors: W is [din, dout] row-major, b is [dout]. */
export interface LinearMap {
  din: number;
  dout: number;
  weight: Float64Array;
  bias: Float64Array;
}

/** Lower-triangular L with A = L·Lᵀ of a symmetric positive definite n×n A (row-major; only its lower half is read). */
export function cholesky(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new RangeError(`cholesky: ${a.length} values for a ${n}×${n} matrix`);
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let diag = a[j * n + j];
    for (let k = 0; k < j; k++) diag -= l[j * n + k] * l[j * n + k];
    if (!(diag > 0) || !Number.isFinite(diag)) {
      throw new RangeError(`cholesky: the matrix is not positive definite (pivot ${j} is ${diag})`);
    }
    const ljj = Math.sqrt(diag);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** Solves A·X = B for X given A's Cholesky factor L (n×n); B and X are [n, m] row-major. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array, m: number): Float64Array {
  if (b.length !== n * m) {
    throw new RangeError(`choleskySolve: ${b.length} values for a ${n}×${m} right side`);
  }
  const x = Float64Array.from(b);
  // Forward: L·Z = B.
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const lik = l[i * n + k];
      if (lik === 0) continue;
      for (let c = 0; c < m; c++) x[i * m + c] -= lik * x[k * m + c];
    }
    const inv = 1 / l[i * n + i];
    for (let c = 0; c < m; c++) x[i * m + c] *= inv;
  }
  // Backward: Lᵀ·X = Z.
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const lki = l[k * n + i];
      if (lki === 0) continue;
      for (let c = 0; c < m; c++) x[i * m + c] -= lki * x[k * m + c];
    }
    const inv = 1 / l[i * n + i];
    for (let c = 0; c < m; c++) x[i * m + c] *= inv;
  }
  return x;
}

/** The identity map on d dimensions. */
export function identityMap(d: number): LinearMap {
  const weight = new Float64Array(d * d);
  for (let i = 0; i < d; i++) weight[i * d + i] = 1;
  return { din: d, dout: d, weight, bias: new Float64Array(d) };
}

/**
 * Ridge regression of rows `rows` of y [·, dout] on the same rows of x [·, din] (all rows when
 * `rows` is omitted), with an unpenalised bias:
 *
 *   minimise over W, b   (1/n) Σ_r ‖y_r − x_r·W − b‖²  +  λ·s·‖W‖²_F,   s = tr(Σ_xx) / din,
 *
 * Σ_xx the (biased) covariance of the x rows, so λ (`ridge`) is relative to the inputs' mean
 * per-dimension variance and does not depend on the backbone's feature scale. Solved by centring
 * (b = ȳ − x̄·W) and a Cholesky solve of (Σ_xx + λ·s·I)·W = Σ_xy in float64.
 */
export function fitRidge(
  x: Float32Array | Float64Array,
  y: Float32Array | Float64Array,
  din: number,
  dout: number,
  ridge: number,
  rows?: ArrayLike<number>,
): LinearMap {
  if (!(ridge >= 0) || !Number.isFinite(ridge)) {
    throw new RangeError(`fitRidge: ridge ${ridge}; expected ≥ 0`);
  }
  if (x.length % din !== 0 || y.length % dout !== 0 || x.length / din !== y.length / dout) {
    throw new RangeError(`fitRidge: x has ${x.length} values (din ${din}), y ${y.length} (dout ${dout})`);
  }
  const n = rows ? rows.length : x.length / din;
  if (n < 1) throw new RangeError("fitRidge: no rows");
  const rowAt = (r: number) => (rows ? rows[r] : r);
  // Means, then the centred data column-major (one contiguous column per dimension).
  const mx = new Float64Array(din), my = new Float64Array(dout);
  for (let r = 0; r < n; r++) {
    const i = rowAt(r);
    for (let c = 0; c < din; c++) mx[c] += x[i * din + c];
    for (let c = 0; c < dout; c++) my[c] += y[i * dout + c];
  }
  for (let c = 0; c < din; c++) mx[c] /= n;
  for (let c = 0; c < dout; c++) my[c] /= n;
  const xc = new Float64Array(din * n), yc = new Float64Array(dout * n);
  for (let r = 0; r < n; r++) {
    const i = rowAt(r);
    for (let c = 0; c < din; c++) xc[c * n + r] = x[i * din + c] - mx[c];
    for (let c = 0; c < dout; c++) yc[c * n + r] = y[i * dout + c] - my[c];
  }
  // Every entry is one float64 dot product over the rows in order; four entries that share a
  // column of a are summed in one loop over it (a quarter of its loads, the same sums).
  const dot = (a: Float64Array, ao: number, b: Float64Array, bo: number) => {
    let s = 0;
    for (let r = 0; r < n; r++) s += a[ao + r] * b[bo + r];
    return s;
  };
  const four = new Float64Array(4);
  const dot4 = (a: Float64Array, ao: number, b: Float64Array, bo: number) => {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let r = 0; r < n; r++) {
      const v = a[ao + r];
      s0 += v * b[bo + r];
      s1 += v * b[bo + n + r];
      s2 += v * b[bo + 2 * n + r];
      s3 += v * b[bo + 3 * n + r];
    }
    four[0] = s0, four[1] = s1, four[2] = s2, four[3] = s3;
    return four;
  };
  /** put(j, Σ_r a[i][r]·b[j][r]) for the columns j < count of b (column-major, n rows each). */
  const row = (
    a: Float64Array,
    i: number,
    b: Float64Array,
    count: number,
    put: (j: number, v: number) => void,
  ) => {
    let j = 0;
    for (; j + 4 <= count; j += 4) {
      const v = dot4(a, i * n, b, j * n);
      for (let k = 0; k < 4; k++) put(j + k, v[k]);
    }
    for (; j < count; j++) put(j, dot(a, i * n, b, j * n));
  };
  const a = new Float64Array(din * din);
  for (let i = 0; i < din; i++) {
    row(xc, i, xc, i + 1, (j, v) => {
      a[i * din + j] = v / n;
      a[j * din + i] = v / n;
    });
  }
  const rhs = new Float64Array(din * dout);
  for (let i = 0; i < din; i++) row(xc, i, yc, dout, (j, v) => (rhs[i * dout + j] = v / n));
  let trace = 0;
  for (let i = 0; i < din; i++) trace += a[i * din + i];
  // A floor keeps the system definite for constant inputs (then W = 0 and b = ȳ).
  const penalty = Math.max(ridge * (trace / din), 1e-12 * Math.max(1, trace / din));
  for (let i = 0; i < din; i++) a[i * din + i] += penalty;
  const weight = choleskySolve(cholesky(a, din), din, rhs, dout);
  const bias = Float64Array.from(my);
  for (let i = 0; i < din; i++) {
    const m = mx[i];
    if (m === 0) continue;
    for (let j = 0; j < dout; j++) bias[j] -= m * weight[i * dout + j];
  }
  return { din, dout, weight, bias };
}

/**
 * Applies maps to the rows of x [n, din]: row r goes through `maps[pick(r)]` (one map for all rows
 * when `pick` is omitted). Accumulates in float64; returns float32 [n, dout].
 */
export function applyMaps(
  maps: readonly LinearMap[],
  x: Float32Array,
  pick?: (row: number) => number,
): Float32Array {
  if (maps.length === 0) throw new RangeError("applyMaps: no maps");
  const { din, dout } = maps[0];
  if (maps.some((m) => m.din !== din || m.dout !== dout)) {
    throw new RangeError("applyMaps: maps differ in shape");
  }
  if (x.length % din !== 0) {
    throw new RangeError(`applyMaps: ${x.length} values; expected a multiple of ${din}`);
  }
  const n = x.length / din, out = new Float32Array(n * dout), acc = new Float64Array(dout);
  for (let r = 0; r < n; r++) {
    const k = pick ? pick(r) : 0;
    const m = maps[k];
    if (!m) throw new RangeError(`applyMaps: row ${r} picks map ${k} of ${maps.length}`);
    acc.set(m.bias);
    for (let i = 0; i < din; i++) {
      const v = x[r * din + i];
      if (v === 0) continue;
      const w = i * dout;
      for (let j = 0; j < dout; j++) acc[j] += v * m.weight[w + j];
    }
    for (let j = 0; j < dout; j++) out[r * dout + j] = acc[j];
  }
  return out;
}
