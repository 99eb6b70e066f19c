/**
 * The CPU kernels' exponentials (src/tensor/backends/cpu_exp.ts) against Math.exp, bit for bit:
 * float32-rounded exps on random arguments over the whole float32 range and beyond, on the edge
 * values, and on arguments whose exp lies within a double's rounding of a float32 midpoint (where
 * the polynomial cannot decide and Math.exp must); logsumexp (a float64 sum of exps per row) and
 * its gradient on rows of 10 to 2047 values.
 */
import assert from "node:assert/strict";
import { EXP_CHUNK, expArguments, expF32Into } from "../src/tensor/backends/cpu_exp.ts";
import { bitsOf, logsumexpGradInto, logsumexpInto } from "../src/tensor/backends/cpu_elementwise.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { referenceLogsumexp } from "./fixtures/exact_numerics.ts";

/** Indices where `got` and Math.fround(Math.exp(z)) differ in bits (NaN equal to NaN). */
function mismatches(z: ArrayLike<number>, got: Float32Array): number[] {
  const bad: number[] = [];
  for (let i = 0; i < z.length; i++) {
    const want = Math.fround(Math.exp(z[i]));
    if (!Object.is(want, got[i]) && !(want !== want && got[i] !== got[i])) bad.push(i);
  }
  return bad;
}

function expF32(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let start = 0; start < values.length; start += EXP_CHUNK) {
    const m = Math.min(EXP_CHUNK, values.length - start), z = expArguments(m);
    for (let i = 0; i < m; i++) z[i] = values[start + i];
    expF32Into(z, m, out, start);
  }
  return out;
}

Deno.test("cpu exp: float32 exps equal Math.fround(Math.exp) on 2 M random arguments", () => {
  const rng = new CounterRng(11, "cpu-exp");
  const z = new Float64Array(2_000_000);
  for (let i = 0; i < z.length; i++) {
    const u = rng.uniform(i);
    // float32 arguments over [−120, 100] (underflow to 0, subnormals, overflow to Infinity), and
    // float64 ones near 0 (the kernels pass both).
    z[i] = i % 2 === 0 ? Math.fround(-120 + 220 * u) : (u - 0.5) * 4;
  }
  assert.deepEqual(mismatches(z, expF32(z)), []);
});

Deno.test("cpu exp: edge arguments", () => {
  const z = [
    0,
    -0,
    1,
    -1,
    1e-30,
    -1e-30,
    Math.LN2 / 64,
    -Math.LN2 / 64,
    88.7,
    88.72283,
    88.7229,
    89,
    -87.33655,
    -103.2789,
    -103.97208,
    -104,
    -99.99999,
    -100,
    99.99999,
    100,
    1000,
    -1000,
    Infinity,
    -Infinity,
    NaN,
    Number.MIN_VALUE,
    -Number.MAX_VALUE,
  ];
  assert.deepEqual(mismatches(z, expF32(z)), []);
});

Deno.test("cpu exp: arguments whose exp sits on a float32 midpoint take Math.exp's rounding", () => {
  // exp(log(m)) is within a few double ulps of m, the midpoint of two adjacent float32 values:
  // the polynomial's interval straddles it, so Math.exp must decide.
  const rng = new CounterRng(12, "cpu-exp-midpoints");
  const z: number[] = [];
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; z.length < 20_000; i++) {
    f[0] = Math.fround(Math.exp(-90 + 178 * rng.uniform(i)));
    const lowValue = f[0];
    u[0] += 1;
    const mid = (lowValue + f[0]) / 2;
    for (const d of [-2, -1, 0, 1, 2]) z.push(Math.log(mid) + d * Number.EPSILON * Math.abs(Math.log(mid)));
  }
  assert.deepEqual(mismatches(z, expF32(z)), []);
});

Deno.test("cpu exp: logsumexp and its gradient equal Math.exp's, rows of 10 to 2047 values", () => {
  const rng = new CounterRng(13, "cpu-exp-rows");
  let draw = 0;
  for (const c of [10, 64, 1000, 2047]) {
    for (const spread of [0.001, 1, 30, 200]) {
      const r = 300;
      const a = new Float32Array(r * c);
      for (let i = 0; i < a.length; i++) a[i] = Math.fround(spread * (rng.uniform(draw++) - 0.5));
      a[3] = -Infinity; // a masked entry: exp gives exactly 0
      a.fill(-Infinity, c, 2 * c); // a row of −∞, one with +∞ and one with NaN
      a[2 * c + 1] = Infinity;
      a[3 * c + 2] = NaN;
      const got = new Float32Array(r);
      logsumexpInto(a, r, c, got);
      assert.deepEqual(bitsOf(got), bitsOf(referenceLogsumexp(a, r, c)), `c ${c} spread ${spread}`);

      const y = got.map((v) => (Number.isFinite(v) ? v : 0)),
        g = new Float32Array(r).map((_, i) => 1 + i / r);
      const grad = new Float32Array(r * c), want = new Float32Array(r * c);
      logsumexpGradInto(a, r, c, y, g, grad);
      for (let i = 0; i < r * c; i++) {
        const row = Math.floor(i / c);
        want[i] = Math.fround(Math.exp(Math.fround(a[i] - y[row]))) * g[row];
      }
      assert.deepEqual(bitsOf(grad), bitsOf(want), `gradient, c ${c} spread ${spread}`);
    }
  }
});
