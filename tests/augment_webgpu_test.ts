// The WGSL warp against the CPU warp. Tolerance: 1e-4 absolute for values in [0, 1] (scaled by the
// value range otherwise). Why: the GPU computes sample positions in float32 (CPU: float64); for
// coordinates below 128 px that is an error under ~3e-5 px after the three multiply-adds, and
// bilinear sampling is Lipschitz with constant ≤ 2·(value range) per pixel of displacement, so
// ≤ 6e-5, plus float32 rounding of the blend (~1e-7). Observed on llvmpipe: ≤ 5e-6.
// Positions that are exact in float32 (multiples of 90°, identity) must agree bit-for-bit.
// Skipped (ignored) when no WebGPU adapter exists, unless INVBENCH_REQUIRE_WEBGPU=1 (tests/helpers.ts).
import assert from "node:assert/strict";
import { augmentBatch, augmentBatchWith } from "../src/augment/augment.ts";
import { affineMatrix, cropMatrix, rotationMatrix } from "../src/augment/warp_matrix.ts";
import { warpCpu, type WarpShape } from "../src/augment/warp_cpu.ts";
import { WebGpuWarp } from "../src/augment/warp_webgpu.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { webgpuAdapter } from "./helpers.ts";

const TOL = 1e-4;
const gpu = (await webgpuAdapter()) ? await WebGpuWarp.create() : null;
addEventListener("unload", () => gpu?.destroy());
const ignore = gpu === null;

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Random affine matrices (rotation, scale, shear, translation) and crops from a fixed stream. */
function randomMats(n: number, w: number, h: number, seed: number, crop = false): Float64Array {
  const rng = new CounterRng(seed, "webgpu-test-mats");
  const mats = new Float64Array(6 * n);
  for (let i = 0; i < n; i++) {
    const u = (k: number, lo: number, hi: number) => lo + (hi - lo) * rng.uniform(8 * i + k);
    const m = crop
      ? cropMatrix(
        {
          x: u(0, 0, w / 2),
          y: u(1, 0, h / 2),
          w: u(2, w / 2, w / 2 + w / 2 * 0.99),
          h: u(3, h / 2, h * 0.99),
        },
        w,
        h,
      )
      : affineMatrix(
        {
          degrees: u(0, -180, 180),
          translate: [u(1, -0.3 * w, 0.3 * w), u(2, -0.3 * h, 0.3 * h)],
          scale: u(3, 0.5, 1.5),
          shear: [u(4, -20, 20), u(5, -10, 10)],
        },
        w,
        h,
      );
    mats.set(m, 6 * i);
  }
  return mats;
}

Deno.test({
  name: "webgpu warp matches the CPU warp (fill and clamp borders, 1 and 3 channels, odd sizes)",
  ignore,
  fn: async () => {
    for (
      const [shape, seed] of [[{ n: 37, channels: 3, height: 29, width: 31 }, 1], [{
        n: 5,
        channels: 1,
        height: 96,
        width: 96,
      }, 2]] as [WarpShape, number][]
    ) {
      const src = new CounterRng(seed, "webgpu-test-src").uniforms(
        shape.n * shape.channels * shape.height * shape.width,
      );
      const fill = Float32Array.from({ length: shape.channels }, (_, c) => 0.1 + 0.3 * c);
      for (const border of ["fill", "clamp"] as const) {
        const mats = randomMats(shape.n, shape.width, shape.height, seed, border === "clamp");
        const d = maxDiff(
          await gpu!.warp(src, shape, mats, fill, border),
          warpCpu(src, shape, mats, fill, border),
        );
        assert.ok(d <= TOL, `${JSON.stringify(shape)} ${border}: max |gpu − cpu| = ${d}`);
      }
    }
  },
});

Deno.test({
  name: "webgpu warp is exact where the positions are (90° multiples, identity)",
  ignore,
  fn: async () => {
    for (const n of [5, 6]) {
      const src = new CounterRng(n, "webgpu-exact").uniforms(4 * n * n);
      const shape = { n: 4, channels: 1, height: n, width: n };
      const mats = new Float64Array(24);
      [0, 90, 180, 270].forEach((deg, i) => mats.set(rotationMatrix(deg, n, n), 6 * i));
      assert.deepEqual(await gpu!.warp(src, shape, mats, [0.5]), warpCpu(src, shape, mats, [0.5]));
    }
  },
});

Deno.test({
  name: "webgpu warp: a batch over 65,535 workgroups uses the 2-D dispatch and still matches",
  ignore,
  fn: async () => {
    const shape = { n: 1400, channels: 3, height: 32, width: 32 }; // 4,300,800 values > 65,535 · 64
    const src = new CounterRng(7, "webgpu-big").uniforms(shape.n * 3 * 32 * 32);
    const mats = randomMats(shape.n, 32, 32, 7);
    const fill = [0, 0, 0];
    const d = maxDiff(await gpu!.warp(src, shape, mats, fill), warpCpu(src, shape, mats, fill));
    assert.ok(d <= TOL, `max |gpu − cpu| = ${d}`);
  },
});

Deno.test({
  name: "augmentBatchWith(webgpu) matches augmentBatch (CPU) within tolerance / std",
  ignore,
  fn: async () => {
    const images = {
      data: Uint8Array.from({ length: 20 * 784 }, (_, i) => (i * 97) % 256),
      n: 20,
      channels: 1,
      height: 28,
      width: 28,
    };
    const indices = Array.from({ length: 20 }, (_, i) => 1000 + i);
    const opts = { normalize: { mean: [0.1307], std: [0.3081] } };
    for (const kind of ["rotation", "affine", "resized_crop", "rotation_c4"] as const) {
      const cpu = augmentBatch(images, indices, { kind }, 5, "train", 1, opts);
      const web = await augmentBatchWith(gpu!.warp, images, indices, { kind }, 5, "train", 1, opts);
      const d = maxDiff(cpu, web);
      assert.ok(d <= TOL / 0.3081, `${kind}: ${d}`);
    }
  },
});
