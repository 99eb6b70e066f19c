/**
 * cos and sin of t ∈ [0, 2π] as float64 values within `SINCOS_ERROR` (absolute) of V8's Math.cos
 * and Math.sin, about 4× faster: Box–Muller's cos and sin were half its cost (~26 ns each, calls
 * into C). Callers keep the bits of the exact functions by checking that the float32 they store is
 * the same across that error (src/augment/noise.ts, randomDirections in
 * src/methods/sliced_wasserstein.ts). t is reduced by a multiple of π/2 (q·π/2's head has 33
 * bits, so q·head is exact and t − q·head is exact by Sterbenz's lemma; the tail's rounding is
 * below 1e-16), then Taylor series on |y| ≤ π/4 to y^15 (sin) and y^16 (cos): remainders under
 * 5e-17, the Horner steps' roundings under 16·2^-53 since every partial sum is at most 1.
 */

/** Absolute error bound of `sinCosInto` against Math.sin and Math.cos (their own error included). */
export const SINCOS_ERROR = 2 ** -47;

const TWO_OVER_PI = 2 / Math.PI;
/** π/2 as fdlibm splits it: the first 33 bits, and the rest. */
const PIO2_HEAD = 1.57079632673412561417e+00, PIO2_TAIL = 6.07710050650619224932e-11;
const SHIFTER = 6755399441055744; // 1.5·2^52: (v + SHIFTER) − SHIFTER rounds v to an integer

/**
 * cos(t[i]) into c[i] and sin(t[i]) into s[i] for i < n, each within SINCOS_ERROR, for t in
 * [0, 2π] (the caller's range; beyond it the reduction's exactness argument does not hold).
 */
export function sinCosInto(t: Float64Array, n: number, c: Float64Array, s: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const x = t[i];
    const q = (x * TWO_OVER_PI + SHIFTER) - SHIFTER;
    const y = (x - q * PIO2_HEAD) - q * PIO2_TAIL;
    const z = y * y;
    const sy = y *
      (1 + z * (-1 / 6 + z * (1 / 120 + z * (-1 / 5040 + z * (1 / 362880 +
                        z * (-1 / 39916800 + z * (1 / 6227020800 + z * (-1 / 1307674368000))))))));
    const cy = 1 + z * (-1 / 2 + z * (1 / 24 + z * (-1 / 720 + z * (1 / 40320 + z * (-1 / 3628800 +
                          z * (1 / 479001600 + z * (-1 / 87178291200 + z * (1 / 20922789888000))))))));
    switch (q & 3) {
      case 0:
        c[i] = cy;
        s[i] = sy;
        break;
      case 1:
        c[i] = -sy;
        s[i] = cy;
        break;
      case 2:
        c[i] = -cy;
        s[i] = -sy;
        break;
      default:
        c[i] = sy;
        s[i] = -cy;
    }
  }
}
