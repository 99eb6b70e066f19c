/** Structure metrics on cases computable by hand: isometries, a uniform scaling, a 3-point example. */
import assert from "node:assert/strict";
import { samplePairIndices, structureMetrics } from "../src/metrics/structure.ts";
import { CounterRng } from "../src/rng/philox.ts";

const close = (got: number | null, want: number, tol: number, what: string) => {
  assert.ok(got !== null && Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want} ± ${tol}`);
};

function points(label: string, n: number, d: number): Float32Array {
  return new CounterRng(0, "tests", "structure", label).normals(n * d);
}

/** All pairwise distances of the [n, d] rows, in pair order (i < j). */
function pairDistances(x: Float32Array, n: number, d: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < d; k++) acc += (x[i * d + k] - x[j * d + k]) ** 2;
      out.push(Math.sqrt(acc));
    }
  }
  return out;
}

Deno.test("structure: the identity is an exact isometry (all ones, zero errors)", () => {
  const f = points("identity", 50, 16);
  const { metrics } = structureMetrics(f, 16, f, 16);
  assert.equal(metrics.pairs, 1225);
  assert.equal(metrics.zeroDistancePairs, 0);
  assert.equal(metrics.l1, 1);
  assert.equal(metrics.l2, 1);
  close(metrics.slope, 1, 1e-12, "slope");
  close(metrics.intercept, 0, 1e-12, "intercept");
  close(metrics.r2, 1, 1e-12, "r2");
  assert.equal(metrics.rmsd, 0);
  assert.equal(metrics.nrmsd, 0);
  assert.equal(metrics.cvrmsd, 0);
});

Deno.test("structure: a rotation plus translation into a larger space is an isometry", () => {
  // E(x) = (x R + t, 0) with R a 2-D rotation acting on coordinate pairs: d' = d + 2 ≠ d.
  const n = 40, d = 8, dd = d + 2;
  const f = points("rotation", n, d);
  const ef = new Float32Array(n * dd);
  const c = Math.cos(0.7), s = Math.sin(0.7);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k += 2) {
      const x = f[i * d + k], y = f[i * d + k + 1];
      ef[i * dd + k] = c * x - s * y + 3;
      ef[i * dd + k + 1] = s * x + c * y - 1;
    }
  }
  const { metrics } = structureMetrics(f, d, ef, dd);
  const tol = 1e-5; // float32 rounding of the rotated features
  close(metrics.l1, 1, tol, "l1");
  close(metrics.l2, 1, tol, "l2");
  close(metrics.slope, 1, tol, "slope");
  close(metrics.intercept, 0, tol, "intercept");
  close(metrics.r2, 1, 1e-9, "r2");
  close(metrics.rmsd, 0, tol, "rmsd");
});

Deno.test("structure: uniform scaling by 2 gives L1 = L2 = m = 2, b = 0, R² = 1, RMSD = rms(d)", () => {
  const n = 30, d = 5;
  const f = points("scale", n, d);
  const ef = f.map((v) => 2 * v); // exact in float32, so e = 2d exactly
  const { metrics } = structureMetrics(f, d, ef, d);
  assert.equal(metrics.l1, 2);
  assert.equal(metrics.l2, 2);
  close(metrics.slope, 2, 1e-12, "slope");
  close(metrics.intercept, 0, 1e-12, "intercept");
  close(metrics.r2, 1, 1e-12, "r2");
  // e − d = d, so RMSD = sqrt(mean d²), and the normalised forms follow from the d's alone.
  const ds = pairDistances(f, n, d);
  const mean = ds.reduce((a, b) => a + b, 0) / ds.length;
  const rms = Math.sqrt(ds.reduce((a, b) => a + b * b, 0) / ds.length);
  close(metrics.rmsd, rms, 1e-12, "rmsd");
  close(metrics.nrmsd, rms / (Math.max(...ds) - Math.min(...ds)), 1e-12, "nrmsd");
  close(metrics.cvrmsd, rms / mean, 1e-12, "cvrmsd");
});

Deno.test("structure: a 3-point example worked by hand", () => {
  // F = (0, 1, 3) on a line, E∘F = (0, 2, 3). Pairs (0,1), (0,2), (1,2):
  // d = (1, 3, 2), e = (2, 3, 1); e/d = (2, 1, 0.5) → L1 = 0.5, L2 = 2.
  // mean d = mean e = 2; Sdd = 2, See = 2, Sde = 1 → m = 0.5, b = 1, R² = 1/4.
  // e − d = (1, 0, −1) → RMSD = sqrt(2/3); NRMSD = RMSD/(3 − 1); CVRMSD = RMSD/2.
  const { metrics, sample } = structureMetrics(
    new Float32Array([0, 1, 3]),
    1,
    new Float32Array([0, 2, 3]),
    1,
  );
  const rmsd = Math.sqrt(2 / 3);
  assert.deepEqual(metrics, {
    pairs: 3,
    zeroDistancePairs: 0,
    l1: 0.5,
    l2: 2,
    slope: 0.5,
    intercept: 1,
    r2: 0.25,
    rmsd,
    nrmsd: rmsd / 2,
    cvrmsd: rmsd / 2,
  });
  assert.deepEqual(sample, { d: [1, 3, 2], e: [2, 3, 1] });
});

Deno.test("structure: duplicate points are skipped for L1/L2 and counted; degenerate fits are null", () => {
  // Points 0 and 1 coincide (d = 0, so e = 0); the other pairs: d = (2, 2), e = (4, 4).
  const { metrics } = structureMetrics(new Float32Array([0, 0, 2]), 1, new Float32Array([5, 5, 9]), 1);
  assert.equal(metrics.zeroDistancePairs, 1);
  assert.equal(metrics.l1, 2);
  assert.equal(metrics.l2, 2);
  close(metrics.slope, 2, 1e-15, "slope"); // (0, 0), (2, 4), (2, 4)
  close(metrics.r2, 1, 1e-15, "r2");
  // Two points: one pair, so d has no spread and the regression is undefined.
  const one = structureMetrics(new Float32Array([0, 1]), 1, new Float32Array([0, 3]), 1).metrics;
  assert.equal(one.slope, null);
  assert.equal(one.intercept, null);
  assert.equal(one.r2, null);
  assert.equal(one.nrmsd, null);
  assert.equal(one.l1, 3);
  assert.equal(one.rmsd, 2);
  // All points equal: no pair has d > 0.
  const same = structureMetrics(new Float32Array([1, 1, 1]), 1, new Float32Array([1, 1, 1]), 1).metrics;
  assert.equal(same.l1, null);
  assert.equal(same.cvrmsd, null);
});

Deno.test("structure: the scatter sample is deterministic, at most sampleSize, and holds real pairs", () => {
  const n = 100, d = 4;
  const f = points("sample", n, d), ef = points("sampleE", n, d);
  const a = structureMetrics(f, d, ef, d, { sampleSize: 200, seed: 7 });
  const b = structureMetrics(f, d, ef, d, { sampleSize: 200, seed: 7 });
  const c = structureMetrics(f, d, ef, d, { sampleSize: 200, seed: 8 });
  assert.equal(a.sample.d.length, 200);
  assert.deepEqual(a.sample, b.sample);
  assert.notDeepEqual(a.sample, c.sample);
  const ds = pairDistances(f, n, d), es = pairDistances(ef, n, d);
  const picks = samplePairIndices(ds.length, 200, 7);
  assert.equal(new Set(picks).size, 200);
  picks.forEach((p, i) => {
    close(a.sample.d[i], ds[p], 1e-12, `sample d ${i}`);
    close(a.sample.e[i], es[p], 1e-12, `sample e ${i}`);
  });
  // The metrics themselves do not depend on the sample.
  assert.deepEqual(a.metrics, c.metrics);
});

Deno.test("structure: rejects mismatched shapes and non-finite features", () => {
  assert.throws(
    () => structureMetrics(new Float32Array(6), 2, new Float32Array(4), 2),
    /3 rows of F and 2 rows/,
  );
  assert.throws(() => structureMetrics(new Float32Array(2), 2, new Float32Array(2), 2), /at least 2/);
  assert.throws(
    () => structureMetrics(new Float32Array([0, NaN]), 1, new Float32Array(2), 1),
    /value NaN at row 1/,
  );
});

Deno.test("structure: timing of 2000 points at d = d' = 384 (about 2M pairs)", () => {
  const n = 2000, d = 384;
  const f = points("timingF", n, d), ef = points("timingE", n, d);
  const t0 = performance.now();
  const { metrics } = structureMetrics(f, d, ef, d);
  console.log(`structure 2000×384: ${(performance.now() - t0).toFixed(0)} ms for ${metrics.pairs} pairs`);
  assert.ok(metrics.r2 !== null && metrics.r2 < 0.01); // independent clouds: no linear relation
});
