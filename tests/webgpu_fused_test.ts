/**
 * The WebGPU backend's fused primitives for the losses' chains (binary.wgsl codes 8–10): SimCLR's
 * self mask added on the diagonal, the Gaussian kernel exp(−(d2 / t)) and logsumexp's gradient
 * give the values and gradients of the chains they replace bit for bit (the same backend without
 * the primitive runs the chain), in fewer dispatches and without uploading an n² mask.
 */
import assert from "node:assert/strict";
import type { Backend } from "../src/tensor/backend.ts";
import type { WebGpuBackend } from "../src/tensor/backends/webgpu/backend.ts";
import { addDiagonal, gaussianOfSqDist } from "../src/tensor/fused_ops.ts";
import { logsumexp, mul, param, sum, tensor } from "../src/tensor/ops.ts";
import { grad } from "../src/tensor/autograd.ts";
import type { Tensor } from "../src/tensor/tensor.ts";
import { uniforms, webgpuBackend } from "./helpers.ts";

const gpu = await webgpuBackend() as WebGpuBackend | null;
const ignore = gpu === null;

/** `backend` without the named primitives, so that the ops fall back to their chains. */
function without(backend: Backend, ...names: (keyof Backend)[]): Backend {
  return new Proxy(backend, {
    get(target, key) {
      if ((names as PropertyKey[]).includes(key)) return undefined;
      const v = Reflect.get(target, key, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

const bits = async (t: Tensor) => Array.from(new Int32Array((await t.toArray()).buffer));

/** Value and gradient bits of op(x, ...constants) under Σ w∘out, and the work recorded for both. */
async function run(
  backend: Backend,
  x: { data: Float32Array; shape: [number, number] },
  constants: { data: Float32Array; shape: [number, number] }[],
  op: (x: Tensor, ...cs: Tensor[]) => Tensor,
) {
  const xt = param(x.data, x.shape, backend);
  const cs = constants.map((c) => tensor(c.data, c.shape, { backend }));
  const before = gpu!.counts;
  const out = op(xt, ...cs);
  const w = tensor(uniforms("webgpu fused w", out.size, -2, 2), out.shape, { backend });
  const [g] = grad(sum(mul(out, w)), [xt]);
  const after = gpu!.counts;
  const work = {
    dispatches: after.dispatches - before.dispatches,
    uploaded: after.uploadBytes - before.uploadBytes,
  };
  const result = { out: await bits(out), grad: await bits(g), ...work };
  [xt, ...cs, out, w, g].forEach((t) => t.dispose());
  return result;
}

async function compare(
  name: string,
  primitive: keyof Backend,
  x: { data: Float32Array; shape: [number, number] },
  constants: { data: Float32Array; shape: [number, number] }[],
  op: (x: Tensor, ...cs: Tensor[]) => Tensor,
) {
  const fused = await run(gpu!, x, constants, op);
  const chain = await run(without(gpu!, primitive), x, constants, op);
  assert.deepEqual(fused.out, chain.out, `${name}: values`);
  assert.deepEqual(fused.grad, chain.grad, `${name}: gradient`);
  assert.ok(
    fused.dispatches < chain.dispatches || fused.uploaded < chain.uploaded,
    `${name}: ${fused.dispatches} vs ${chain.dispatches} dispatches, ${fused.uploaded} vs ${chain.uploaded} bytes`,
  );
}

Deno.test({
  name: "webgpu fused primitives: values and gradients bit for bit those of the chains",
  ignore,
  async fn() {
    const n = 67;
    const d2 = uniforms("webgpu fused d2", n * n, 0, 9);
    d2.set([0, -0, 1e-30, 400]); // exp underflows to 0 for the last at t = 1.7
    await compare(
      "gaussianOfSqDist",
      "gaussian",
      { data: d2, shape: [n, n] },
      [{ data: new Float32Array([1.7]), shape: [1, 1] }],
      (d, t) => gaussianOfSqDist(d, t),
    );
    const logits = uniforms("webgpu fused logits", n * n, -2, 2);
    logits.set([-0, 0, -0], 1); // −0 off the diagonal: the chain's add makes it +0
    await compare(
      "addDiagonal",
      "addDiagonal",
      { data: logits, shape: [n, n] },
      [],
      (x) => addDiagonal(x, -1e9),
    );
    const spread = uniforms("webgpu fused spread", 31 * n, -60, 60);
    await compare("logsumexp", "logsumexpGrad", { data: spread, shape: [31, n] }, [], (x) => logsumexp(x));
  },
});
