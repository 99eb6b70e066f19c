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
} from "../src/tensor/backends/ort_gemm.ts";
import { CounterRng } from "../src/rng/philox.ts";

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
