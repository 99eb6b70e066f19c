/**
 * Exact Euclidean nearest neighbours of query rows among reference rows (the collision rate's
 * search). Two paths with the same answer: a float64 loop, and a float32 GEMM on a tensor backend
 * that screens candidates, whose survivors are then compared in float64. The GEMM path is
 * exact because its screening window is wider than any float32 rounding of the scores, so the
 * choice of backend changes the speed, never the neighbours.
 */
import type { Backend } from "../tensor/backend.ts";
import { matmul, tensor } from "../tensor/ops.ts";
import { tidy } from "../tensor/tensor.ts";
import { columnMeans, type Points } from "./procrustes.ts";

export interface NearestOptions {
  /** Screen with matmul on this backend (fast); without one, a plain float64 loop (slow). */
  backend?: Backend;
  /** Query rows per GEMM block are chosen so that a block's score matrix has at most this many entries (default 2²⁰: a 4 MiB block stays in cache). */
  blockEntries?: number;
}

export interface NearestResult {
  /** Per query, the index of the nearest reference row (lowest index on exact ties). */
  index: Int32Array;
  /** Per query, the squared distance to it, in float64. */
  sqDist: Float64Array;
  /** How many (query, reference) pairs were compared in float64 (n·m for the loop). */
  exactComparisons: number;
}

/** Float32 unit roundoff. */
const U32 = 2 ** -24;

function rows(what: string, x: Points, d: number): number {
  if (!Number.isInteger(d) || d < 1) {
    throw new RangeError(`nearest: dimension ${d}; expected a positive integer`);
  }
  if (x.length % d !== 0) {
    throw new RangeError(`nearest: ${what} has ${x.length} values; expected a multiple of d = ${d}`);
  }
  return x.length / d;
}

function assertFinite(what: string, x: Points, d: number): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new RangeError(
        `nearest: ${what} value ${x[i]} at row ${Math.floor(i / d)}, col ${i % d} is not finite`,
      );
    }
  }
}

function sqDist(x: Points, xo: number, y: Points, yo: number, d: number): number {
  let acc = 0;
  for (let k = 0; k < d; k++) {
    const t = x[xo + k] - y[yo + k];
    acc += t * t;
  }
  return acc;
}

/** Nearest row of `refs` [m, d] for every row of `queries` [n, d]. */
export async function nearestNeighbors(
  queries: Points,
  refs: Points,
  d: number,
  opts: NearestOptions = {},
): Promise<NearestResult> {
  const n = rows("queries", queries, d), m = rows("references", refs, d);
  if (m === 0) throw new RangeError("nearest: no reference rows");
  assertFinite("queries", queries, d);
  assertFinite("references", refs, d);
  if (!opts.backend) return exactLoop(queries, n, refs, m, d);
  return await screened(queries, n, refs, m, d, opts.backend, opts.blockEntries ?? 1 << 20);
}

function exactLoop(queries: Points, n: number, refs: Points, m: number, d: number): NearestResult {
  const index = new Int32Array(n), best = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let bj = 0, bd = Infinity;
    for (let j = 0; j < m; j++) {
      const s = sqDist(queries, i * d, refs, j * d, d);
      if (s < bd) [bj, bd] = [j, s];
    }
    index[i] = bj;
    best[i] = bd;
  }
  return { index, sqDist: best, exactComparisons: n * m };
}

/**
 * Scores s_j = ‖c_j‖² − 2 q·c_j (‖q − c_j‖² up to a per-query constant) on data centred at the
 * references' mean (smaller norms, tighter bound), then float64 distances for every j within
 * 2·bound of the smallest score. Per-score error bound, from centring to float32 (2u(A+M)²),
 * the dot product (γ_d·A·M) and its float32 output: below u·(A+M)²·(d + 4), where A = ‖q̃‖ and
 * M = max ‖c̃_j‖.
 */
async function screened(
  queries: Points,
  n: number,
  refs: Points,
  m: number,
  d: number,
  backend: Backend,
  blockEntries: number,
): Promise<NearestResult> {
  const mu = columnMeans(refs, m, d);
  const centre = (x: Points, count: number) => {
    const out = new Float32Array(count * d);
    for (let i = 0; i < count; i++) for (let k = 0; k < d; k++) out[i * d + k] = x[i * d + k] - mu[k];
    return out;
  };
  const refs32 = centre(refs, m);
  const refNorm2 = new Float64Array(m);
  let maxRef = 0;
  for (let j = 0; j < m; j++) {
    let acc = 0;
    for (let k = 0; k < d; k++) acc += refs32[j * d + k] * refs32[j * d + k];
    refNorm2[j] = acc;
    maxRef = Math.max(maxRef, acc);
  }
  const bigM = Math.sqrt(maxRef);
  const refT = tensor(refs32, [m, d], { backend });
  const index = new Int32Array(n), best = new Float64Array(n);
  let exactComparisons = 0;
  const block = Math.max(1, Math.floor(blockEntries / m));
  try {
    for (let i0 = 0; i0 < n; i0 += block) {
      const rowsHere = Math.min(block, n - i0);
      const q32 = centre(queries.subarray(i0 * d, (i0 + rowsHere) * d), rowsHere);
      const prod = tidy(() => matmul(tensor(q32, [rowsHere, d], { backend }), refT, false, true));
      let dots: Float32Array;
      try {
        dots = await prod.toArray();
      } finally {
        prod.dispose();
      }
      for (let r = 0; r < rowsHere; r++) {
        const o = r * m;
        let min = Infinity, qn2 = 0;
        for (let j = 0; j < m; j++) min = Math.min(min, refNorm2[j] - 2 * dots[o + j]);
        for (let k = 0; k < d; k++) qn2 += q32[r * d + k] * q32[r * d + k];
        const a = Math.sqrt(qn2);
        const limit = min + 2 * U32 * (a + bigM) ** 2 * (d + 4);
        const qi = i0 + r;
        let bj = -1, bd = Infinity;
        for (let j = 0; j < m; j++) {
          if (refNorm2[j] - 2 * dots[o + j] > limit) continue;
          exactComparisons++;
          const s = sqDist(queries, qi * d, refs, j * d, d);
          if (s < bd) [bj, bd] = [j, s];
        }
        index[qi] = bj;
        best[qi] = bd;
      }
    }
  } finally {
    refT.dispose();
  }
  return { index, sqDist: best, exactComparisons };
}
