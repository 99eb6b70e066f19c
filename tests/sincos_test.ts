/**
 * The Box–Muller draws with the fast cos and sin (src/rng/sincos.ts) against the formulas they
 * stand for, with Math.cos and Math.sin, bit for bit: Gaussian noise on images (including sums
 * placed on float32 midpoints, where Math.cos must decide) and WaCo's random directions. And the
 * fast cos and sin within their stated error.
 */
import assert from "node:assert/strict";
import { SINCOS_ERROR, sinCosInto } from "../src/rng/sincos.ts";
import { addGaussianNoise } from "../src/augment/noise.ts";
import { randomDirections } from "../src/methods/sliced_wasserstein.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { noiseUniforms, referenceDirections, referenceNoise } from "./fixtures/exact_numerics.ts";

const bits = (a: Float32Array) => Array.from(new Int32Array(a.buffer));

Deno.test("sincos: within SINCOS_ERROR of Math.cos and Math.sin over [0, 2π]", () => {
  const n = 1_000_000, t = new Float64Array(n), c = new Float64Array(n), s = new Float64Array(n);
  const rng = new CounterRng(21, "sincos");
  for (let i = 0; i < n; i++) t[i] = 2 * Math.PI * rng.uniform(i);
  t.set([0, Number.MIN_VALUE, 1e-300, Math.PI / 4, Math.PI / 2, Math.PI, 3 * Math.PI / 2, 2 * Math.PI]);
  sinCosInto(t, n, c, s);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    worst = Math.max(worst, Math.abs(c[i] - Math.cos(t[i])), Math.abs(s[i] - Math.sin(t[i])));
  }
  assert.ok(worst <= SINCOS_ERROR / 8, `worst error ${worst}`);
});

Deno.test("sincos: Gaussian noise equals Math.cos and Math.sin's, bit for bit", () => {
  for (let i = 0; i < 1500; i++) {
    const n = 783 + (i % 3); // odd lengths end on a lone cos branch
    const base = new Float32Array(n).map((_, j) => Math.fround(Math.sin(i * 31 + j) * 3));
    const std = [2, 1, 0.1, 1e-3, 50][i % 5];
    const want = base.slice(), got = base.slice();
    referenceNoise(want, std, new CounterRng(i, "augment", "train", i, 3));
    addGaussianNoise(got, std, new CounterRng(i, "augment", "train", i, 3));
    assert.deepEqual(bits(got), bits(want), `image ${i}`);
  }
});

Deno.test("sincos: noise sums on float32 midpoints take Math.cos's rounding", () => {
  // With std chosen so that std·r·cos(t) of the first draw is a float32 midpoint, a zero pixel's
  // sum lies within the fast cos's error of the midpoint: only Math.cos can round it.
  const f = new Float32Array(2), u = new Uint32Array(f.buffer);
  for (let i = 0; i < 2000; i++) {
    const rng = new CounterRng(i, "midpoint");
    const [u1, u2] = noiseUniforms(rng, 0);
    const rc = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    f[0] = Math.fround(0.001 + i);
    u[1] = u[0] + 1;
    const mid = (f[0] + f[1]) / 2, std = mid / rc;
    const want = new Float32Array(1), got = new Float32Array(1);
    referenceNoise(want, std, rng);
    addGaussianNoise(got, std, rng);
    assert.deepEqual(bits(got), bits(want), `draw ${i}`);
  }
});

Deno.test("sincos: WaCo's directions equal Math.cos and Math.sin's, bit for bit", () => {
  for (const dim of [1, 2, 3, 7, 256, 768]) {
    for (let i = 0; i < 8; i++) {
      const want = referenceDirections(new CounterRng(i, "waco", dim), 250, dim);
      const got = randomDirections(new CounterRng(i, "waco", dim), 250, dim);
      assert.deepEqual(bits(got), bits(want), `dim ${dim}, stream ${i}`);
    }
  }
});
