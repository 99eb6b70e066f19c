// The corruption passes on WebGPU (kernels/corrupt_passes.wgsl) against the CPU
// (src/augment/corrupt_passes.ts), for the kinds that have them: gaussian_blur, defocus_blur,
// elastic_transform, every severity. Tolerances, for values in [0, 1]:
//   correlate 1e-5: the GPU rounds the weights to float32 and accumulates in float32 (the CPU in
//     float64): ≤ (taps + 1)·2⁻²⁴ per pass with weights summing to 1 (≤ 26 taps here: ≤ 1.6e-6),
//     two passes for gaussian_blur;
//   remap 1e-4: coordinates in float32 (≤ 64·2⁻²⁴ ≈ 4e-6 px below 64 px), bilinear sampling
//     Lipschitz ≤ 2 per pixel of displacement, two passes, as the warp's test (augment_webgpu_test.ts).
// The other corruptions are CPU only (docs/matrix.md, "Corruptions"). Skipped (ignored) without a
// WebGPU adapter unless INVBENCH_REQUIRE_WEBGPU=1 (tests/helpers.ts). Observed on llvmpipe: ≤ 2.4e-7
// (correlate) and ≤ 1.5e-6 (remap).
import assert from "node:assert/strict";
import { augmentBatch, augmentBatchWith, batchOf } from "../src/augment/augment.ts";
import { runPassesCpu } from "../src/augment/corrupt_passes.ts";
import { WebGpuCorrupt } from "../src/augment/corrupt_webgpu.ts";
import { viewRng } from "../src/augment/params.ts";
import { corruptionPasses } from "../src/augment/spec.ts";
import { warpCpu } from "../src/augment/warp_cpu.ts";
import { loadMnist } from "../src/data/mnist.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { webgpuAdapter } from "./helpers.ts";

const gpu = (await webgpuAdapter()) ? await WebGpuCorrupt.create() : null;
addEventListener("unload", () => gpu?.destroy());
const ignore = gpu === null;
const TOL: Record<string, number> = { gaussian_blur: 1e-5, defocus_blur: 1e-5, elastic_transform: 1e-4 };

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test({
  name: "webgpu corruption passes match the CPU's (1 and 3 channels, odd sizes, every severity)",
  ignore,
  fn: async () => {
    for (const [n, channels, height, width] of [[6, 1, 28, 28], [4, 3, 29, 31]]) {
      const shape = { channels, height, width }, per = channels * height * width;
      const src = new CounterRng(n, "corrupt-webgpu-src").uniforms(n * per);
      for (const kind of Object.keys(TOL)) {
        for (let severity = 1; severity <= 5; severity++) {
          const p = { kind: "corruption" as const, of: kind, severity };
          const passes = Array.from(
            { length: n },
            (_, i) => corruptionPasses(p, shape, viewRng(3, "test", i, 0))!,
          );
          const cpu = new Float32Array(n * per);
          passes.forEach((ps, i) =>
            cpu.set(runPassesCpu(src.subarray(i * per, (i + 1) * per), shape, ps), i * per)
          );
          const d = maxDiff(await gpu!.run(src, { n, ...shape }, passes), cpu);
          assert.ok(
            d <= TOL[kind],
            `${kind} ${severity} ${channels}×${height}×${width}: max |gpu − cpu| = ${d}`,
          );
        }
      }
    }
  },
});

Deno.test({
  name: "augmentBatchWith(webgpu corrupt) matches augmentBatch (CPU) on MNIST within tolerance / std",
  ignore,
  fn: async () => {
    const { images, indices } = batchOf(
      loadMnist("test", { limit: 32 }),
      Array.from({ length: 32 }, (_, i) => i),
    );
    const opts = { normalize: { mean: [0.1307], std: [0.3081] } };
    for (const kind of Object.keys(TOL)) {
      const spec = { kind, severity: 4 };
      const cpu = augmentBatch(images, indices, spec, 9, "train", 2, opts);
      const web = await augmentBatchWith(warpCpu, images, indices, spec, 9, "train", 2, opts, gpu!);
      const d = maxDiff(cpu, web);
      assert.ok(d <= TOL[kind] / 0.3081, `${kind}: ${d}`);
    }
  },
});

Deno.test({
  name: "webgpu corruption passes refuse images whose passes differ",
  ignore,
  fn: async () => {
    const shape = { channels: 1, height: 8, width: 8 };
    const blur = (severity: number) =>
      corruptionPasses({ kind: "corruption", of: "gaussian_blur", severity }, shape, viewRng(0, "t", 0, 0))!;
    await assert.rejects(
      () => gpu!.run(new Float32Array(128), { n: 2, ...shape }, [blur(1), blur(5)]),
      /image 1's pass 0 differs/,
    );
  },
});
