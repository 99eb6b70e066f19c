/**
 * Gradients of the adapter losses (reverse mode, float32) against central finite differences of
 * the float64 references. WaCo and SW are made deterministic by fixing their directions and
 * permutations, and the FD step is kept well below the smallest gap between sorted projections,
 * so no perturbation crosses a sort tie. HSIC's median bandwidth is not differentiated through:
 * the FD holds it at its value at the base point.
 */
import assert from "node:assert/strict";
import type { Backend } from "../src/tensor/backend.ts";
import { grad } from "../src/tensor/autograd.ts";
import { param, tensor } from "../src/tensor/ops.ts";
import { type Tensor, tidy } from "../src/tensor/tensor.ts";
import { hsic } from "../src/methods/losses/hsic.ts";
import { simclrLoss } from "../src/methods/losses/simclr.ts";
import { vicregLoss } from "../src/methods/losses/vicreg.ts";
import { swcTerms, wacoDraws } from "../src/methods/losses/waco.ts";
import { mawaLoss } from "../src/methods/losses/mawa.ts";
import { directionsTensor, randomDirections, swDistance } from "../src/methods/sliced_wasserstein.ts";
import { neg } from "../src/tensor/ops.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { cpuBackend, normals, relMaxError, webgpuBackend } from "./golden/losses_backends.ts";
import * as ref from "./golden/losses_reference.ts";

const N = 4, VIEWS = 3, M = N * VIEWS, D = 4, DY = 3;
const TOL = 1e-4;

function anchors(): Float32Array {
  const clean = normals("grad-clean", N * D);
  const x = new Float32Array(M * D);
  for (let k = 0; k < VIEWS; k++) x.set(clean, k * N * D);
  return x;
}

/** Reverse-mode gradients of `loss(...params)` w.r.t. each input, read back to the host. */
async function autograd(
  backend: Backend,
  inputs: { data: Float32Array; cols: number }[],
  loss: (...ps: Tensor[]) => Tensor,
): Promise<Float32Array[]> {
  const gs = tidy(() => {
    const ps = inputs.map((i) => param(i.data, [i.data.length / i.cols, i.cols], backend));
    return grad(loss(...ps), ps);
  });
  try {
    return await Promise.all(gs.map((g) => g.toArray()));
  } finally {
    gs.forEach((g) => g.dispose());
  }
}

function check(got: ArrayLike<number>, fd: ArrayLike<number>, what: string, tol = TOL): void {
  const e = relMaxError(got, fd);
  if (Deno.env.get("INVBENCH_TEST_VERBOSE")) {
    console.log(`${what}: max error ${e.toExponential(2)} of max |fd|`);
  }
  assert.ok(
    e <= tol,
    `${what}: gradient vs finite differences, max error ${
      e.toExponential(2)
    } of max |fd| (tolerance ${tol}); ` +
      `got [${Array.from(got).slice(0, 6).map((v) => v.toPrecision(5))}], fd [${
        Array.from(fd).slice(0, 6).map((v) => v.toPrecision(5))
      }]`,
  );
  let mx = 0;
  for (let i = 0; i < fd.length; i++) mx = Math.max(mx, Math.abs(fd[i]));
  assert.ok(mx > 1e-6, `${what}: the finite differences are all ~0; the check would be vacuous`);
}

/** An FD step well inside the sort-tie-free neighbourhood of every cloud's projections. */
function stepAwayFromTies(clouds: [ref.M64, ref.M64, ArrayLike<number>][]): number {
  let gap = Infinity;
  for (const [a, b, dirs] of clouds) gap = Math.min(gap, ref.minSortGap(a, dirs), ref.minSortGap(b, dirs));
  assert.ok(gap > 1e-6, `projections nearly tie (gap ${gap}); pick other inputs`);
  // An element moves at most two projected points by at most h·|θ_j| ≤ h each.
  return Math.min(1e-5, gap / 8);
}

async function swCase(backend: Backend, p: number): Promise<void> {
  const n = 10, d = 3, P = 7;
  const a = normals("g-sw-a", n * d), b = normals("g-sw-b", n * d, 1.3, 0.4);
  const dirs = randomDirections(new CounterRng(5, "g-sw"), P, d);
  const A = ref.m64(n, d, a), B = ref.m64(n, d, b);
  const h = stepAwayFromTies([[A, B, dirs]]);
  const [ga, gb] = await autograd(
    backend,
    [{ data: a, cols: d }, { data: b, cols: d }],
    (pa, pb) => swDistance(pa, pb, directionsTensor(dirs, P, d, backend), p),
  );
  check(
    ga,
    ref.finiteDifferences((v) => ref.slicedWasserstein(ref.m64(n, d, v), B, dirs, p), a, h),
    `SW_${p} d/da`,
  );
  check(
    gb,
    ref.finiteDifferences((v) => ref.slicedWasserstein(A, ref.m64(n, d, v), dirs, p), b, h),
    `SW_${p} d/db`,
  );
}

/**
 * WaCo w.r.t. Y with the real layout (X = clean features repeated s+1 times: cat(X, X) has exact
 * sort ties, but depX does not depend on Y). The gradient w.r.t. X is checked separately on a
 * generic, tie-free X (in training X is a constant; at ties SW is not differentiable in X).
 */
async function wacoCase(backend: Backend): Promise<void> {
  const x = anchors();
  const noise = normals("g-waco-noise", M * DY, 0.6);
  const y = new Float32Array(M * DY);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < DY; j++) y[i * DY + j] = 0.7 * x[i * D + j] + noise[i * DY + j];
  }
  const draws = wacoDraws(2, 9, M, D, DY, 16);
  const X = ref.m64(M, D, x), Y = ref.m64(M, DY, y);
  const [depCloud, , depYCloud] = ref.wacoClouds(X, Y, draws);
  const h = stepAwayFromTies([depCloud, depYCloud]);
  const [gy] = await autograd(backend, [{ data: y, cols: DY }], (py) => {
    return neg(swcTerms(tensorLike(backend, x, D), py, draws).swc);
  });
  check(gy, ref.finiteDifferences((v) => -ref.swc(X, ref.m64(M, DY, v), draws).swc, y, h), "waco d/dY");
  // Another dependence exponent q: the gradient also flows through (depX · depY + ε)^(1/q).
  const [gq] = await autograd(backend, [{ data: y, cols: DY }], (py) => {
    return neg(swcTerms(tensorLike(backend, x, D), py, draws, 2, 1).swc);
  });
  check(
    gq,
    ref.finiteDifferences((v) => -ref.swc(X, ref.m64(M, DY, v), draws, 2, 1).swc, y, h),
    "waco d/dY (q = 1)",
  );

  const xg = normals("g-waco-generic-x", M * D);
  const XG = ref.m64(M, D, xg);
  const hx = stepAwayFromTies(ref.wacoClouds(XG, Y, draws));
  const [gx] = await autograd(backend, [{ data: xg, cols: D }], (px) => {
    return neg(swcTerms(px, tensorLike(backend, y, DY), draws).swc);
  });
  check(
    gx,
    ref.finiteDifferences((v) => -ref.swc(ref.m64(M, D, v), Y, draws).swc, xg, hx),
    "waco d/dX (generic X)",
  );
}

function tensorLike(backend: Backend, data: Float32Array, cols: number): Tensor {
  return tensor(data, [data.length / cols, cols], { backend });
}

async function simclrCase(backend: Backend, tau: number): Promise<void> {
  const y = normals("g-simclr", M * DY);
  const [g] = await autograd(
    backend,
    [{ data: y, cols: DY }],
    (py) => simclrLoss(py, VIEWS, { temperature: tau }),
  );
  check(
    g,
    ref.finiteDifferences((v) => ref.simclr(ref.m64(M, DY, v), VIEWS, tau), y, 1e-5),
    `simclr τ=${tau}`,
  );
}

async function hsicCase(backend: Backend, bandwidth?: number): Promise<void> {
  const x = anchors();
  const y = normals("g-hsic", M * DY, 0.8);
  const X = ref.m64(M, D, x);
  const sx = bandwidth ?? ref.medianDistance(X), sy = bandwidth ?? ref.medianDistance(ref.m64(M, DY, y));
  const [g] = await autograd(
    backend,
    [{ data: x, cols: D }, { data: y, cols: DY }],
    (px, py) => hsic(px, py, bandwidth),
  ).then((gs) => [gs[1]]);
  check(
    g,
    ref.finiteDifferences((v) => ref.hsic(X, ref.m64(M, DY, v), sx, sy), y, 1e-5),
    `hsic σ=${bandwidth ?? "median"}`,
  );
}

async function vicregCase(backend: Backend): Promise<void> {
  // Per-column scales 0.5 and 1.6: some variance hinges active, some not, none at the kink.
  const d = 4;
  const raw = normals("g-vic", M * d);
  const y = raw.map((v, i) => v * (i % d < 2 ? 0.5 : 1.6));
  const [g] = await autograd(backend, [{ data: y, cols: d }], (py) => vicregLoss(py, VIEWS));
  check(g, ref.finiteDifferences((v) => ref.vicreg(ref.m64(M, d, v), VIEWS), y, 1e-5), "vicreg");
}

async function mawaCase(backend: Backend): Promise<void> {
  const x = anchors(), y = normals("g-mawa", M * D);
  const [g] = await autograd(
    backend,
    [{ data: y, cols: D }, { data: x, cols: D }],
    (py, px) => mawaLoss(py, px),
  );
  const f = (v: Float64Array) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += (v[i] - x[i]) ** 2;
    return s / M;
  };
  check(g, ref.finiteDifferences(f, y, 1e-5), "mawa");
}

Deno.test("loss gradients match float64 finite differences (cpu)", async (t) => {
  const backend = cpuBackend();
  await t.step("sliced Wasserstein p = 1", () => swCase(backend, 1));
  await t.step("sliced Wasserstein p = 2", () => swCase(backend, 2));
  await t.step("sliced Wasserstein p = 3", () => swCase(backend, 3));
  await t.step("waco (d' ≠ d), w.r.t. Y and (generic) X", () => wacoCase(backend));
  await t.step("simclr τ = 0.5", () => simclrCase(backend, 0.5));
  await t.step("simclr τ = 0.1", () => simclrCase(backend, 0.1));
  await t.step("hsic, median bandwidth (held fixed)", () => hsicCase(backend));
  await t.step("hsic, bandwidth 1.3", () => hsicCase(backend, 1.3));
  await t.step("vicreg", () => vicregCase(backend));
  await t.step("mawa", () => mawaCase(backend));
});

Deno.test({
  name: "loss gradients match float64 finite differences (webgpu, subset)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const gpu = await webgpuBackend();
    const ignore = gpu === null;
    await t.step({ name: "sliced Wasserstein p = 2", ignore, fn: () => swCase(gpu!, 2) });
    await t.step({ name: "waco", ignore, fn: () => wacoCase(gpu!) });
    await t.step({ name: "simclr", ignore, fn: () => simclrCase(gpu!, 0.5) });
    await t.step({ name: "hsic, median bandwidth", ignore, fn: () => hsicCase(gpu!) });
    await t.step({ name: "vicreg", ignore, fn: () => vicregCase(gpu!) });
  },
});
