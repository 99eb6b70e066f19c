/**
 * Inputs and error measures of the loss tests; the backends are the shared ones of
 * tests/helpers.ts.
 */
import { CounterRng } from "../../src/rng/philox.ts";

export { cpuBackend, webgpuBackend } from "../helpers.ts";

/** Seeded standard normals (float32) from the stream (0, "loss-tests", label). */
export function normals(label: string, n: number, std = 1, mean = 0): Float32Array {
  return new CounterRng(0, "loss-tests", label).normals(n, mean, std);
}

/** A seeded permutation of 0..n−1. */
export function permutation(label: string, n: number): Int32Array {
  return new CounterRng(0, "loss-tests", label).permutation(n);
}

/** max |got − want| / max |want|: the error relative to the largest reference value. */
export function relMaxError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`relMaxError: ${got.length} vs ${want.length} values`);
  let e = 0, s = 0;
  for (let i = 0; i < got.length; i++) {
    e = Math.max(e, Math.abs(got[i] - want[i]));
    s = Math.max(s, Math.abs(want[i]));
  }
  return e / (s || 1);
}
