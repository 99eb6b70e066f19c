/**
 * The CPU kernels' exponentials, bit for bit what `Math.exp` gives: logsumexp and its gradient run
 * 1.6–1.8× faster (benchmarks/transcendental_bench.ts). V8's `Math.exp` is a call into C (~10 ns);
 * the signed results pin its values, so a faster exp must give the same ones. Here a table-driven
 * polynomial (2^(j/32) times a degree-5 Taylor series on |r| ≤ ln2/64) gives exp(z) to within `NEAR_ERROR` (relative; docs/tensor.md has the bound).
 * Where the kernel rounds exp(z) to float32, the float32 that every value within `CHECK` (8× the
 * bound) of the polynomial rounds to is also what `Math.exp(z)` rounds to (its error is under a
 * double's ulp); where no single float32 covers that interval (about once in a million values),
 * `Math.exp` decides. A float64 sum of exponentials (logsumexp) is checked once per row the same
 * way (`logSumExpRows`). Each helper runs the polynomial and the check as two loops: one loop doing
 * both ran no faster than `Math.exp`.
 */

const SHIFTER = 6755399441055744; // 1.5·2^52: (v + SHIFTER) − SHIFTER rounds v to an integer
const K_PER_LN2 = 32 / Math.LN2;
/** ln2/32 as a head with 32 significant bits (k·head is exact for |k| < 2^21) and a tail. */
const LN2_32_HEAD = 6.93147180369123816490e-01 / 32, LN2_32_TAIL = 1.90821492927058770002e-10 / 32;
const TWO_J_32 = Float64Array.from({ length: 32 }, (_, j) => Math.pow(2, j / 32));
/** 2^m for m in [−255, 255], at m + 256. */
const TWO_M = Float64Array.from({ length: 512 }, (_, i) => Math.pow(2, i - 256));
/** Arguments outside (−FAST_LIMIT, FAST_LIMIT) (and NaN) go to Math.exp: 2^m stays in `TWO_M`. */
const FAST_LIMIT = 100;

/** Values per `expF32Into` call in long loops (its scratch arrays stay in cache). */
export const EXP_CHUNK = 4096;

/** The polynomial's relative error bound (docs/tensor.md: ≤ 2^-47.9 by analysis; 2^-48.5 measured). */
const NEAR_ERROR = 2 ** -46;
/** Half-width of the interval that must round to one float32 (8× `NEAR_ERROR`). */
const CHECK = 2 ** -43, BELOW = 1 - CHECK, ABOVE = 1 + CHECK;

let args = new Float64Array(4096), values = new Float64Array(4096), outside = new Int32Array(4096);

/** A reusable array for n arguments of `expF32Into` (module-level: one per thread). */
export function expArguments(n: number): Float64Array {
  if (args.length < n) args = new Float64Array(n);
  return args;
}

function valuesFor(n: number): Float64Array {
  if (values.length < n) values = new Float64Array(n);
  return values;
}

/**
 * p[i] = exp(z[i]) within `NEAR_ERROR` for i < n, exactly Math.exp outside (−FAST_LIMIT,
 * FAST_LIMIT) and for NaN. The polynomial loop clamps its argument and notes the few outside
 * (e.g. SimCLR's self mask, one per row), which are redone after it: with a Math.exp call in it,
 * the loop ran ~12 % slower.
 */
function expNearInto(z: Float64Array, n: number, p: Float64Array): void {
  if (outside.length < n) outside = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const z0 = z[i], x = Math.min(Math.max(z0, -FAST_LIMIT), FAST_LIMIT);
    const kf = (x * K_PER_LN2 + SHIFTER) - SHIFTER;
    const r = (x - kf * LN2_32_HEAD) - kf * LN2_32_TAIL;
    const k = kf | 0;
    const poly = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120)))));
    p[i] = poly * TWO_J_32[k & 31] * TWO_M[(k >> 5) + 256];
    if (!(z0 > -FAST_LIMIT && z0 < FAST_LIMIT)) outside[count++] = i;
  }
  for (let c = 0; c < count; c++) p[outside[c]] = Math.exp(z[outside[c]]);
}

/** out[o + i] = Math.fround(Math.exp(z[i])) for i < n, bit for bit. */
export function expF32Into(z: Float64Array, n: number, out: Float32Array, o: number): void {
  const p = valuesFor(n);
  expNearInto(z, n, p);
  for (let i = 0; i < n; i++) {
    const v = p[i], low = Math.fround(v * BELOW);
    // Math.exp(z) lies in [v·BELOW, v·ABOVE]: when both ends round alike, so does it.
    out[o + i] = low === Math.fround(v * ABOVE) ? low : Math.fround(Math.exp(z[i]));
  }
}

/**
 * For each row i < rows of a [rows, c] block at `base` whose mx[i] is finite (≥ every value of the
 * row): out[o + i] = Math.fround(mx + Math.log(s)), s = Σ_j Math.exp(a_ij − mx) summed in j order
 * in float64, bit for bit (logsumexp). Other rows are left alone. The polynomial's sum is within
 * ρ = NEAR_ERROR + c·2^-52 of that s (relative: the terms' errors plus both sums' roundings), so
 * its log within 2ρ; when the float32 is the same across that margin (and the logs' and the add's
 * roundings), it is the answer, else the row is summed again with Math.exp.
 */
export function logSumExpRows(
  a: Float32Array,
  base: number,
  rows: number,
  c: number,
  mx: Float64Array,
  out: Float32Array,
  o: number,
): void {
  const n = rows * c, z = expArguments(n), p = valuesFor(n);
  for (let i = 0; i < rows; i++) {
    const m = mx[i], b = base + i * c, zb = i * c;
    for (let j = 0; j < c; j++) z[zb + j] = a[b + j] - m;
  }
  expNearInto(z, n, p);
  const margin = 2 * (NEAR_ERROR + c * 2 ** -52);
  for (let i = 0; i < rows; i++) {
    const m = mx[i];
    if (!Number.isFinite(m)) continue;
    let s = 0;
    for (let j = i * c, end = j + c; j < end; j++) s += p[j];
    const log = Math.log(s), r = m + log;
    const eta = margin + 2 ** -50 * (Math.abs(log) + Math.abs(r) + 1);
    const low = Math.fround(r - eta);
    if (low === Math.fround(r + eta)) out[o + i] = low;
    else {
      let exact = 0;
      for (let j = 0, b = base + i * c; j < c; j++) exact += Math.exp(a[b + j] - m);
      out[o + i] = m + Math.log(exact);
    }
  }
}
