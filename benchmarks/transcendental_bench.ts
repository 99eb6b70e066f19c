/**
 * The CPU kernels' fast transcendental paths against the exact functions whose bits they keep
 * (docs/tensor.md, "Transcendental functions at a fraction of their cost, same bits"), each pair in
 * one group with the exact twin (tests/fixtures/exact_numerics.ts) as its baseline: logsumexp and
 * its gradient over SimCLR's 1024 × 2048 logits, the Gaussian noise of one 28 × 28 image, WaCo's
 * 250 directions in 256 dimensions, and AdamW over the default adapter's 264,586 parameters.
 *
 *   deno bench -A benchmarks/transcendental_bench.ts
 */
import { addGaussianNoise } from "../src/augment/noise.ts";
import { randomDirections } from "../src/methods/sliced_wasserstein.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { adamwInto, logsumexpGradInto, logsumexpInto } from "../src/tensor/backends/cpu_elementwise.ts";
import {
  formulaAdamw,
  referenceDirections,
  referenceLogsumexp,
  referenceNoise,
} from "../tests/fixtures/exact_numerics.ts";

const rng = (label: string) => new CounterRng(0, "bench", "transcendental", label);

const rows = 1024, cols = 2048;
const logits = rng("logits").uniforms(rows * cols, -5, 5);
for (let i = 0; i < rows; i++) logits[i * cols + i] = -1e9; // SimCLR's self mask
const lse = referenceLogsumexp(logits, rows, cols), upstream = new Float32Array(rows).fill(1 / rows);
const grad = new Float32Array(rows * cols);

Deno.bench({
  name: "logsumexp cpu 1024x2048, Math.exp",
  group: "logsumexp",
  baseline: true,
  fn: () => void referenceLogsumexp(logits, rows, cols),
});
Deno.bench({
  name: "logsumexp cpu 1024x2048, polynomial + check",
  group: "logsumexp",
  fn: () => logsumexpInto(logits, rows, cols, new Float32Array(rows)),
});
Deno.bench({
  name: "logsumexp gradient cpu 1024x2048, Math.exp",
  group: "logsumexp gradient",
  baseline: true,
  fn() {
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const k = i * cols + j;
        grad[k] = Math.fround(Math.exp(Math.fround(logits[k] - lse[i]))) * upstream[i];
      }
    }
  },
});
Deno.bench({
  name: "logsumexp gradient cpu 1024x2048, polynomial + check",
  group: "logsumexp gradient",
  fn: () => logsumexpGradInto(logits, rows, cols, lse, upstream, grad),
});

const image = rng("image").uniforms(28 * 28, -0.5, 2.8);
let view = 0;
Deno.bench({
  name: "gaussian noise 28x28, Math.cos and Math.sin",
  group: "noise",
  baseline: true,
  fn: () => referenceNoise(image.slice(), 2, new CounterRng(0, "augment", "train", view++, 0)),
});
Deno.bench({
  name: "gaussian noise 28x28, series + check",
  group: "noise",
  fn: () => addGaussianNoise(image.slice(), 2, new CounterRng(0, "augment", "train", view++, 0)),
});

let step = 0;
Deno.bench({
  name: "waco directions 250x256, Math.cos and Math.sin",
  group: "directions",
  baseline: true,
  fn: () => void referenceDirections(new CounterRng(0, "waco", step++), 250, 256),
});
Deno.bench({
  name: "waco directions 250x256, series + check",
  group: "directions",
  fn: () => void randomDirections(new CounterRng(0, "waco", step++), 250, 256),
});

const n = 264_586, params = rng("params").uniforms(n, -0.1, 0.1), g = rng("grad").uniforms(n, -1e-3, 1e-3);
const state = () => ({ p: params.slice(), m: new Float32Array(n), v: new Float32Array(n) });
const a = state(), b = state();
let t = 0;
const hyper = () => ({
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 1e-2,
  step: 1 + (t++ % 200),
});
Deno.bench({
  name: "adamw cpu 264586 parameters, three divisions",
  group: "adamw",
  baseline: true,
  fn: () => formulaAdamw(a.p, g, a.m, a.v, hyper()),
});
Deno.bench({
  name: "adamw cpu 264586 parameters, reciprocals + check",
  group: "adamw",
  fn: () => adamwInto(b.p, g, b.m, b.v, n, hyper()),
});
