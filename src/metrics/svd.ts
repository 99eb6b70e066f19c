/**
 * Thin singular value decomposition in float64 by one-sided Jacobi (Hestenes) rotations. The
 * metrics need it for orthogonal Procrustes (collision.ts); one-sided Jacobi is short, has no
 * tuning, and gives small singular values to high relative accuracy.
 */

/** A = U · diag(S) · Vᵀ with r = min(m, n): U [m, r], V [n, r], both row-major and orthonormal by columns. */
export interface Svd {
  m: number;
  n: number;
  /** [m, r] row-major; orthonormal columns (completed to an orthonormal set where S is 0). */
  u: Float64Array;
  /** Singular values, descending, r of them. */
  s: Float64Array;
  /** [n, r] row-major; orthonormal columns. */
  v: Float64Array;
  /** Jacobi sweeps until convergence (diagnostic). */
  sweeps: number;
}

export interface SvdOptions {
  /** Off-diagonal tolerance: stop when |w_p·w_q| ≤ tol·‖w_p‖‖w_q‖ for every pair (default m·ε). */
  tol?: number;
  /** Give up (throw) after this many sweeps (default 60; quadratic convergence needs ~10). */
  maxSweeps?: number;
}

/** SVD of the row-major [m, n] matrix `a` (not modified). */
export function svd(a: ArrayLike<number>, m: number, n: number, opts: SvdOptions = {}): Svd {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || n < 1) {
    throw new RangeError(`svd: shape [${m}, ${n}]; expected positive integer dimensions`);
  }
  if (a.length !== m * n) throw new RangeError(`svd: ${a.length} values for [${m}, ${n}]; expected ${m * n}`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      throw new RangeError(`svd: value ${a[i]} at row ${Math.floor(i / n)}, col ${i % n} is not finite`);
    }
  }
  if (m >= n) return tallSvd(a, m, n, opts);
  // A wide matrix: Aᵀ = U' S V'ᵀ, so A = V' S U'ᵀ.
  const at = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) at[j * m + i] = a[i * n + j];
  const t = tallSvd(at, n, m, opts);
  return { m, n, u: t.v, s: t.s, v: t.u, sweeps: t.sweeps };
}

/** m ≥ n. Works on W = Aᵀ so that the columns being rotated are contiguous rows. */
function tallSvd(a: ArrayLike<number>, m: number, n: number, opts: SvdOptions): Svd {
  const tol = opts.tol ?? Math.max(m, 1) * Number.EPSILON;
  const maxSweeps = opts.maxSweeps ?? 60;
  const w = new Float64Array(n * m); // row j = column j of A
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) w[j * m + i] = a[i * n + j];
  const vt = new Float64Array(n * n); // row j = column j of V
  for (let j = 0; j < n; j++) vt[j * n + j] = 1;
  const norm2 = new Float64Array(n);

  let sweeps = 0;
  for (let rotated = true; rotated; sweeps++) {
    if (sweeps >= maxSweeps) throw new Error(`svd: no convergence after ${maxSweeps} sweeps of [${m}, ${n}]`);
    rotated = false;
    // Fresh norms each sweep: the cheap updates below drift by rounding.
    for (let j = 0; j < n; j++) norm2[j] = dot(w, j * m, w, j * m, m);
    for (let p = 0; p < n - 1; p++) {
      const po = p * m;
      for (let q = p + 1; q < n; q++) {
        const alpha = norm2[p], beta = norm2[q];
        if (alpha === 0 || beta === 0) continue;
        const qo = q * m;
        const gamma = dot(w, po, w, qo, m);
        if (Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        // The rotation that diagonalises the 2×2 Gram block [[α, γ], [γ, β]] (Golub & Van Loan 8.5.2).
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        rotate(w, po, qo, m, c, s);
        rotate(vt, p * n, q * n, n, c, s);
        norm2[p] = alpha - t * gamma;
        norm2[q] = beta + t * gamma;
      }
    }
  }

  // Singular values and left vectors, in descending order of σ.
  const sigma = new Float64Array(n);
  for (let j = 0; j < n; j++) sigma[j] = Math.sqrt(dot(w, j * m, w, j * m, m));
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => sigma[y] - sigma[x] || x - y);
  const s = Float64Array.from(order, (j) => sigma[j]);
  const ut = new Float64Array(n * m); // row k = column k of U
  const zero = s[0] * Math.max(m, n) * Number.EPSILON;
  order.forEach((j, k) => {
    if (s[k] > zero) { for (let i = 0; i < m; i++) ut[k * m + i] = w[j * m + i] / s[k]; }
  });
  orthonormalize(ut, n, m, s, zero);

  const u = new Float64Array(m * n), v = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < m; i++) u[i * n + k] = ut[k * m + i];
    const j = order[k];
    for (let i = 0; i < n; i++) v[i * n + k] = vt[j * n + i];
  }
  return { m, n, u, s, v, sweeps };
}

function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): number {
  let acc = 0;
  for (let i = 0; i < len; i++) acc += x[xo + i] * y[yo + i];
  return acc;
}

/** Rows p and q of `x` ← (c·x_p − s·x_q, s·x_p + c·x_q). */
function rotate(x: Float64Array, po: number, qo: number, len: number, c: number, s: number): void {
  for (let i = 0; i < len; i++) {
    const xp = x[po + i], xq = x[qo + i];
    x[po + i] = c * xp - s * xq;
    x[qo + i] = s * xp + c * xq;
  }
}

/**
 * Re-orthonormalises the r rows of `ut` (length m each) in order (largest σ first) by two passes
 * of Gram–Schmidt, and replaces rows whose σ is numerically zero by unit vectors orthogonal to
 * the rest. Small σ leave w/σ only roughly orthogonal, and Procrustes needs U exactly orthogonal
 * even when the cross-covariance is rank-deficient.
 */
function orthonormalize(ut: Float64Array, r: number, m: number, s: Float64Array, zero: number): void {
  const project = (k: number) => {
    for (let pass = 0; pass < 2; pass++) {
      for (let l = 0; l < k; l++) {
        const c = dot(ut, k * m, ut, l * m, m);
        for (let i = 0; i < m; i++) ut[k * m + i] -= c * ut[l * m + i];
      }
    }
    return Math.sqrt(dot(ut, k * m, ut, k * m, m));
  };
  for (let k = 0; k < r; k++) {
    let norm = s[k] > zero ? project(k) : 0;
    if (norm < 0.5) {
      // A null direction (or one lost to rounding): the basis vector e_i farthest from the span
      // of rows 0..k−1, i.e. with the smallest Σ_l ut[l, i]²; its residual is ≥ sqrt((m − k)/m).
      let best = 0, bestIn = Infinity;
      for (let i = 0; i < m; i++) {
        let inSpan = 0;
        for (let l = 0; l < k; l++) inSpan += ut[l * m + i] * ut[l * m + i];
        if (inSpan < bestIn) [best, bestIn] = [i, inSpan];
      }
      ut.fill(0, k * m, (k + 1) * m);
      ut[k * m + best] = 1;
      norm = project(k);
    }
    for (let i = 0; i < m; i++) ut[k * m + i] /= norm;
  }
}
