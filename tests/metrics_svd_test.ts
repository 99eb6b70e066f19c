/** One-sided Jacobi SVD: reconstruction, orthonormality, order, and the degenerate shapes Procrustes meets. */
import assert from "node:assert/strict";
import { type Svd, svd } from "../src/metrics/svd.ts";
import { CounterRng } from "../src/rng/philox.ts";

function randomMatrix(label: string, m: number, n: number): Float64Array {
  return Float64Array.from(new CounterRng(0, "tests", "svd", label).normals(m * n));
}

/** max |A − U S Vᵀ| relative to max |A| (absolute when A is 0). */
function reconstructionError(a: ArrayLike<number>, r: Svd): number {
  const { m, n, u, s, v } = r;
  const k = Math.min(m, n);
  let err = 0, scale = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let l = 0; l < k; l++) acc += u[i * k + l] * s[l] * v[j * k + l];
      err = Math.max(err, Math.abs(acc - a[i * n + j]));
      scale = Math.max(scale, Math.abs(a[i * n + j]));
    }
  }
  return scale > 0 ? err / scale : err;
}

/** max |XᵀX − I| for the [rows, cols] row-major X. */
function orthonormalityError(x: Float64Array, rows: number, cols: number): number {
  let err = 0;
  for (let p = 0; p < cols; p++) {
    for (let q = p; q < cols; q++) {
      let acc = 0;
      for (let i = 0; i < rows; i++) acc += x[i * cols + p] * x[i * cols + q];
      err = Math.max(err, Math.abs(acc - (p === q ? 1 : 0)));
    }
  }
  return err;
}

function checkSvd(a: ArrayLike<number>, m: number, n: number, tol: number): Svd {
  const r = svd(a, m, n);
  const k = Math.min(m, n);
  assert.equal(r.u.length, m * k);
  assert.equal(r.v.length, n * k);
  assert.equal(r.s.length, k);
  for (let i = 0; i < k; i++) {
    assert.ok(r.s[i] >= 0, `σ_${i} = ${r.s[i]} is negative`);
    if (i > 0) assert.ok(r.s[i] <= r.s[i - 1], `σ not descending at ${i}`);
  }
  const rec = reconstructionError(a, r);
  assert.ok(rec < tol, `reconstruction error ${rec} ≥ ${tol}`);
  const ou = orthonormalityError(r.u, m, k), ov = orthonormalityError(r.v, n, k);
  assert.ok(ou < tol, `UᵀU − I = ${ou}`);
  assert.ok(ov < tol, `VᵀV − I = ${ov}`);
  return r;
}

Deno.test("svd: random square matrices up to 384×384 reconstruct, with orthonormal U and V", () => {
  for (const n of [1, 2, 7, 64, 384]) {
    const t0 = performance.now();
    const r = checkSvd(randomMatrix(`square${n}`, n, n), n, n, 1e-12);
    if (n === 384) console.log(`svd 384×384: ${(performance.now() - t0).toFixed(0)} ms, ${r.sweeps} sweeps`);
  }
});

Deno.test("svd: tall and wide matrices give the thin decomposition", () => {
  checkSvd(randomMatrix("tall", 120, 30), 120, 30, 1e-12);
  const wide = checkSvd(randomMatrix("wide", 30, 120), 30, 120, 1e-12);
  // Singular values of A and Aᵀ agree.
  const at = new Float64Array(120 * 30);
  const a = randomMatrix("wide", 30, 120);
  for (let i = 0; i < 30; i++) for (let j = 0; j < 120; j++) at[j * 30 + i] = a[i * 120 + j];
  const tall = svd(at, 120, 30);
  for (let i = 0; i < 30; i++) assert.ok(Math.abs(tall.s[i] - wide.s[i]) < 1e-12 * wide.s[0]);
});

Deno.test("svd: known singular values of a scaled permutation", () => {
  // A = P · diag(3, 5, 1, 2): the singular values are the scales, descending, exactly.
  const a = [0, 5, 0, 0, 0, 0, 0, 2, 3, 0, 0, 0, 0, 0, 1, 0];
  const r = checkSvd(a, 4, 4, 1e-15);
  assert.deepEqual([...r.s], [5, 3, 2, 1]);
});

Deno.test("svd: rank-deficient and zero matrices still give orthonormal U and V", () => {
  // Rank 3 in 40×40: U must be completed in the null directions.
  const n = 40, rank = 3;
  const f = randomMatrix("lowrankF", n, rank), g = randomMatrix("lowrankG", rank, n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) for (let l = 0; l < rank; l++) a[i * n + j] += f[i * rank + l] * g[l * n + j];
  }
  const r = checkSvd(a, n, n, 1e-12);
  for (let i = rank; i < n; i++) assert.ok(r.s[i] < 1e-12 * r.s[0], `σ_${i} = ${r.s[i]} should be ~0`);
  const z = checkSvd(new Float64Array(25), 5, 5, 1e-15);
  assert.deepEqual([...z.s], [0, 0, 0, 0, 0]);
  // A zero column in an otherwise full matrix (a dead feature).
  const dead = randomMatrix("dead", 20, 8);
  for (let i = 0; i < 20; i++) dead[i * 8 + 3] = 0;
  checkSvd(dead, 20, 8, 1e-12);
});

Deno.test("svd: rejects bad shapes and non-finite values", () => {
  assert.throws(() => svd([1, 2, 3], 2, 2), /3 values for \[2, 2\]/);
  assert.throws(() => svd([1, NaN, 3, 4], 2, 2), /value NaN at row 0, col 1/);
  assert.throws(() => svd([], 0, 2), /positive integer/);
});
