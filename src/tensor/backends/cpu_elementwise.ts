/**
 * The CPU backend's elementwise kernels: broadcast binary ops, unary ops, fused passes (bias+relu,
 * relu's gradient, logsumexp and its gradient) and AdamW as tight loops.
 */
import type { AdamWStep, BinaryOp, UnaryOp } from "../backend.ts";
import { EXP_CHUNK, expArguments, expF32Into, logSumExpRows } from "./cpu_exp.ts";

const ADD = 0, SUB = 1, MUL = 2, DIV = 3, MAX = 4, MIN = 5;
export const BINARY_CODES: Record<BinaryOp, number> = {
  add: ADD,
  sub: SUB,
  mul: MUL,
  div: DIV,
  max: MAX,
  min: MIN,
};

/**
 * out[o + j] = a[ai + j·sa] ∘ b[bi + j·sb] for j < n, where sa, sb ∈ {0, 1} (0: the operand is
 * one value broadcast over the run). One loop per (op, sa, sb); no per-element dispatch.
 */
export function binaryRun(
  op: number,
  out: Float32Array,
  o: number,
  a: Float32Array,
  ai: number,
  sa: number,
  b: Float32Array,
  bi: number,
  sb: number,
  n: number,
): void {
  const x = a[ai], y = b[bi];
  switch (op) {
    case ADD:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] + b[bi + j]; }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] + y; }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = x + b[bi + j]; }
      else out.fill(x + y, o, o + n);
      return;
    case SUB:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] - b[bi + j]; }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] - y; }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = x - b[bi + j]; }
      else out.fill(x - y, o, o + n);
      return;
    case MUL:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] * b[bi + j]; }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] * y; }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = x * b[bi + j]; }
      else out.fill(x * y, o, o + n);
      return;
    case DIV:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] / b[bi + j]; }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] / y; }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = x / b[bi + j]; }
      else out.fill(x / y, o, o + n);
      return;
    case MAX:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = Math.max(a[ai + j], b[bi + j]); }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = Math.max(a[ai + j], y); }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = Math.max(x, b[bi + j]); }
      else out.fill(Math.max(x, y), o, o + n);
      return;
    case MIN:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = Math.min(a[ai + j], b[bi + j]); }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = Math.min(a[ai + j], y); }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = Math.min(x, b[bi + j]); }
      else out.fill(Math.min(x, y), o, o + n);
      return;
  }
}

/** The raw bits of a float array, as int32. */
export function bitsOf(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** x^e for an integer e by binary exponentiation in float64 (exact signs: (-2)^3 = -8). */
function intPow(x: number, e: number): number {
  let n = e < 0 ? -e : e;
  let r = 1, base = x;
  while (n > 0) {
    if (n & 1) r *= base;
    n >>>= 1;
    if (n > 0) base *= base;
  }
  return e < 0 ? 1 / r : r;
}

/**
 * relu on float bits over [o, o + n), from `ab` into `ob` (may be the same): branch-free (a
 * data-dependent branch mispredicts half the time on signed data, ~6× slower): keep x when the sign
 * is clear or x is NaN, else +0.
 */
function reluBits(ab: Int32Array, ob: Int32Array, o: number, n: number): void {
  for (let i = o; i < o + n; i++) {
    const u = ab[i];
    const nan = ~(((u & 0x7fffffff) - 0x7f800001) >> 31);
    ob[i] = u & (~(u >> 31) | nan);
  }
}

/**
 * out = relu(a + bias), a [r, c], bias [1, c]: each row's float32 sums are stored, then relu'd on
 * their bits while the row is in cache, exactly as the add and relu kernels would in two passes.
 */
export function biasReluInto(
  a: Float32Array,
  r: number,
  c: number,
  bias: Float32Array,
  out: Float32Array,
): void {
  const ob = bitsOf(out);
  for (let i = 0; i < r; i++) {
    const o = i * c;
    for (let j = 0; j < c; j++) out[o + j] = a[o + j] + bias[j];
    reluBits(ob, ob, o, c);
  }
}

/**
 * The step kernel on a float32's bits u (as int32): 1 exactly when 0 < u ≤ +Inf's bits (positive,
 * not ±0, not NaN), else 0. Branch-free: a branch on signed data mispredicts half the time.
 */
export function stepOfBits(u: number): number {
  return 1 - (((u - 1) | (0x7f800000 - u)) >>> 31);
}

/** out = g · step(t): the step as in `unaryInto`'s "step", the product rounded like `binaryRun`'s mul. */
export function reluGradInto(g: Float32Array, t: Float32Array, out: Float32Array, n: number): void {
  const tb = bitsOf(t);
  for (let i = 0; i < n; i++) out[i] = g[i] * stepOfBits(tb[i]);
}

let maxima = new Float64Array(256);

/** A reusable array for n row maxima (one per thread: a classifier step would allocate one). */
function rowMaxima(n: number): Float64Array {
  if (maxima.length < n) maxima = new Float64Array(n);
  return maxima;
}

/** Row-wise log Σ_j exp(a_ij) of a [r, c], stable (max subtracted), NaN where a row has one. */
export function logsumexpInto(A: Float32Array, r: number, c: number, out: Float32Array): void {
  // Blocks of whole rows, so that short rows (a classifier's 10 logits) share one exp pass.
  const rowsPer = Math.max(1, Math.floor(EXP_CHUNK / c)), mx = rowMaxima(Math.min(r, rowsPer));
  for (let i0 = 0; i0 < r; i0 += rowsPer) {
    const i1 = Math.min(r, i0 + rowsPer);
    for (let i = i0; i < i1; i++) {
      const base = i * c;
      let m = -Infinity, nan = false;
      for (let j = 0; j < c; j++) {
        const v = A[base + j];
        if (v > m) m = v;
        else if (v !== v) nan = true;
      }
      if (nan) out[i] = NaN;
      else if (m === -Infinity || m === Infinity) out[i] = m; // all -inf (or c = 0), or some +inf
      mx[i - i0] = nan ? NaN : m; // logSumExpRows skips the rows with a non-finite max
    }
    logSumExpRows(A, i0 * c, i1 - i0, c, mx, out, i0);
  }
}

/**
 * out = exp(x − y) · g for x [r, c], y and g [r, 1] (logsumexp's gradient), each step rounded to
 * float32 as the sub, exp and mul kernels round it in three; blocks of whole rows share one exp pass.
 */
export function logsumexpGradInto(
  x: Float32Array,
  r: number,
  c: number,
  y: Float32Array,
  g: Float32Array,
  out: Float32Array,
): void {
  const rowsPer = Math.max(1, Math.floor(EXP_CHUNK / c));
  for (let i0 = 0; i0 < r; i0 += rowsPer) {
    const i1 = Math.min(r, i0 + rowsPer), z = expArguments((i1 - i0) * c);
    for (let i = i0; i < i1; i++) {
      const yi = y[i], o = i * c, zo = (i - i0) * c;
      for (let j = 0; j < c; j++) z[zo + j] = Math.fround(x[o + j] - yi);
    }
    expF32Into(z, (i1 - i0) * c, out, i0 * c);
    for (let i = i0; i < i1; i++) {
      const gi = g[i], o = i * c;
      for (let j = 0; j < c; j++) out[o + j] = out[o + j] * gi;
    }
  }
}

/**
 * AdamW in place: the documented formula term by term, in float64; m and v are stored rounded to
 * float32, the parameter update uses their float64 values. The bias corrections multiply by
 * reciprocals instead of dividing (two of three divisions per value, ~12 % of the loop): that
 * update is within 2^-49 of the formula's (relative; a dozen roundings of 2^-53), and the new
 * parameter is kept where every value within 2^-47·|update| of it (plus the subtraction's
 * rounding) rounds to the same float32, which the formula's value then also rounds to; elsewhere
 * (about once in 10^7 values) the formula decides.
 */
export function adamwInto(
  P: Float32Array,
  G: Float32Array,
  M: Float32Array,
  V: Float32Array,
  length: number,
  h: AdamWStep,
): void {
  const { lr, beta1, beta2, eps, weightDecay, step } = h;
  const b1c = 1 - beta1, b2c = 1 - beta2;
  const bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
  const decay = lr * weightDecay, inv1 = 1 / bc1, inv2 = 1 / bc2;
  for (let i = 0; i < length; i++) {
    const g = G[i], p = P[i];
    const mi = beta1 * M[i] + b1c * g;
    const vi = beta2 * V[i] + b2c * g * g;
    M[i] = mi;
    V[i] = vi;
    const update = lr * (mi * inv1) / (Math.sqrt(vi * inv2) + eps), x = p - decay * p - update;
    const eta = Math.abs(update) * 2 ** -47 + Math.abs(x) * 2 ** -51, low = Math.fround(x - eta);
    P[i] = low === Math.fround(x + eta) ? low : p - decay * p - lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
  }
}

export function unaryInto(op: UnaryOp, a: Float32Array, out: Float32Array, n: number, param: number): void {
  switch (op) {
    case "neg":
      for (let i = 0; i < n; i++) out[i] = -a[i];
      return;
    case "relu": {
      reluBits(bitsOf(a), bitsOf(out), 0, n);
      return;
    }
    case "exp":
      for (let start = 0; start < n; start += EXP_CHUNK) {
        const m = Math.min(EXP_CHUNK, n - start), z = expArguments(m);
        for (let i = 0; i < m; i++) z[i] = a[start + i];
        expF32Into(z, m, out, start);
      }
      return;
    case "log":
      for (let i = 0; i < n; i++) out[i] = Math.log(a[i]);
      return;
    case "sqrt":
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(a[i]);
      return;
    case "abs":
      for (let i = 0; i < n; i++) out[i] = Math.abs(a[i]);
      return;
    case "sign": {
      // Branch-free: ±1 carrying x's sign bit, +0 for ±0, NaN kept.
      const ab = bitsOf(a), ob = bitsOf(out);
      for (let i = 0; i < n; i++) {
        const u = ab[i], mag = u & 0x7fffffff;
        const nan = ~((mag - 0x7f800001) >> 31), nonzero = ~((mag - 1) >> 31);
        ob[i] = (u & nan) | (~nan & nonzero & (0x3f800000 | (u & -0x80000000)));
      }
      return;
    }
    case "step": {
      const ab = bitsOf(a);
      for (let i = 0; i < n; i++) out[i] = stepOfBits(ab[i]);
      return;
    }
    case "scale":
      for (let i = 0; i < n; i++) out[i] = a[i] * param;
      return;
    case "shift":
      for (let i = 0; i < n; i++) out[i] = a[i] + param;
      return;
    case "pow":
      if (param === 1) out.set(a.subarray(0, n));
      else if (param === 2) {
        for (let i = 0; i < n; i++) {
          const v = a[i];
          out[i] = v * v;
        }
      } else if (Number.isInteger(param) && Math.abs(param) <= 1024) {
        for (let i = 0; i < n; i++) out[i] = intPow(a[i], param);
      } else {
        // Math.pow already gives NaN for a negative base and a non-integer exponent.
        for (let i = 0; i < n; i++) out[i] = Math.pow(a[i], param);
      }
      return;
    default:
      throw new Error(`cpu.unary: unknown op "${op satisfies never}"`);
  }
}
