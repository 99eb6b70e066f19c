/**
 * Summary statistics over seeds: mean, sample standard deviation and the two-sided 95 %
 * confidence interval of the mean from Student's t distribution (n − 1 degrees of freedom).
 */

/** ln Γ(x) by the Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0. */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta function (Numerical Recipes' betacf). */
function betacf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 / (Math.abs(1 + aa * d) < tiny ? tiny : 1 + aa * d);
    c = Math.abs(1 + aa / c) < tiny ? tiny : 1 + aa / c;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 / (Math.abs(1 + aa * d) < tiny ? tiny : 1 + aa * d);
    c = Math.abs(1 + aa / c) < tiny ? tiny : 1 + aa / c;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betacf(a, b, x)) / a : 1 - (front * betacf(b, a, 1 - x)) / b;
}

/** CDF of Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const t2 = t * t;
  if (t2 < df) {
    // Near 0: P(|T| < |t|) = I_{t²/(df+t²)}(1/2, df/2), free of the rounding of df/(df+t²) to 1.
    const half = 0.5 * incompleteBeta(t2 / (df + t2), 0.5, df / 2);
    return t >= 0 ? 0.5 + half : 0.5 - half;
  }
  const p = 0.5 * incompleteBeta(df / (df + t2), df / 2, 0.5);
  return t >= 0 ? 1 - p : p;
}

/** The q-quantile of Student's t (bisection on the CDF; exact to ~1e-12). */
export function studentTQuantile(q: number, df: number): number {
  if (!(q > 0 && q < 1)) throw new RangeError(`quantile ${q}: expected 0 < q < 1`);
  if (!(df > 0)) throw new RangeError(`degrees of freedom ${df}: expected > 0`);
  // Widen the bracket until it holds the quantile (heavy tails: t_{0.9999}(1) ≈ 3183).
  let lo = -1, hi = 1;
  while (studentTCdf(lo, df) > q) lo *= 2;
  while (studentTCdf(hi, df) < q) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  sd: number;
  /** 95 % CI of the mean; equal to [mean, mean] for a single value (no spread is known). */
  ci95: [number, number];
}

/** Mean, sd and 95 % CI of `values` (NaN entries are not allowed: report failures separately). */
export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) throw new RangeError("summarize: no values");
  if (values.some((v) => !Number.isFinite(v))) throw new RangeError("summarize: non-finite value");
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { n, mean, sd: 0, ci95: [mean, mean] };
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const half = studentTQuantile(0.975, n - 1) * sd / Math.sqrt(n);
  return { n, mean, sd, ci95: [mean - half, mean + half] };
}

/**
 * What `±` means wherever a mean is shown with it (result.md, the leaderboard), with the seed
 * counts n of the rows shown (n counts the seeds that finished).
 */
export function plusMinusText(ns: readonly number[]): string {
  const distinct = [...new Set(ns)].sort((a, b) => a - b);
  const n = distinct.length === 0
    ? "n"
    : distinct.length === 1
    ? `n = ${distinct[0]}`
    : `n = ${distinct.join(", ")} by row`;
  return `± is the half-width of the 95 % confidence interval of the mean over n seeds (Student t, n − 1 ` +
    `degrees of freedom; ${n}, counting the seeds that finished); a single seed shows no ±.`;
}
