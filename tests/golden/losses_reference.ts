/**
 * Float64 reference implementations of the adapter losses, in plain JS loops sharing no code with
 * src/methods/. Matrices are row-major ArrayLike<number> with explicit sizes. The loss tests
 * compare the float32 tensor versions against these, and take central finite differences of them.
 */

/** Row-major [rows, cols] float64 matrix. */
export interface M64 {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function m64(rows: number, cols: number, data: ArrayLike<number>): M64 {
  if (data.length !== rows * cols) throw new Error(`m64: ${data.length} values for [${rows}, ${cols}]`);
  return { rows, cols, data: Float64Array.from(data) };
}

function row(a: M64, i: number): Float64Array {
  return a.data.subarray(i * a.cols, (i + 1) * a.cols);
}

function sqDist(u: ArrayLike<number>, v: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < u.length; k++) s += (u[k] - v[k]) ** 2;
  return s;
}

/** Columns of a and b side by side. */
export function catCols(a: M64, b: M64): M64 {
  const out = new Float64Array(a.rows * (a.cols + b.cols));
  for (let i = 0; i < a.rows; i++) {
    out.set(row(a, i), i * (a.cols + b.cols));
    out.set(row(b, i), i * (a.cols + b.cols) + a.cols);
  }
  return { rows: a.rows, cols: a.cols + b.cols, data: out };
}

export function permuteRows(a: M64, perm: ArrayLike<number>): M64 {
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < a.rows; i++) out.set(row(a, perm[i]), i * a.cols);
  return { rows: a.rows, cols: a.cols, data: out };
}

/** Projections of the rows of a on each of the [P, d] directions, each sorted: P arrays of n. */
export function sortedProjections(a: M64, dirs: ArrayLike<number>): Float64Array[] {
  const count = dirs.length / a.cols;
  const out: Float64Array[] = [];
  for (let k = 0; k < count; k++) {
    const proj = new Float64Array(a.rows);
    for (let i = 0; i < a.rows; i++) {
      let s = 0;
      for (let j = 0; j < a.cols; j++) s += a.data[i * a.cols + j] * dirs[k * a.cols + j];
      proj[i] = s;
    }
    out.push(proj.sort());
  }
  return out;
}

/**
 * SW_p(a, b) along [P, d] unit directions, uniform weights; unequal sizes through the exact
 * quantile-function integral (as POT's wasserstein_1d), independent of the repetition trick.
 */
export function slicedWasserstein(a: M64, b: M64, dirs: ArrayLike<number>, p: number): number {
  const pa = sortedProjections(a, dirs), pb = sortedProjections(b, dirs);
  let total = 0;
  for (let k = 0; k < pa.length; k++) {
    const u = pa[k], v = pb[k], n = u.length, m = v.length;
    // Merge the quantile breakpoints i/n and j/m; on each piece both quantile functions are constant.
    let i = 0, j = 0, q = 0, w = 0;
    while (i < n && j < m) {
      const next = Math.min((i + 1) / n, (j + 1) / m);
      w += (next - q) * Math.abs(u[i] - v[j]) ** p;
      q = next;
      if (Math.abs((i + 1) / n - next) < 1e-15) i++;
      if (Math.abs((j + 1) / m - next) < 1e-15) j++;
    }
    total += w;
  }
  return (total / pa.length) ** (1 / p);
}

/** The smallest gap between consecutive sorted projections (distance to a sort tie). */
export function minSortGap(a: M64, dirs: ArrayLike<number>): number {
  let gap = Infinity;
  for (const s of sortedProjections(a, dirs)) {
    for (let i = 1; i < s.length; i++) gap = Math.min(gap, s[i] - s[i - 1]);
  }
  return gap;
}

export interface WacoDraws64 {
  dep: { directions: ArrayLike<number>; perm1: ArrayLike<number>; perm2: ArrayLike<number> };
  depX: { directions: ArrayLike<number>; perm: ArrayLike<number> };
  depY: { directions: ArrayLike<number>; perm: ArrayLike<number> };
}

/** The four point-cloud pairs WaCo compares, with their directions. */
export function wacoClouds(x: M64, y: M64, d: WacoDraws64): [M64, M64, ArrayLike<number>][] {
  return [
    [catCols(x, y), catCols(permuteRows(x, d.dep.perm1), permuteRows(y, d.dep.perm2)), d.dep.directions],
    [catCols(x, x), catCols(x, permuteRows(x, d.depX.perm)), d.depX.directions],
    [catCols(y, y), catCols(y, permuteRows(y, d.depY.perm)), d.depY.directions],
  ];
}

export function swc(
  x: M64,
  y: M64,
  draws: WacoDraws64,
  p = 2,
  q = 2,
): { dep: number; depX: number; depY: number; swc: number } {
  const [dep, depX, depY] = wacoClouds(x, y, draws).map(([a, b, dirs]) => slicedWasserstein(a, b, dirs, p));
  // The paper's code: normalization = (X_dependence * Y_dependence + eps) ** (1 / q).
  return { dep, depX, depY, swc: dep / (depX * depY + 1e-10) ** (1 / q) };
}

/** NT-Xent, multi-positive (SupCon L_out) over `views` blocks of N rows, cosine similarity / τ. */
export function simclr(y: M64, views: number, tau: number): number {
  const m = y.rows, n = m / views;
  const z = y.data.slice();
  for (let a = 0; a < m; a++) {
    let s = 0;
    for (let j = 0; j < y.cols; j++) s += z[a * y.cols + j] ** 2;
    const nrm = Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < y.cols; j++) z[a * y.cols + j] /= nrm;
  }
  const logit = (a: number, b: number) => {
    let s = 0;
    for (let j = 0; j < y.cols; j++) s += z[a * y.cols + j] * z[b * y.cols + j];
    return s / tau;
  };
  let total = 0;
  for (let a = 0; a < m; a++) {
    let mx = -Infinity;
    for (let b = 0; b < m; b++) if (b !== a) mx = Math.max(mx, logit(a, b));
    let se = 0;
    for (let b = 0; b < m; b++) if (b !== a) se += Math.exp(logit(a, b) - mx);
    const lse = mx + Math.log(se);
    let pos = 0, count = 0;
    for (let b = 0; b < m; b++) {
      if (b !== a && b % n === a % n) {
        pos += lse - logit(a, b);
        count++;
      }
    }
    total += pos / count;
  }
  return total / m;
}

/** The classic 2-view NT-Xent (SimCLR, Chen et al. 2020): rows i and i + N are the only positives. */
export function ntXentTwoViews(y: M64, tau: number): number {
  const n = y.rows / 2;
  // With exactly one positive per anchor the multi-positive form must coincide with it.
  const z = Array.from({ length: y.rows }, (_, a) => {
    const r = Array.from(row(y, a));
    const nrm = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
    return r.map((v) => v / nrm);
  });
  const sim = (a: number, b: number) => z[a].reduce((s, v, j) => s + v * z[b][j], 0) / tau;
  let total = 0;
  for (let a = 0; a < 2 * n; a++) {
    const pos = (a + n) % (2 * n);
    let den = 0;
    for (let b = 0; b < 2 * n; b++) if (b !== a) den += Math.exp(sim(a, b));
    total += -Math.log(Math.exp(sim(a, pos)) / den);
  }
  return total / (2 * n);
}

/** Median of the distinct pairwise distances ‖r_i − r_j‖, i < j. */
export function medianDistance(a: M64): number {
  const ds: number[] = [];
  for (let i = 0; i < a.rows; i++) {
    for (let j = i + 1; j < a.rows; j++) ds.push(Math.sqrt(sqDist(row(a, i), row(a, j))));
  }
  ds.sort((u, v) => u - v);
  const q = ds.length;
  return q % 2 ? ds[(q - 1) / 2] : (ds[q / 2 - 1] + ds[q / 2]) / 2;
}

/** Biased HSIC Tr(KHLH)/(n−1)² with Gaussian kernels exp(−‖·‖²/(2σ² + 1e-12)), as matrices. */
export function hsic(x: M64, y: M64, sigmaX: number, sigmaY: number): number {
  const n = x.rows;
  const kernel = (a: M64, s: number) => {
    const k = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        k[i * n + j] = Math.exp(-sqDist(row(a, i), row(a, j)) / (2 * s * s + 1e-12));
      }
    }
    return k;
  };
  const K = kernel(x, sigmaX), L = kernel(y, sigmaY);
  // Tr(K H L H) with explicit H = I − 11ᵀ/n, the textbook form (no centring shortcut).
  const H = (i: number, j: number) => (i === j ? 1 : 0) - 1 / n;
  const KH = new Float64Array(n * n), LH = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, t = 0;
      for (let k = 0; k < n; k++) {
        s += K[i * n + k] * H(k, j);
        t += L[i * n + k] * H(k, j);
      }
      KH[i * n + j] = s;
      LH[i * n + j] = t;
    }
  }
  let tr = 0;
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) tr += KH[i * n + k] * LH[k * n + i];
  return tr / ((n - 1) * (n - 1));
}

/** One VICReg branch pair, the reference implementation's formula (unbiased variances). */
export function vicregPair(z0: M64, z1: M64, lam: number, mu: number, nu: number): number {
  const n = z0.rows, d = z0.cols;
  let inv = 0;
  for (let i = 0; i < z0.data.length; i++) inv += (z0.data[i] - z1.data[i]) ** 2;
  inv /= n * d;
  const reg = (z: M64) => {
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += z.data[i * d + j] / n;
    const cov = new Float64Array(d * d);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < d; b++) {
          cov[a * d + b] += (z.data[i * d + a] - mean[a]) * (z.data[i * d + b] - mean[b]) / (n - 1);
        }
      }
    }
    let v = 0, c = 0;
    for (let a = 0; a < d; a++) {
      v += Math.max(0, 1 - Math.sqrt(cov[a * d + a] + 1e-4)) / d;
      for (let b = 0; b < d; b++) if (a !== b) c += cov[a * d + b] ** 2 / d;
    }
    return { v, c };
  };
  const r0 = reg(z0), r1 = reg(z1);
  return lam * inv + mu * (r0.v + r1.v) / 2 + nu * (r0.c + r1.c);
}

/** Multi-view VICReg: the mean of `vicregPair` over the pairs (view 0, view k). */
export function vicreg(y: M64, views: number, lam = 25, mu = 25, nu = 1): number {
  const n = y.rows / views;
  const block = (k: number) => ({
    rows: n,
    cols: y.cols,
    data: y.data.slice(k * n * y.cols, (k + 1) * n * y.cols),
  });
  let total = 0;
  for (let k = 1; k < views; k++) total += vicregPair(block(0), block(k), lam, mu, nu);
  return total / (views - 1);
}

/** Central differences of f at `at` (float64), one per element, with step h. */
export function finiteDifferences(
  f: (v: Float64Array) => number,
  at: ArrayLike<number>,
  h: number,
): Float64Array {
  const v = Float64Array.from(at);
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x0 = v[i];
    v[i] = x0 + h;
    const fp = f(v);
    v[i] = x0 - h;
    const fm = f(v);
    v[i] = x0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}
