/**
 * Sanity properties of the adapter losses: SWC ≈ 1 for Y = X and ≈ 0 for independent X, Y at large
 * n; SW(A, A) = 0; HSIC ≥ 0 and = 0 for a constant Y; WaCo reproducible from (seed, step); the
 * median bandwidth the same on the host and on the device path; parameter specs and errors.
 */
import { ConfigError, TensorError } from "../src/errors.ts";
import assert from "node:assert/strict";
import type { Backend } from "../src/tensor/backend.ts";
import { tensor } from "../src/tensor/ops.ts";
import { type Tensor, tidy } from "../src/tensor/tensor.ts";
import { hsic, medianDistance, upperTriangleRanks } from "../src/methods/losses/hsic.ts";
import { simclrLoss } from "../src/methods/losses/simclr.ts";
import { vicregLoss } from "../src/methods/losses/vicreg.ts";
import { swcTerms, wacoDraws, wacoLoss } from "../src/methods/losses/waco.ts";
import { resolveParams } from "../src/catalog/entries.ts";
import { LOSSES, lossFor } from "../src/methods/losses/index.ts";
import { directionsTensor, randomDirections, swDistance } from "../src/methods/sliced_wasserstein.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { cpuBackend, normals } from "./golden/losses_backends.ts";
import * as ref from "./golden/losses_reference.ts";
import { pairwiseSqDist } from "../src/tensor/ops.ts";

function values(fn: () => Tensor[]): number[] {
  const ts = tidy(fn);
  const out = ts.map((t) => t.toArraySync()[0]);
  ts.forEach((t) => t.dispose());
  return out;
}

function t(data: Float32Array, cols: number, backend: Backend = cpuBackend()): Tensor {
  return tensor(data, [data.length / cols, cols], { backend });
}

Deno.test("SWC(X, X) is close to 1; SWC of independent X, Y is close to 0 and shrinks with n", () => {
  const d = 4, P = 200;
  const swcOf = (n: number, seed: number, mix: number) => {
    const x = new CounterRng(seed, "prop-x").normals(n * d),
      e = new CounterRng(seed, "prop-y").normals(n * d);
    const y = x.map((v, i) => mix * v + Math.sqrt(1 - mix * mix) * e[i]);
    return values(() => [swcTerms(t(x, d), t(y, d), wacoDraws(seed, 0, n, d, d, P)).swc])[0];
  };
  for (let seed = 0; seed < 3; seed++) {
    const same = swcOf(2000, seed, 1);
    assert.ok(same > 0.85 && same < 1.2, `SWC(X, X) = ${same}, expected ≈ 1 (Monte Carlo error ~10 %)`);
  }
  const indSmall = swcOf(300, 0, 0), indLarge = swcOf(4000, 0, 0), dependent = swcOf(4000, 0, 0.8);
  assert.ok(indLarge < 0.2, `SWC of independent X, Y at n = 4000 is ${indLarge}; expected ≈ 0`);
  assert.ok(indLarge < 0.6 * indSmall, `independent SWC did not shrink with n: ${indSmall} → ${indLarge}`);
  assert.ok(dependent > 2.5 * indLarge, `dependent SWC ${dependent} vs independent ${indLarge}`);
});

Deno.test("SW(A, A) = 0 and SW is symmetric (tensor form)", () => {
  const n = 50, d = 6, P = 40;
  const a = normals("prop-sw-a", n * d), b = normals("prop-sw-b", n * d, 2);
  const dirs = randomDirections(new CounterRng(0, "prop-sw"), P, d);
  const [aa, ab, ba] = values(() => {
    const dt = directionsTensor(dirs, P, d, cpuBackend());
    return [
      swDistance(t(a, d), t(a, d), dt),
      swDistance(t(a, d), t(b, d), dt),
      swDistance(t(b, d), t(a, d), dt),
    ];
  });
  assert.equal(aa, 0);
  assert.ok(ab > 0);
  assert.ok(Math.abs(ab - ba) <= 1e-6 * ab, `SW(a, b) = ${ab}, SW(b, a) = ${ba}`);
});

Deno.test("HSIC ≥ 0, and exactly 0 for a constant Y", () => {
  const n = 40, d = 5;
  const x = normals("prop-hsic-x", n * d);
  for (let k = 0; k < 5; k++) {
    const y = normals(`prop-hsic-y${k}`, n * 3);
    const [h, hb] = values(() => [hsic(t(x, d), t(y, 3)), hsic(t(x, d), t(y, 3), 0.5 + k)]);
    assert.ok(h >= 0 && hb >= 0, `HSIC ${h}, ${hb}`);
  }
  const constant = new Float32Array(n * 3).fill(0.75);
  const [h0, h0b] = values(() => [hsic(t(x, d), t(constant, 3)), hsic(t(x, d), t(constant, 3), 2)]);
  assert.equal(h0, 0);
  assert.equal(h0b, 0);
  // Dependence is detected: Y a function of X scores well above independent Y.
  const yDep = new Float32Array(n * 3).map((_, i) => Math.tanh(x[Math.floor(i / 3) * d + (i % 3)]));
  const [hDep, hInd] = values(
    () => [hsic(t(x, d), t(yDep, 3)), hsic(t(x, d), t(normals("prop-hsic-ind", n * 3), 3))],
  );
  assert.ok(hDep > 3 * hInd, `HSIC dependent ${hDep} vs independent ${hInd}`);
});

/** The cpu backend without synchronous reads, so losses take their device-side paths. */
function asyncOnly(backend: Backend): Backend {
  return new Proxy(backend, {
    get(target, key) {
      if (key === "readSync") return undefined;
      const v = Reflect.get(target, key, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

Deno.test("median bandwidth: host path = device path = float64 median", async () => {
  const dev = asyncOnly(cpuBackend());
  for (const n of [9, 12]) { // n(n−1)/2 = 36 (even: mean of two middle values) and 66
    const x = normals(`prop-median-${n}`, n * 3);
    const [host] = values(() => [medianDistance(pairwiseSqDist(t(x, 3), t(x, 3)))]);
    const [devT] = tidy(() => [medianDistance(pairwiseSqDist(t(x, 3, dev), t(x, 3, dev)))]);
    const device = await devT.item();
    devT.dispose();
    const want = ref.medianDistance(ref.m64(n, 3, x));
    assert.ok(Math.abs(host - want) <= 1e-5 * want, `host ${host} vs ${want}`);
    assert.ok(Math.abs(device - host) <= 1e-6 * want, `device ${device} vs host ${host}`);
  }
  const odd = normals("prop-median-odd", 3 * 2); // 3 points: 3 pairs, the middle one
  const [m3] = values(() => [medianDistance(pairwiseSqDist(t(odd, 2), t(odd, 2)))]);
  assert.ok(Math.abs(m3 - ref.medianDistance(ref.m64(3, 2, odd))) < 1e-5);
});

Deno.test("median bandwidth of diverged outputs is NaN on both paths, as on the device, not a throw", async () => {
  // A diverging adapter's outputs turn to NaN; the loss must become NaN (a diverged row), not stop the run.
  const x = new Float32Array(6 * 3).fill(NaN);
  const nan = (backend: Backend) => tensor(x, [6, 3], { backend, allowNonFinite: true });
  const [host] = values(() => [medianDistance(pairwiseSqDist(nan(cpuBackend()), nan(cpuBackend())))]);
  const [devT] = tidy(() => {
    const dev = asyncOnly(cpuBackend());
    return [medianDistance(pairwiseSqDist(nan(dev), nan(dev)))];
  });
  const device = await devT.item();
  devT.dispose();
  assert.ok(Number.isNaN(host), `host ${host}`);
  assert.ok(Number.isNaN(device), `device ${device}`);
});

Deno.test("upperTriangleRanks = the ranks of a full sort of the upper triangle (ties, negatives, spread)", () => {
  const cases: [string, (i: number) => number][] = [
    ["pseudo-random signed", (i) => (Math.sin(i * 12.9898) * 43758.5453) % 1],
    ["ties", (i) => (i % 7) - 3],
    ["spread over many exponents", (i) => Math.pow(-1.7, (i % 41) - 20)],
    ["all equal", () => 2.5],
  ];
  for (const [what, f] of cases) {
    for (const n of [2, 3, 9, 40, 41]) {
      const all = Float32Array.from({ length: n * n }, (_, i) => f(i));
      const upper: number[] = [];
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) upper.push(all[i * n + j]);
      const sorted = Float32Array.from(upper).sort();
      const q = upper.length;
      for (const [k1, k2] of [[(q - 1) >> 1, q >> 1], [0, Math.min(1, q - 1)], [q - 1, q - 1]]) {
        assert.deepEqual(
          upperTriangleRanks(all, n, k1, k2),
          [sorted[k1], sorted[k2]],
          `${what}, n ${n}, ranks ${k1} ${k2}`,
        );
      }
    }
  }
});

Deno.test("wacoLoss is reproducible from (seed, step) and fresh per step; d' = d/4 works", () => {
  const n = 64, d = 8;
  const x = normals("prop-waco-x", n * d), y = normals("prop-waco-y", n * 2);
  const run = (seed: number, step: number) =>
    values(() => [wacoLoss(t(y, 2), t(x, d), { seed, step, directions: 50 })])[0];
  assert.equal(run(1, 5), run(1, 5));
  assert.notEqual(run(1, 5), run(1, 6));
  assert.notEqual(run(1, 5), run(2, 5));
  const v = run(1, 5);
  assert.ok(v < 0 && v > -1.5, `−SWC = ${v}`);
});

Deno.test("loss specs: defaults match the matrix schema; lossFor runs every loss; bad params named", () => {
  assert.deepEqual(resolveParams("waco params", LOSSES.get("waco").params, {}), { directions: 1000, p: 2 });
  assert.deepEqual(resolveParams("simclr params", LOSSES.get("simclr").params, {}), { temperature: 0.5 });
  assert.deepEqual(resolveParams("hsic params", LOSSES.get("hsic").params, {}), {});
  assert.deepEqual(resolveParams("vicreg params", LOSSES.get("vicreg").params, {}), {
    invariance: 25,
    variance: 25,
    covariance: 1,
  });
  assert.deepEqual(resolveParams("mawa params", LOSSES.get("mawa").params, {}), {});
  assert.throws(
    () => resolveParams("simclr params", LOSSES.get("simclr").params, { tau: 1 }),
    /unknown parameter "tau"/,
  );
  assert.throws(
    () => resolveParams("simclr params", LOSSES.get("simclr").params, { temperature: 0 }),
    (e: Error) =>
      e instanceof ConfigError && /simclr params\.temperature: 0; expected a number > 0/.test(e.message),
  );
  assert.throws(
    () => resolveParams("waco params", LOSSES.get("waco").params, { directions: 2.5 }),
    /waco params\.directions: 2.5; expected an integer ≥ 1/,
  );

  const N = 8, views = 3, d = 4;
  const clean = normals("prop-reg", N * d);
  const anchors = new Float32Array(N * views * d);
  for (let k = 0; k < views; k++) anchors.set(clean, k * N * d);
  const y = normals("prop-reg-y", N * views * d);
  for (const name of LOSSES.names) {
    const params = name === "waco" ? { directions: 20 } : {};
    const [v] = values(
      () => [lossFor(name, params)({ y: t(y, d), anchors: t(anchors, d), views, seed: 0, step: 0 })],
    );
    assert.ok(Number.isFinite(v), `${name}: ${v}`);
  }
});

Deno.test("losses reject layouts that do not fit, naming the loss and the shapes", () => {
  const y = normals("prop-err", 10 * 3);
  tidy(() => {
    assert.throws(
      () => simclrLoss(t(y, 3), 3),
      (e: Error) => e instanceof TensorError && /simclr/.test(e.message) && /\[10, 3\]/.test(e.message),
    );
    assert.throws(() => simclrLoss(t(y, 3), 1), /views = 1; expected an integer ≥ 2/);
    assert.throws(() => vicregLoss(t(y, 3), 4), /vicreg: outputs \[10, 3\] with 4 views/);
    assert.throws(() => vicregLoss(t(y, 3), 10), /N = 1 inputs per view/);
    assert.throws(
      () => wacoLoss(t(y, 3), t(normals("e2", 9 * 3), 3), { seed: 0, step: 0 }),
      /waco.*same number of rows/,
    );
    assert.throws(() => hsic(t(normals("e3", 12), 3), t(y, 3)), /hsic/);
    return [];
  });
});
