/**
 * Gaussian noise for one view, drawn from the view's own counter-based stream: value k of the
 * image gets normal k of the stream, whatever else is in the batch. Box–Muller on each Philox
 * block gives two normals (cos and sin branches), blocks DRAW.noise + ⌊k/2⌋.
 */
import type { CounterRng } from "../rng/philox.ts";
import { DRAW } from "./params.ts";
import { SINCOS_ERROR, sinCosInto } from "../rng/sincos.ts";

let radius = new Float64Array(0), angle = new Float64Array(0);
let cosine = new Float64Array(0), sine = new Float64Array(0);

/**
 * Adds std·N(0, 1) to each value of `values` in place (draw k → values[k]): values[k] =
 * fround(values[k] + r·cos(t)) and values[k + 1] = fround(values[k + 1] + r·sin(t)), with r =
 * std·sqrt(−2 log u1) and t = 2π·u2 from block k/2, and Math.cos and Math.sin's bits. The cos and
 * sin come from `sinCosInto`, and each sum is kept where every value within the bound on its
 * difference from the exact one rounds to the same float32 (which the exact sum then also rounds
 * to); elsewhere (about once in 10^6) Math.cos or Math.sin decides. Two loops: the draws, then the
 * sums.
 */
export function addGaussianNoise(values: Float32Array, std: number, rng: CounterRng): void {
  if (std === 0) return;
  const n = values.length, pairs = Math.ceil(n / 2);
  if (radius.length < pairs) {
    [radius, angle, cosine, sine] = [0, 1, 2, 3].map(() => new Float64Array(pairs));
  }
  const r = radius, t = angle, c = cosine, s = sine;
  for (let h = 0; h < pairs; h++) {
    const b = rng.block(DRAW.noise + h);
    const u1 = ((b[0] >>> 5) * 67108864 + (b[1] >>> 6) + 1) / 9007199254740993; // (0, 1]: log is finite
    const u2 = ((b[2] >>> 5) * 67108864 + (b[3] >>> 6)) / 9007199254740992; // [0, 1)
    r[h] = std * Math.sqrt(-2 * Math.log(u1));
    t[h] = 2 * Math.PI * u2;
  }
  sinCosInto(t, pairs, c, s);
  for (let h = 0; h < pairs; h++) {
    const k = 2 * h, rh = r[h];
    // |r·c̃ − r·cos| ≤ |r|·SINCOS_ERROR, plus both products' and both sums' roundings.
    const slack = Math.abs(rh) * 2 * SINCOS_ERROR;
    let v = values[k], x = v + rh * c[h], eta = slack + Math.abs(x) * 2 ** -50;
    let low = Math.fround(x - eta);
    values[k] = low === Math.fround(x + eta) ? low : v + rh * Math.cos(t[h]);
    if (k + 1 === n) break;
    v = values[k + 1];
    x = v + rh * s[h];
    eta = slack + Math.abs(x) * 2 ** -50;
    low = Math.fround(x - eta);
    values[k + 1] = low === Math.fround(x + eta) ? low : v + rh * Math.sin(t[h]);
  }
}
