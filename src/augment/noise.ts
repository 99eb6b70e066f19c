/**
 * Gaussian noise for one view, drawn from the view's own counter-based stream: value k of the
 * image gets normal k of the stream, whatever else is in the batch. Box–Muller on each Philox
 * block gives two normals (cos and sin branches), blocks DRAW.noise + ⌊k/2⌋.
 */
import type { CounterRng } from "../rng/philox.ts";
import { DRAW } from "./params.ts";

/** Adds std·N(0, 1) to each value of `values` in place (draw k → values[k]). */
export function addGaussianNoise(values: Float32Array, std: number, rng: CounterRng): void {
  if (std === 0) return;
  for (let k = 0; k < values.length; k += 2) {
    const b = rng.block(DRAW.noise + k / 2);
    const u1 = ((b[0] >>> 5) * 67108864 + (b[1] >>> 6) + 1) / 9007199254740993; // (0, 1]: log is finite
    const u2 = ((b[2] >>> 5) * 67108864 + (b[3] >>> 6)) / 9007199254740992; // [0, 1)
    const r = std * Math.sqrt(-2 * Math.log(u1)), t = 2 * Math.PI * u2;
    values[k] += r * Math.cos(t);
    if (k + 1 < values.length) values[k + 1] += r * Math.sin(t);
  }
}
