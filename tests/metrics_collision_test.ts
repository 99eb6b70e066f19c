/** Collision rates, nearest neighbours and the rigid (Procrustes) alignment behind them. */
import assert from "node:assert/strict";
import { collisionRate, collisionRates } from "../src/metrics/collision.ts";
import { nearestNeighbors } from "../src/metrics/nearest.ts";
import { applyRigid, fitRigid } from "../src/metrics/procrustes.ts";
import { svd } from "../src/metrics/svd.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { CpuBackend } from "../src/tensor/backends/cpu.ts";

const backend = new CpuBackend();

/** A random d×d orthogonal matrix (U of the SVD of a Gaussian matrix). */
function randomOrthogonal(label: string, d: number): Float64Array {
  return svd(new CounterRng(0, "tests", "orth", label).normals(d * d), d, d).u;
}

/** `k` well-separated Gaussian blobs in d dimensions, `per` points each (labels 0..k−1 in blocks). */
function blobs(label: string, k: number, per: number, d: number, spread = 0.3) {
  const rng = new CounterRng(0, "tests", "blobs", label);
  const centres = rng.normals(k * d, 0, 10);
  const noise = rng.normals(k * per * d, 0, spread, k * d);
  const x = new Float32Array(k * per * d), y = new Int32Array(k * per);
  for (let i = 0; i < k * per; i++) {
    const c = Math.floor(i / per);
    y[i] = c;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[c * d + j] + noise[i * d + j];
  }
  return { x, y };
}

/** rows · q + t, as float32 features. */
function transform(x: Float32Array, d: number, q: Float64Array, t: number[]): Float32Array {
  const n = x.length / d, out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < d; b++) {
      let acc = t[b];
      for (let a = 0; a < d; a++) acc += x[i * d + a] * q[a * d + b];
      out[i * d + b] = acc;
    }
  }
  return out;
}

Deno.test("collision: a 3-point example worked by hand, raw and aligned", async () => {
  // Clean points on a line: 0 (label 0), 10 (label 1), 20 (label 0).
  // Augmented images of them: 4, 6, 14. Raw nearest clean neighbours: 0 ✓, 10 ✓, 10 ✗ → 1/3.
  // Alignment (1-D: R = ±1): centred augmented (−4, −2, 6), centred clean (−10, 0, 10),
  // Σ y·x = 100 > 0 → R = 1, shift by 10 − 8: aligned 6, 8, 16 → 10 ✗, 10 ✓, 20 ✓ → 1/3.
  const clean = new Float32Array([0, 10, 20]), labels = new Int32Array([0, 1, 0]);
  const r = await collisionRates({
    dim: 1,
    clean,
    cleanLabels: labels,
    augmented: new Float32Array([4, 6, 14]),
    augmentedLabels: labels,
  });
  assert.equal(r.raw, 1 / 3);
  assert.equal(r.aligned, 1 / 3);
  assert.equal(r.samples, 3);
  assert.deepEqual([...r.alignment.rotation], [1]);
  assert.deepEqual([...await applyRigid(r.alignment, new Float32Array([4, 6, 14]))], [6, 8, 16]);
  // A reflection is an orthogonal map too: the mirrored cloud aligns back exactly.
  const mirrored = await collisionRates({
    dim: 1,
    clean,
    cleanLabels: labels,
    augmented: new Float32Array([5, -5, -15]),
    augmentedLabels: labels,
  });
  assert.deepEqual([...mirrored.alignment.rotation], [-1]);
  assert.equal(mirrored.aligned, 0);
});

Deno.test("collision: alignment undoes a known rotation plus translation", async () => {
  const d = 16, k = 4, per = 60;
  const { x, y } = blobs("rotated", k, per, d);
  const q = randomOrthogonal("rotated", d);
  const t = Array.from({ length: d }, (_, j) => 25 + j);
  const aug = transform(x, d, q, t);
  // R recovers Qᵀ (aug = x Q + t, so aug Qᵀ undoes it) and the residual is float32 rounding,
  // with float64 products and with float32 GEMMs on the backend.
  for (const b of [undefined, backend]) {
    const fit = await fitRigid(aug, x, d, b);
    let err = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) err = Math.max(err, Math.abs(fit.rotation[i * d + j] - q[j * d + i]));
    }
    // Float32 GEMMs perturb R most in the directions where the cloud barely spreads (within a
    // blob, σ = 0.3 against centres σ = 10), which move the points least: check both.
    const tol = b ? 1e-3 : 1e-5;
    assert.ok(err < tol, `rotation error ${err} (${b ? "gemm" : "float64"})`);
    assert.ok(fit.rmsResidual < 1e-3, `residual ${fit.rmsResidual}`);
    const moved = await applyRigid(fit, aug, b);
    let ss = 0;
    for (let i = 0; i < moved.length; i++) ss += (moved[i] - x[i]) ** 2;
    assert.ok(Math.sqrt(ss / (k * per)) < 1e-3, `applied residual ${Math.sqrt(ss / (k * per))}`);
  }

  const selfCollision = await collisionRate(x, y, x, y, d, backend);
  assert.equal(selfCollision, 0);
  const r = await collisionRates({
    dim: d,
    clean: x,
    cleanLabels: y,
    augmented: aug,
    augmentedLabels: y,
    backend,
  });
  assert.equal(r.aligned, selfCollision);
  assert.ok(r.raw > 0.5, `raw collision ${r.raw} should be large for a far-moved cloud`);
});

Deno.test("collision: several augmented samples per image pair with their own source rows", async () => {
  // s = 3 noisy rotated copies per clean point; pairedClean holds each copy's own clean image.
  const d = 8, k = 3, per = 40, s = 3;
  const { x, y } = blobs("multi", k, per, d);
  const n = k * per;
  const q = randomOrthogonal("multi", d);
  const noise = new CounterRng(0, "tests", "multi-noise").normals(n * s * d, 0, 0.05);
  const paired = new Float32Array(n * s * d), labels = new Int32Array(n * s);
  for (let i = 0; i < n * s; i++) {
    const src = Math.floor(i / s);
    labels[i] = y[src];
    for (let j = 0; j < d; j++) paired[i * d + j] = x[src * d + j] + noise[i * d + j];
  }
  const aug = transform(paired, d, q, new Array(d).fill(-40));
  const r = await collisionRates({
    dim: d,
    clean: x,
    cleanLabels: y,
    augmented: aug,
    augmentedLabels: labels,
    pairedClean: paired,
    backend,
  });
  assert.equal(r.samples, n * s);
  assert.equal(r.aligned, 0);
  assert.ok(r.raw > 0.5);
  await assert.rejects(
    collisionRates({ dim: d, clean: x, cleanLabels: y, augmented: aug, augmentedLabels: labels }),
    /expected one per augmented row/,
  );
});

Deno.test("nearest: the GEMM-screened search returns exactly the float64 loop's neighbours", async () => {
  const d = 32, n = 300, m = 2000;
  const rng = new CounterRng(0, "tests", "nn");
  // Offset far from the origin (large norms stress the float32 screen) and add duplicate rows
  // and queries equal to references (exact ties: the lowest index must win on both paths).
  const refs = rng.normals(m * d, 50, 1);
  for (let j = 0; j < d; j++) refs[1500 * d + j] = refs[10 * d + j];
  const queries = rng.normals(n * d, 50, 1, m * d);
  for (let j = 0; j < d; j++) queries[j] = refs[1500 * d + j];
  const exact = await nearestNeighbors(queries, refs, d);
  const fast = await nearestNeighbors(queries, refs, d, { backend, blockEntries: 50_000 });
  assert.deepEqual(fast.index, exact.index);
  assert.deepEqual(fast.sqDist, exact.sqDist);
  assert.equal(exact.index[0], 10);
  assert.equal(exact.sqDist[0], 0);
  assert.ok(
    fast.exactComparisons < n * 20,
    `${fast.exactComparisons} float64 comparisons; the screen should prune`,
  );
});

Deno.test("nearest: timing of 1000 queries × 10000 references at d = 128", async () => {
  const d = 128, n = 1000, m = 10000;
  const rng = new CounterRng(0, "tests", "nn-timing");
  const refs = rng.normals(m * d), queries = rng.normals(n * d, 0, 1, m * d);
  let t0 = performance.now();
  const fast = await nearestNeighbors(queries, refs, d, { backend });
  const gemmMs = performance.now() - t0;
  t0 = performance.now();
  const sub = 100;
  const exact = await nearestNeighbors(queries.subarray(0, sub * d), refs, d);
  const loopMs = ((performance.now() - t0) * n) / sub;
  console.log(
    `nearest 1000×10000×128: GEMM-screened ${
      gemmMs.toFixed(0)
    } ms (${fast.exactComparisons} float64 checks); ` +
      `float64 loop ≈ ${loopMs.toFixed(0)} ms (extrapolated from ${sub} queries)`,
  );
  assert.deepEqual(fast.index.subarray(0, sub), exact.index);
});

Deno.test("collision: rejects mismatched labels, shapes and non-finite features", async () => {
  const x = new Float32Array([0, 1, 2, 3]);
  await assert.rejects(
    collisionRate(x, new Int32Array(3), x, new Int32Array(2), 2),
    /3 query labels for 2 rows/,
  );
  await assert.rejects(
    collisionRate(x, new Int32Array(1), x, new Int32Array(1), 3),
    /expected a multiple of d = 3/,
  );
  await assert.rejects(
    collisionRate(new Float32Array([0, NaN]), new Int32Array(1), x, new Int32Array(2), 2),
    /queries value NaN at row 0, col 1/,
  );
  await assert.rejects(fitRigid(x, new Float32Array(2), 2), /2 source rows and 1 target rows/);
});
