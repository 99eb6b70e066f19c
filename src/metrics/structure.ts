/**
 * Is the adapter E an isometry on clean features? (docs/protocol.md, Metrics.) Over all n(n−1)/2
 * distinct pairs of n clean points: d = ‖Fx − Fy‖, e = ‖EFx − EFy‖; L1 = min e/d, L2 = max e/d,
 * the OLS fit e ≈ m·d + b with R², RMSD = sqrt(mean (e − d)²), NRMSD = RMSD / (d_max − d_min),
 * CVRMSD = RMSD / mean d. A perfect isometry gives L1 = L2 = m = R² = 1, b = 0, RMSD = 0.
 *
 * Everything is float64. Pairs are streamed one row at a time (the pairs (i, j > i)); each row's
 * moments are taken about the row's own means and merged with Chan et al.'s update, so the
 * regression does not suffer the cancellation of raw Σd², Σde sums over millions of pairs.
 */
import { CounterRng } from "../rng/philox.ts";
import type { Points } from "./procrustes.ts";

export interface StructureMetrics {
  /** Number of distinct pairs, n(n−1)/2. */
  pairs: number;
  /**
   * Pairs with d = 0 (duplicate clean features). They are left out of L1 and L2 only (e/d is
   * undefined); they stay in the regression and the RMSDs, where (0, 0) is a valid point.
   */
  zeroDistancePairs: number;
  /** min e/d over pairs with d > 0; null when there is none. */
  l1: number | null;
  /** max e/d over pairs with d > 0; null when there is none. */
  l2: number | null;
  /** OLS slope m of e on d; null when all d are equal (the fit is undefined). */
  slope: number | null;
  /** OLS intercept b; null with the slope. */
  intercept: number | null;
  /** Coefficient of determination of the fit; null when d or e is constant over the pairs. */
  r2: number | null;
  rmsd: number;
  /** RMSD / (d_max − d_min); null when every d is equal. */
  nrmsd: number | null;
  /** RMSD / mean d; null when mean d is 0. */
  cvrmsd: number | null;
}

/** A deterministic subsample of the (d, e) pairs, for the leaderboard's scatter plot. */
export interface StructureSample {
  d: number[];
  e: number[];
}

export interface StructureResult {
  metrics: StructureMetrics;
  sample: StructureSample;
}

export interface StructureOptions {
  /** At most this many pairs in the sample (default 2000; all pairs when there are fewer). */
  sampleSize?: number;
  /** Seed of the sampling stream (seed, "structure", "sample"); default 0. */
  seed?: number;
}

/** Running moments of the (d, e) pairs. */
interface Moments {
  count: number;
  meanD: number;
  meanE: number;
  /** Σ (d − mean d)², Σ (e − mean e)², Σ (d − mean d)(e − mean e). */
  sdd: number;
  see: number;
  sde: number;
}

function merge(a: Moments, b: Moments): Moments {
  if (a.count === 0) return b;
  const count = a.count + b.count;
  const dd = b.meanD - a.meanD, de = b.meanE - a.meanE;
  const w = (a.count * b.count) / count;
  return {
    count,
    meanD: a.meanD + (dd * b.count) / count,
    meanE: a.meanE + (de * b.count) / count,
    sdd: a.sdd + b.sdd + dd * dd * w,
    see: a.see + b.see + de * de * w,
    sde: a.sde + b.sde + dd * de * w,
  };
}

function rowsOf(what: string, x: Points, dim: number): number {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new RangeError(`structure: ${what} dimension ${dim}; expected a positive integer`);
  }
  if (x.length % dim !== 0) {
    throw new RangeError(`structure: ${what} has ${x.length} values; expected a multiple of ${dim}`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new RangeError(
        `structure: ${what} value ${x[i]} at row ${Math.floor(i / dim)}, col ${i % dim} is not finite`,
      );
    }
  }
  return x.length / dim;
}

/** ‖x_i − x_j‖ for rows of the row-major x; four accumulators keep the FP pipeline busy. */
function rowDistance(x: Points, i: number, j: number, dim: number): number {
  const a = i * dim, b = j * dim;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, k = 0;
  for (; k + 3 < dim; k += 4) {
    const t0 = x[a + k] - x[b + k], t1 = x[a + k + 1] - x[b + k + 1];
    const t2 = x[a + k + 2] - x[b + k + 2], t3 = x[a + k + 3] - x[b + k + 3];
    s0 += t0 * t0;
    s1 += t1 * t1;
    s2 += t2 * t2;
    s3 += t3 * t3;
  }
  for (; k < dim; k++) {
    const t = x[a + k] - x[b + k];
    s0 += t * t;
  }
  return Math.sqrt(s0 + s1 + (s2 + s3));
}

/**
 * k distinct pair indices in [0, total), ascending, by Floyd's algorithm on the stream
 * (seed, "structure", "sample"): the same seed and n always pick the same pairs.
 */
export function samplePairIndices(total: number, k: number, seed: number): number[] {
  if (total <= k) return Array.from({ length: total }, (_, i) => i);
  const rng = new CounterRng(seed, "structure", "sample");
  const chosen = new Set<number>();
  for (let j = total - k, draw = 0; j < total; j++, draw++) {
    const t = Math.floor(rng.uniform(draw) * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

/**
 * Structure metrics of E on n clean points: `f` holds F x as rows [n, fDim], `ef` holds E F x
 * as rows [n, efDim] (d' may differ from d), both row-major. Cost: n(n−1)/2 · (fDim + efDim).
 */
export function structureMetrics(
  f: Points,
  fDim: number,
  ef: Points,
  efDim: number,
  opts: StructureOptions = {},
): StructureResult {
  const n = rowsOf("F", f, fDim);
  const nE = rowsOf("E∘F", ef, efDim);
  if (n !== nE) {
    throw new RangeError(`structure: ${n} rows of F and ${nE} rows of E∘F; expected the same points`);
  }
  if (n < 2) throw new RangeError(`structure: ${n} points; expected at least 2 (one pair)`);
  const pairs = (n * (n - 1)) / 2;
  const picks = samplePairIndices(pairs, opts.sampleSize ?? 2000, opts.seed ?? 0);
  const sample: StructureSample = { d: [], e: [] };
  let nextPick = 0;

  let total: Moments = { count: 0, meanD: 0, meanE: 0, sdd: 0, see: 0, sde: 0 };
  let sumSqDiff = 0, dMin = Infinity, dMax = -Infinity, rMin = Infinity, rMax = -Infinity, zero = 0;
  const ds = new Float64Array(n), es = new Float64Array(n);
  let pairBase = 0; // index of pair (i, i + 1) in row-major i < j order
  for (let i = 0; i < n - 1; i++) {
    const len = n - 1 - i;
    let sd = 0, se = 0, rowSq = 0;
    for (let t = 0; t < len; t++) {
      const j = i + 1 + t;
      const d = rowDistance(f, i, j, fDim), e = rowDistance(ef, i, j, efDim);
      ds[t] = d;
      es[t] = e;
      sd += d;
      se += e;
      rowSq += (e - d) * (e - d);
      if (d < dMin) dMin = d;
      if (d > dMax) dMax = d;
      if (d === 0) zero++;
      else {
        const r = e / d;
        if (r < rMin) rMin = r;
        if (r > rMax) rMax = r;
      }
    }
    // This row's centred moments, then merged into the total.
    const meanD = sd / len, meanE = se / len;
    let sdd = 0, see = 0, sde = 0;
    for (let t = 0; t < len; t++) {
      const x = ds[t] - meanD, y = es[t] - meanE;
      sdd += x * x;
      see += y * y;
      sde += x * y;
    }
    total = merge(total, { count: len, meanD, meanE, sdd, see, sde });
    sumSqDiff += rowSq;
    while (nextPick < picks.length && picks[nextPick] < pairBase + len) {
      const t = picks[nextPick++] - pairBase;
      sample.d.push(ds[t]);
      sample.e.push(es[t]);
    }
    pairBase += len;
  }

  const rmsd = Math.sqrt(sumSqDiff / pairs);
  const slope = total.sdd > 0 ? total.sde / total.sdd : null;
  return {
    metrics: {
      pairs,
      zeroDistancePairs: zero,
      l1: zero < pairs ? rMin : null,
      l2: zero < pairs ? rMax : null,
      slope,
      intercept: slope === null ? null : total.meanE - slope * total.meanD,
      // R² of a one-regressor OLS fit is the squared correlation of d and e.
      r2: total.sdd > 0 && total.see > 0 ? (total.sde * total.sde) / (total.sdd * total.see) : null,
      rmsd,
      nrmsd: dMax > dMin ? rmsd / (dMax - dMin) : null,
      cvrmsd: total.meanD > 0 ? rmsd / total.meanD : null,
    },
    sample,
  };
}
