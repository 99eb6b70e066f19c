/**
 * AdamW against a float64 transcription of PyTorch's `torch.optim.AdamW` step (single-tensor,
 * non-amsgrad path), cosineLr against PyTorch's CosineAnnealingLR, and a small regression trained
 * with trainStep + AdamW. The CPU kernel keeps its formula's bits with reciprocal bias corrections.
 */
import { AdamW, cosineLr } from "../src/tensor/optim.ts";
import { mean, square, sub, tensor } from "../src/tensor/ops.ts";
import { tidy } from "../src/tensor/tensor.ts";
import { Mlp } from "../src/nn/mlp.ts";
import { trainStep } from "../src/nn/train_step.ts";
import type { Backend } from "../src/tensor/backend.ts";
import { formulaAdamw } from "./fixtures/exact_numerics.ts";
import { adamwInto } from "../src/tensor/backends/cpu_elementwise.ts";
import { CounterRng } from "../src/rng/philox.ts";
import assert from "node:assert/strict";
import { assertClose, cpuBackend, normals, testBackends, type Tol, twice, uniforms } from "./helpers.ts";

/**
 * Parameters after a few AdamW steps, float32 vs float64. Each step changes a parameter by at
 * most ~lr (the Adam ratio is ≤ 1 in magnitude) with a few float32 roundings of O(U) relative on
 * it, and rounds the parameter itself once (U·|p|): with |p| ≤ 2 and lr = 0.01 that is < 1e-6.
 */
const ADAMW_TOL: Tol = { rtol: 0, atol: 1e-6 };

interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/**
 * torch.optim.adamw._single_tensor_adamw, in float64:
 *   param.mul_(1 − lr·wd); m.lerp_(g, 1 − β1); v.mul_(β2).addcmul_(g, g, 1 − β2);
 *   step_size = lr / (1 − β1^t); denom = sqrt(v) / sqrt(1 − β2^t) + eps;
 *   param.addcdiv_(m, denom, −step_size).
 */
class TorchAdamW {
  readonly m: Float64Array;
  readonly v: Float64Array;
  t = 0;
  constructor(readonly p: Float64Array, readonly h: AdamHyper) {
    this.m = new Float64Array(p.length);
    this.v = new Float64Array(p.length);
  }
  step(g: ArrayLike<number>, lr = this.h.lr): void {
    const { beta1, beta2, eps, weightDecay } = this.h;
    this.t++;
    const bc1 = 1 - beta1 ** this.t, bc2 = 1 - beta2 ** this.t;
    for (let i = 0; i < this.p.length; i++) {
      this.p[i] *= 1 - lr * weightDecay;
      this.m[i] += (g[i] - this.m[i]) * (1 - beta1);
      this.v[i] = this.v[i] * beta2 + (1 - beta2) * g[i] * g[i];
      const denom = Math.sqrt(this.v[i]) / Math.sqrt(bc2) + eps;
      this.p[i] += -(lr / bc1) * (this.m[i] / denom);
    }
  }
}

function adamCase(name: string, h: AdamHyper, steps: number, lrs?: number[]) {
  const shape = [3, 5] as const, n = 15;
  const p0 = uniforms(`adam p0 ${name}`, n, -2, 2);
  // Gradients of varying scale and sign per step, and one element always 0.
  const grads = Array.from({ length: steps }, (_, s) => {
    const g = normals(`adam g ${name} ${s}`, n, 10 ** (s % 3 - 1));
    g[7] = 0;
    return g;
  });
  const ref = new TorchAdamW(Float64Array.from(p0), h);
  const afterEach: Float64Array[] = [];
  grads.forEach((g, s) => {
    ref.step(g, lrs?.[s]);
    afterEach.push(ref.p.slice());
  });
  testBackends(`AdamW ${name} vs PyTorch's update in float64`, async (backend: Backend) => {
    const p = tensor(p0, shape, { backend, requiresGrad: true });
    const opt = new AdamW([p], h);
    const out: Record<string, Float32Array> = {};
    try {
      for (let s = 0; s < steps; s++) {
        tidy(() => {
          opt.step([tensor(grads[s], shape, { backend })], lrs?.[s]);
          return null;
        });
        out[`after step ${s + 1}`] = await p.toArray();
        assertClose(out[`after step ${s + 1}`], afterEach[s], ADAMW_TOL, `${name}: after step ${s + 1}`);
      }
      if (opt.stepCount !== steps) throw new Error(`stepCount ${opt.stepCount}, expected ${steps}`);
    } finally {
      opt.dispose();
      p.dispose();
    }
    return out;
  }, { float: twice(ADAMW_TOL) });
}

adamCase("defaults-like (wd 1e-2)", { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2 }, 5);
adamCase("strong weight decay 0.5, beta2 0.99", {
  lr: 0.01,
  beta1: 0.8,
  beta2: 0.99,
  eps: 1e-6,
  weightDecay: 0.5,
}, 4);
adamCase(
  "per-step lr from cosineLr",
  { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 },
  4,
  [0, 1, 2, 3].map((s) => cosineLr(s, 4, 0.01, 0.001)),
);

Deno.test({
  name: "AdamW first step moves each parameter by lr·sign(g) (bias correction) plus decay",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const backend = cpuBackend();
    const p = tensor([1, -1, 2, 0.5], [1, 4], { backend, requiresGrad: true });
    const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.1, eps: 1e-12 });
    tidy(() => {
      opt.step([tensor([3, -0.001, 0, 1e4], [1, 4], { backend })]);
      return null;
    });
    // m̂ = g and v̂ = g² after bias correction, so the Adam step is lr·g/(|g| + eps) = lr·sign(g) (0 for
    // g = 0);
    // weight decay subtracts lr·wd·p = 0.01·p first.
    const want = [1 - 0.01 - 0.1, -1 + 0.01 + 0.1, 2 - 0.02, 0.5 - 0.005 - 0.1];
    assertClose(await p.toArray(), want, { rtol: 0, atol: 1e-6 }, "first AdamW step");
    opt.dispose();
    p.dispose();
  },
});

/**
 * PyTorch's CosineAnnealingLR as `scheduler.step()` computes it (the recursive, chainable form of
 * torch/optim/lr_scheduler.py), for last_epoch = 0..steps.
 */
function torchCosineAnnealing(baseLr: number, tMax: number, etaMin: number, steps: number): number[] {
  const lrs = [baseLr];
  for (let e = 1; e <= steps; e++) {
    const prev = lrs[e - 1];
    let lr: number;
    if ((e - 1 - tMax) % (2 * tMax) === 0) {
      lr = prev + ((baseLr - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2;
    } else {
      lr = ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) *
          (prev - etaMin) + etaMin;
    }
    lrs.push(lr);
  }
  return lrs;
}

Deno.test("cosineLr: endpoints, midpoint and every step vs PyTorch's CosineAnnealingLR", () => {
  const lrMax = 3e-3, lrMin = 1e-5, total = 100;
  const close = (got: number, want: number, what: string) => {
    if (Math.abs(got - want) > 1e-12 * Math.abs(want) + 1e-18) {
      throw new Error(`${what}: ${got}, expected ${want}`);
    }
  };
  close(cosineLr(0, total, lrMax, lrMin), lrMax, "step 0");
  close(cosineLr(total, total, lrMax, lrMin), lrMin, "last step");
  close(cosineLr(total / 2, total, lrMax, lrMin), (lrMax + lrMin) / 2, "midpoint");
  close(cosineLr(25, total, lrMax, lrMin), lrMin + (lrMax - lrMin) * (1 + Math.SQRT1_2) / 2, "quarter");
  const torch = torchCosineAnnealing(lrMax, total, lrMin, total);
  for (let s = 0; s <= total; s++) close(cosineLr(s, total, lrMax, lrMin), torch[s], `step ${s}`);
  // Odd T_max, and eta_min = 0.
  const torch7 = torchCosineAnnealing(1, 7, 0, 7);
  for (let s = 0; s <= 7; s++) close(cosineLr(s, 7, 1, 0), torch7[s], `T=7 step ${s}`);
  // Documented clamping (PyTorch would rise again after T_max) and the degenerate schedule.
  close(cosineLr(total + 10, total, lrMax, lrMin), lrMin, "past the end");
  close(cosineLr(-5, total, lrMax, lrMin), lrMax, "before the start");
  close(cosineLr(3, 0, lrMax, lrMin), lrMax, "totalSteps 0");
});

Deno.test("a tiny regression trained with trainStep + AdamW converges (loss drops > 10×)", async () => {
  const backend = cpuBackend();
  // y = x·W* + b* + small noise, x [64, 4], y [64, 2]; a [4, 16, 2] Mlp.
  const xData = normals("reg x", 64 * 4);
  const w = normals("reg w", 8), b = [0.5, -1];
  const yData = new Float32Array(128);
  const noise = normals("reg noise", 128, 0.01);
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 2; j++) {
      let s = b[j] + noise[i * 2 + j];
      for (let k = 0; k < 4; k++) s += xData[i * 4 + k] * w[k * 2 + j];
      yData[i * 2 + j] = s;
    }
  }
  const x = tensor(xData, [64, 4], { backend }), y = tensor(yData, [64, 2], { backend });
  const model = new Mlp([4, 16, 2], 3, "regression", backend);
  const opt = new AdamW(model.parameters, { lr: 0.02, weightDecay: 1e-4 });
  const steps = 300;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const loss = trainStep(
      opt,
      () => mean(square(sub(model.forward(x), y))),
      cosineLr(s, steps, 0.02, 0.001),
    );
    losses.push(await loss.item());
    if (loss.requiresGrad || loss.node) throw new Error("trainStep should return a detached loss");
    loss.dispose();
  }
  opt.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
  const first = losses[0], last = losses[steps - 1];
  if (!(last < first / 10)) {
    throw new Error(`loss went from ${first} to ${last}; expected a drop of more than 10×`);
  }
  if (!losses.every(Number.isFinite)) throw new Error("a loss was not finite");
});

Deno.test("adamw kernel (cpu): the reciprocal bias corrections keep the formula's bits", () => {
  const n = 50_000, rng = new CounterRng(31, "adamw-kernel");
  const P = rng.uniforms(n, -0.5, 0.5), M = new Float32Array(n), V = new Float32Array(n);
  const P2 = P.slice(), M2 = M.slice(), V2 = V.slice();
  for (let step = 1; step <= 60; step++) {
    const G = new CounterRng(31, "adamw-grad", step).uniforms(n, -1e-2, 1e-2);
    const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, step };
    adamwInto(P, G, M, V, n, h);
    formulaAdamw(P2, G, M2, V2, h);
  }
  assert.deepEqual(Array.from(new Int32Array(P.buffer)), Array.from(new Int32Array(P2.buffer)));
  assert.deepEqual(Array.from(new Int32Array(M.buffer)), Array.from(new Int32Array(M2.buffer)));
  // Parameters placed so that p − update lands on a float32 midpoint (lr solved for it, then
  // nudged so that p − update moves by ulps of itself): where the reciprocals' unchecked value rounds otherwise than the
  // formula's, the kernel must still give the formula's.
  const f = new Float32Array(2), u = new Uint32Array(f.buffer);
  let saved = 0;
  for (let i = 0; i < 400; i++) {
    f[0] = Math.fround(0.25 + i / 1000);
    u[1] = u[0] + 1;
    const mid = (f[0] + f[1]) / 2, g = Math.fround(1e-3 * (1 + i / 997)), m0 = 3e-4, v0 = 2e-6, step = 7;
    const bc1 = 1 - Math.pow(0.9, step), bc2 = 1 - Math.pow(0.999, step);
    const m = 0.9 * Math.fround(m0) + (1 - 0.9) * g, v = 0.999 * Math.fround(v0) + (1 - 0.999) * g * g;
    const ratio = (m / bc1) / (Math.sqrt(v / bc2) + 1e-8);
    for (let k = -8; k <= 8; k++) {
      const lr = ((f[1] - mid) / ratio) * (1 + k * 2 ** -30); // x moves by about an ulp per k
      const h = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step };
      const unchecked = f[1] - 0 * f[1] - lr * (m * (1 / bc1)) / (Math.sqrt(v * (1 / bc2)) + 1e-8);
      const a = Float32Array.of(f[1]), b = Float32Array.of(f[1]), G = Float32Array.of(g);
      adamwInto(a, G, Float32Array.of(m0), Float32Array.of(v0), 1, h);
      formulaAdamw(b, G, Float32Array.of(m0), Float32Array.of(v0), h);
      assert.equal(a[0], b[0], `midpoint ${i}, nudge ${k}`);
      if (Math.fround(unchecked) !== b[0]) saved++;
    }
  }
  assert.ok(saved > 0, "no midpoint case where the unchecked value rounds otherwise");
});
