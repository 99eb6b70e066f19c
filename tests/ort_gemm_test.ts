/**
 * The CPU backend's GEMM rounds as MLAS on a pool of GEMM_THREADS threads however many it runs
 * on: a worker of a parallel run multiplies on one thread where `roundsAlike` allows it, and the
 * reference results must not move by a bit.
 */
import assert from "node:assert/strict";
import {
  GEMM_THREADS,
  gemmOnThreads,
  ortGemm,
  roundsAlike,
  setGemmThreads,
  transposedRoundsAlike,
} from "../src/tensor/backends/ort_gemm.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { transposeInto } from "../src/tensor/backends/cpu_matmul.ts";

const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
const sameBits = (x: Float32Array, y: Float32Array) => bits(x).every((v, i) => v === bits(y)[i]);

function operands(m: number, n: number, k: number, transA: boolean, transB: boolean, seed: number) {
  const rng = new CounterRng(seed, "gemm test", m, n, k);
  return {
    a: rng.uniforms(m * k, -1, 1),
    b: rng.uniforms(k * n, -1, 1, m * k),
    aShape: (transA ? [k, m] : [m, k]) as [number, number],
    bShape: (transB ? [n, k] : [k, n]) as [number, number],
  };
}

/** The step's shapes, the classifier's and nearest-neighbour screens', and split edge cases. */
const DIMS = [1, 2, 3, 10, 16, 17, 64, 65, 100, 128, 129, 256, 384, 513, 1024];

Deno.test("ort gemm: one thread where roundsAlike allows it gives the 2-thread pool's bits, every shape", () => {
  let split = 0, checked = 0;
  for (const m of DIMS) {
    for (const n of DIMS) {
      for (const k of [64, 129, 1024]) {
        const macs = m * n * k;
        if (macs < 8192 || macs > 3e7) continue;
        const transA = (m + n) % 2 === 1, transB = (n + k) % 3 === 0;
        const { a, aShape, b, bShape } = operands(m, n, k, transA, transB, checked);
        const pool = new Float32Array(m * n), one = new Float32Array(m * n);
        gemmOnThreads(GEMM_THREADS, a, aShape, b, bShape, transA, transB, pool);
        try {
          setGemmThreads(1);
          ortGemm(a, aShape, b, bShape, transA, transB, one);
        } finally {
          setGemmThreads(GEMM_THREADS);
        }
        assert(sameBits(pool, one), `${m}×${k}·${k}×${n} transA ${transA} transB ${transB}`);
        if (!roundsAlike(m, n, k, transA, transB)) split++;
        checked++;
      }
    }
  }
  assert(checked > 300 && split > 10, `${checked} shapes, ${split} kept on the pool`);
});

Deno.test("ort gemm: the thread count does change some products' rounding (why roundsAlike exists)", () => {
  // n > m: MLAS gives each of 2 threads 64 columns and doubles their K block; one thread, one block size.
  const [m, n, k] = [10, 128, 1024];
  assert.equal(roundsAlike(m, n, k, false, false), false);
  const { a, aShape, b, bShape } = operands(m, n, k, false, false, 7);
  const pool = new Float32Array(m * n), one = new Float32Array(m * n);
  gemmOnThreads(GEMM_THREADS, a, aShape, b, bShape, false, false, pool);
  gemmOnThreads(1, a, aShape, b, bShape, false, false, one);
  assert(!sameBits(pool, one), "10×1024·1024×128 rounded alike on 1 and 2 threads");
  // A row split never changes K blocks: the step's 1024×128·128×1024 is alike, and equal.
  assert(roundsAlike(1024, 1024, 128, false, false));
  const big = operands(1024, 1024, 128, false, false, 8);
  const p2 = new Float32Array(1024 * 1024), p1 = new Float32Array(1024 * 1024);
  gemmOnThreads(GEMM_THREADS, big.a, big.aShape, big.b, big.bShape, false, false, p2);
  gemmOnThreads(1, big.a, big.aShape, big.b, big.bShape, false, false, p1);
  assert(sameBits(p1, p2));
});

/** transpose(op(A)·op(B)) computed directly as op(B)ᵀ·op(A)ᵀ, on the pool as a product runs. */
function bothWays(m: number, n: number, k: number, transA: boolean, transB: boolean, seed: number) {
  const { a, aShape, b, bShape } = operands(m, n, k, transA, transB, seed);
  const product = new Float32Array(m * n),
    direct = new Float32Array(n * m),
    swapped = new Float32Array(n * m);
  gemmOnThreads(GEMM_THREADS, a, aShape, b, bShape, transA, transB, product);
  transposeInto(product, m, n, direct);
  gemmOnThreads(GEMM_THREADS, b, bShape, a, aShape, !transB, !transA, swapped);
  return { direct, swapped };
}

Deno.test("ort gemm: where transposedRoundsAlike holds, Bᵀ·Aᵀ is transpose(A·B) bit for bit", () => {
  let alike = 0, checked = 0;
  for (const m of DIMS) {
    for (const n of DIMS) {
      for (const k of [64, 129, 1024]) {
        const macs = m * n * k;
        if (macs < 8192 || macs > 1e7) continue;
        for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
          if (!transposedRoundsAlike(m, n, k, transA, transB)) continue;
          const { direct, swapped } = bothWays(m, n, k, transA, transB, checked);
          assert(sameBits(direct, swapped), `${m}×${k}·${k}×${n} transA ${transA} transB ${transB}`);
          alike++;
        }
        checked++;
      }
    }
  }
  assert(alike > 1000, `${alike} of ${4 * checked} products alike`);
  // The sliced Wasserstein projections of the default matrix and of the paper's shapes (WaCo's
  // [x, y] against 250 and 1000 directions, the plain SW bench) take the direct route.
  for (const [n, d, P] of [[1024, 256, 250], [1024, 768, 1000], [1024, 384, 1000], [1024, 128, 250]]) {
    assert(transposedRoundsAlike(n, P, d, false, false), `[${n}, ${d}]·[${d}, ${P}]`);
  }
});

Deno.test("ort gemm: swapping the factors does change some products' rounding (why transposedRoundsAlike exists)", () => {
  // 1024×256·256×10: ten columns give one K block of 1024 (MLAS widens K as N narrows); the swapped
  // 10×256·256×1024 sums in two blocks of 128.
  const [m, n, k] = [1024, 10, 256];
  assert.equal(transposedRoundsAlike(m, n, k, false, false), false);
  const { direct, swapped } = bothWays(m, n, k, false, false, 9);
  assert(!sameBits(direct, swapped), "1024×256·256×10 rounded alike both ways");
});
