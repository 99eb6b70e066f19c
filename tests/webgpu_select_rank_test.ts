/**
 * The WebGPU backend's radix selection of upper-triangle ranks (kernels/select_rank.wgsl), which
 * HSIC's median bandwidth uses instead of sorting the n(n−1)/2 values every step: the same values
 * as the host's selection (= a full sort, tests/losses_properties_test.ts) on random data, ties,
 * negatives, NaN and a single pair; the same bandwidth, bit for bit, as the sort it replaces; and
 * a handful of dispatches, no readback and no index upload for a 1024-point kernel.
 */
import assert from "node:assert/strict";
import type { Backend } from "../src/tensor/backend.ts";
import type { WebGpuBackend } from "../src/tensor/backends/webgpu/backend.ts";
import { medianDistance, upperTriangleRanks } from "../src/methods/losses/hsic.ts";
import { pairwiseSqDist, tensor } from "../src/tensor/ops.ts";
import { Tensor, tidy } from "../src/tensor/tensor.ts";
import { normals, webgpuBackend } from "./helpers.ts";

const gpu = await webgpuBackend() as WebGpuBackend | null;
const ignore = gpu === null;

async function deviceRanks(b: WebGpuBackend, all: Float32Array, n: number, k1: number, k2: number) {
  const a = tensor(all, [n, n], { backend: b, allowNonFinite: true });
  const r = new Tensor(b, b.upperTriangleRanks(a.storage, n, k1, k2), [1, 2]);
  const out = await r.toArray();
  a.dispose();
  r.dispose();
  return [...out];
}

Deno.test({
  name: "webgpu upperTriangleRanks = the host's selection (random, ties, negatives, spread, one pair)",
  ignore,
  async fn() {
    const b = gpu!;
    const cases: [string, (i: number) => number][] = [
      ["pseudo-random signed", (i) => (Math.sin(i * 12.9898) * 43758.5453) % 1],
      ["ties", (i) => (i % 7) - 3],
      ["spread over many exponents", (i) => Math.pow(-1.7, (i % 41) - 20)],
      ["all equal", () => 2.5],
      ["one bucket of the top 16 bits", (i) => 1 + ((i * 7919) % 65536) * 2 ** -23],
    ];
    for (const [what, f] of cases) {
      for (const n of [2, 3, 40, 41, 300]) {
        const all = Float32Array.from({ length: n * n }, (_, i) => f(i));
        const q = (n * (n - 1)) / 2;
        for (const [k1, k2] of [[(q - 1) >> 1, q >> 1], [0, Math.min(1, q - 1)], [q - 1, q - 1]]) {
          assert.deepEqual(
            await deviceRanks(b, all, n, k1, k2),
            upperTriangleRanks(all, n, k1, k2),
            `${what}, n ${n}, ranks ${k1} ${k2}`,
          );
        }
      }
    }
  },
});

Deno.test({
  name: "webgpu upperTriangleRanks puts NaN after +Infinity, as the sort does",
  ignore,
  async fn() {
    const n = 4, all = new Float32Array(n * n).fill(1);
    all[1] = NaN, all[2] = Infinity, all[7] = -2; // upper triangle: NaN, ∞, 1, 1, -2, 1
    const [a, b] = await deviceRanks(gpu!, all, n, 4, 5);
    assert.equal(a, Infinity);
    assert.ok(Number.isNaN(b));
    assert.deepEqual(await deviceRanks(gpu!, all, n, 0, 1), [-2, 1]);
  },
});

Deno.test({
  name: "webgpu median bandwidth: the sort's value bit for bit, in 8 dispatches with no readback",
  ignore,
  async fn() {
    const b = gpu!;
    // The same backend without the selection: medianDistance falls back to sorting the triangle.
    const sorting = new Proxy(b, {
      get(target, key) {
        if (key === "upperTriangleRanks") return undefined;
        const v = Reflect.get(target, key, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    }) as Backend;
    for (const [n, d] of [[12, 3], [1024, 128]]) {
      const x = normals(`select-rank-${n}`, n * d);
      const median = async (backend: Backend) => {
        const z = tensor(x, [n, d], { backend });
        const d2 = tidy(() => pairwiseSqDist(z, z));
        await b.sync();
        const before = b.counts;
        const m = medianDistance(d2);
        const after = b.counts;
        const value = await m.item();
        [z, d2, m].forEach((t) => t.dispose());
        return { value, dispatches: after.dispatches - before.dispatches, reads: after.reads - before.reads };
      };
      const selected = await median(b), sorted = await median(sorting);
      assert.equal(selected.value, sorted.value, `n ${n}`);
      // The 4 selection passes, then sqrt, the sum of the two values and its division.
      assert.ok(selected.dispatches <= 8, `n ${n}: ${selected.dispatches} dispatches`);
      assert.equal(selected.reads, 0);
      if (n === 1024) assert.ok(sorted.dispatches > 50, `the sort took ${sorted.dispatches} dispatches`);
    }
  },
});
