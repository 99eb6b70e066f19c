/**
 * The CPU kernels' exponentials (src/tensor/backends/cpu_exp.ts) against Math.exp, bit for bit:
 * float32-rounded exps on random arguments over the whole float32 range and beyond, on the edge
 * values, and on arguments whose exp lies within a double's rounding of a float32 midpoint (where
 * the polynomial cannot decide and Math.exp must); logsumexp rows summed in float64.
 */
import assert from "node:assert/strict";
import { EXP_CHUNK, expArguments, expF32Into, logSumExpRow } from "../src/tensor/backends/cpu_exp.ts";
import { CounterRng } from "../src/rng/philox.ts";

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

Deno.test("cpu exp: logsumexp rows equal the float64 sum of Math.exp", () => {
  const rng = new CounterRng(13, "cpu-exp-rows");
  let draw = 0;
  for (const c of [64, 1000, 2047]) {
    for (const spread of [0.001, 1, 30, 200]) {
      const rows = 200;
      const a = new Float32Array(rows * c);
      for (let i = 0; i < a.length; i++) a[i] = Math.fround(spread * (rng.uniform(draw++) - 0.5));
      a[3] = -Infinity; // a masked entry: exp gives exactly 0
      for (let r = 0; r < rows; r++) {
        const base = r * c;
        let mx = -Infinity;
        for (let j = 0; j < c; j++) if (a[base + j] > mx) mx = a[base + j];
        let s = 0;
        for (let j = 0; j < c; j++) s += Math.exp(a[base + j] - mx);
        assert.equal(
          logSumExpRow(a, base, c, mx),
          Math.fround(mx + Math.log(s)),
          `c ${c} spread ${spread} row ${r}`,
        );
      }
    }
  }
});
