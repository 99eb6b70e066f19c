/**
 * The baselines that train no adapter loss (src/methods/baselines): the ridge / Cholesky solve
 * against a float64 direct solution, steer recovering known linear maps exactly, tta's average
 * being invariant to a cyclic shift of its copies (arrays, and real MNIST through the fixture
 * backbone), the transform bins of every augmentation kind, and every baseline end to end through
 * `runCell` on real MNIST rotation (rows complete, metrics finite, flags and cost profiles as
 * documented, steer beating `none` on augmented accuracy).
 */
import nodeAssert from "node:assert/strict";
import { resolve } from "node:path";
import { augmentBatch, batchOf } from "../src/augment/augment.ts";
import type { ViewParams } from "../src/augment/params.ts";
import { extractFeatures } from "../src/backbone/extract.ts";
import { OnnxBackbone } from "../src/backbone/onnx_backbone.ts";
import { FeatureCache } from "../src/cache/feature_cache.ts";
import { loadMnist } from "../src/data/mnist.ts";
import { expandMatrix, MatrixSpec } from "../src/catalogs.ts";
import type { AugmentationSpec } from "../src/matrix/schema.ts";
import { transformBins } from "../src/augment/spec.ts";
import { averageCopies, ttaAugmentation, ttaCopies } from "../src/methods/baselines/tta.ts";
import { method as steer } from "../src/methods/baselines/steer.ts";
import { applyMaps, cholesky, choleskySolve, fitRidge } from "../src/methods/baselines/ridge.ts";
import type { CellFeatures } from "../src/methods/method.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { newRunContext, runCell } from "../src/run/cell.ts";
import type { ResultRow } from "../src/results/schema.ts";
import { CpuBackend } from "../src/tensor/backends/cpu.ts";

const assert: (cond: unknown, msg?: string) => asserts cond = nodeAssert.ok;
const assertEquals = <T>(got: T, want: T, msg?: string) => nodeAssert.deepStrictEqual(got, want, msg);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length, "lengths");
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function normals(label: string, n: number, std = 1): Float64Array {
  return Float64Array.from(new CounterRng(0, "tests", "baselines", label).normals(n, 0, std));
}

/** Solves A·X = B (A n×n, B n×m, row-major) by Gaussian elimination with partial pivoting. */
function gaussSolve(a: Float64Array, n: number, b: Float64Array, m: number): Float64Array {
  const A = Float64Array.from(a), X = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r * n + c]) > Math.abs(A[p * n + c])) p = r;
    for (let k = 0; k < n; k++) [A[c * n + k], A[p * n + k]] = [A[p * n + k], A[c * n + k]];
    for (let k = 0; k < m; k++) [X[c * m + k], X[p * m + k]] = [X[p * m + k], X[c * m + k]];
    for (let r = c + 1; r < n; r++) {
      const f = A[r * n + c] / A[c * n + c];
      for (let k = c; k < n; k++) A[r * n + k] -= f * A[c * n + k];
      for (let k = 0; k < m; k++) X[r * m + k] -= f * X[c * m + k];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    for (let k = r + 1; k < n; k++) for (let j = 0; j < m; j++) X[r * m + j] -= A[r * n + k] * X[k * m + j];
    for (let j = 0; j < m; j++) X[r * m + j] /= A[r * n + r];
  }
  return X;
}

Deno.test("cholesky and choleskySolve match Gaussian elimination in float64", () => {
  const n = 40, m = 3;
  // A = GᵀG + I: symmetric positive definite.
  const g = normals("chol-g", n * n), a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < n; k++) s += g[k * n + i] * g[k * n + j];
      a[i * n + j] = s;
    }
  }
  const l = cholesky(a, n);
  // L·Lᵀ = A and L is lower triangular.
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (j > i) assertEquals(l[i * n + j], 0, `L[${i}][${j}]`);
      let s = 0;
      for (let k = 0; k < n; k++) s += l[i * n + k] * l[j * n + k];
      worst = Math.max(worst, Math.abs(s - a[i * n + j]) / (1 + Math.abs(a[i * n + j])));
    }
  }
  assert(worst < 1e-12, `L·Lᵀ differs from A by ${worst}`);
  const b = normals("chol-b", n * m);
  const err = maxAbsDiff(choleskySolve(l, n, b, m), gaussSolve(a, n, b, m));
  assert(err < 1e-10, `choleskySolve differs from Gaussian elimination by ${err}`);
  nodeAssert.throws(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2), /not positive definite/);
});

Deno.test("fitRidge equals the float64 direct solution of the bias-augmented normal equations", () => {
  const n = 300, din = 10, dout = 4, ridge = 0.05;
  const x = Float32Array.from(normals("ridge-x", n * din, 2)).map((v, i) => v + (i % din)); // non-zero means
  const y = Float32Array.from(normals("ridge-y", n * dout));
  // Direct: θ = [W; b] minimises (1/n)‖y − [x, 1]·θ‖² + λ·s·‖W‖², s = mean variance of x's columns.
  const p = din + 1, a = new Float64Array(p * p), rhs = new Float64Array(p * dout);
  const z = (r: number, c: number) => (c < din ? x[r * din + c] : 1);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) a[i * p + j] += z(r, i) * z(r, j) / n;
      for (let j = 0; j < dout; j++) rhs[i * dout + j] += z(r, i) * y[r * dout + j] / n;
    }
  }
  let s = 0;
  for (let c = 0; c < din; c++) {
    let mean = 0, sq = 0;
    for (let r = 0; r < n; r++) mean += x[r * din + c] / n;
    for (let r = 0; r < n; r++) sq += (x[r * din + c] - mean) ** 2 / n;
    s += sq / din;
  }
  for (let i = 0; i < din; i++) a[i * p + i] += ridge * s;
  const theta = gaussSolve(a, p, rhs, dout);
  const map = fitRidge(x, y, din, dout, ridge);
  assert(maxAbsDiff(map.weight, theta.subarray(0, din * dout)) < 1e-10, "W differs");
  assert(maxAbsDiff(map.bias, theta.subarray(din * dout)) < 1e-10, "b differs");
  // A row subset is the same fit as the subset's own rows.
  const rows = Array.from({ length: 100 }, (_, i) => 3 * i);
  const sub = fitRidge(
    Float32Array.from(rows.flatMap((r) => Array.from(x.subarray(r * din, (r + 1) * din)))),
    Float32Array.from(rows.flatMap((r) => Array.from(y.subarray(r * dout, (r + 1) * dout)))),
    din,
    dout,
    ridge,
  );
  const picked = fitRidge(x, y, din, dout, ridge, rows);
  assert(maxAbsDiff(sub.weight, picked.weight) < 1e-12 && maxAbsDiff(sub.bias, picked.bias) < 1e-12, "rows");
});

/** A synthetic CellFeatures for rotation_c4: view v of train row i has bin (i + v) mod 4. */
function syntheticC4(d: number, nTrain: number, nTest: number, maps: { g: Float64Array; h: Float64Array }[]) {
  const clean = {
    train: Float32Array.from(normals("syn-train", nTrain * d)),
    test: Float32Array.from(normals("syn-test", nTest * d)),
  };
  const binOf = (split: "train" | "test", i: number, v: number) => (i + v + (split === "test" ? 1 : 0)) % 4;
  const augmented = (split: "train" | "test", v: number) => {
    const c = clean[split], n = c.length / d, out = new Float32Array(c.length);
    for (let i = 0; i < n; i++) {
      const { g, h } = maps[binOf(split, i, v)];
      for (let j = 0; j < d; j++) {
        let s = h[j];
        for (let k = 0; k < d; k++) s += c[i * d + k] * g[k * d + j];
        out[i * d + j] = s;
      }
    }
    return out;
  };
  const f: CellFeatures = {
    backend: new CpuBackend(),
    seed: 0,
    augmentation: { id: "c4", kind: "rotation_c4" },
    d,
    classes: 2,
    labels: { train: new Int32Array(nTrain), test: new Int32Array(nTest) },
    poolViews: 0,
    testDraws: 2,
    clean: (split) => Promise.resolve(clean[split]),
    augmented: (split, v) => Promise.resolve(augmented(split, v)),
    transformed: () => Promise.reject(new Error("not used")),
    viewParams: (split, v) =>
      Array.from(
        { length: clean[split].length / d },
        (_, i): ViewParams => ({ kind: "rotation", degrees: 90 * binOf(split, i, v) }),
      ),
  };
  return { f, clean };
}

Deno.test("steer recovers known linear maps exactly on synthetic data (oracle bins, clean → identity bin)", async () => {
  const d = 12;
  // Clean → augmented maps G_b (well conditioned), G_0 = identity as for the identity rotation.
  const maps = [0, 1, 2, 3].map((b) => {
    const g = normals(`syn-g${b}`, d * d, b === 0 ? 0 : 0.2), h = normals(`syn-h${b}`, d, b === 0 ? 0 : 1);
    for (let i = 0; i < d; i++) g[i * d + i] += 1;
    return { g, h };
  });
  const { f, clean } = syntheticC4(d, 200, 50, maps);
  const fitted = await steer.run({ id: "steer", kind: "steer", bins: 8, ridge: 1e-12, views: 4 }, f);
  assertEquals(fitted.flags, ["oracle-transform"]);
  assertEquals(fitted.cost, {
    backbone_passes_train: 5,
    backbone_passes_test: 1,
    trainable_parameters: 4 * (d * d + d), // c4: one map per element, `bins` ignored
  });
  const scale = 1e-4;
  assert(
    maxAbsDiff(fitted.trainSet.x as Float32Array, clean.train) < scale,
    "clean train through the identity-bin map",
  );
  assert(maxAbsDiff(await fitted.represent("clean"), clean.test) < scale, "clean test");
  for (const k of [0, 1]) {
    const err = maxAbsDiff(await fitted.represent(k), clean.test);
    assert(err < scale, `augmented test draw ${k}: the maps undo G_b up to ${err}`);
  }
  const e = await fitted.embed!(clean.test);
  assert(maxAbsDiff(e, clean.test) < scale, "E on clean features");
  // The maps themselves are G_b⁻¹ (with bias −h·G_b⁻¹): check on a unit basis through applyMaps.
  const basis = new Float32Array(d * d).map((_, i) => (i % (d + 1) === 0 ? 1 : 0));
  for (let b = 1; b < 4; b++) {
    const { g, h } = maps[b];
    const aug = new Float32Array(d * d); // rows e_i·G_b + h
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) aug[i * d + j] = g[i * d + j] + h[j];
    const back = applyMaps([fitRidge(aug, basis, d, d, 1e-12)], aug);
    assert(maxAbsDiff(back, basis) < 1e-4, `G_${b} inverted`);
  }
});

Deno.test("tta: the average is invariant to a cyclic shift of the copies", () => {
  const k = 8, n = 64;
  const copies = Array.from({ length: k }, (_, j) => Float32Array.from(normals(`copy${j}`, n)));
  const base = averageCopies(copies);
  for (let s = 1; s < k; s++) {
    const shifted = copies.map((_, j) => copies[(j + s) % k]);
    assert(maxAbsDiff(averageCopies(shifted), base) < 1e-6, `shift ${s}`);
  }
  // Rotation kinds: K fixed rotations by 360°·j/K; other kinds: K draws.
  assertEquals(
    ttaCopies({ id: "r", kind: "rotation", degrees: [-180, 180] }, 4).map((c) =>
      c.kind === "rotation" && c.degrees
    ),
    [0, 90, 180, 270],
  );
  const noise: AugmentationSpec = { id: "n", kind: "gaussian_noise", std: 1 };
  assertEquals(ttaCopies(noise, 2), [{ kind: "draw", spec: noise, index: 0 }, {
    kind: "draw",
    spec: noise,
    index: 1,
  }]);
  // Keys: base and copy both count; a fixed rotation's key does not depend on K.
  const rot: AugmentationSpec = { id: "r", kind: "rotation", degrees: [-180, 180] };
  const keys = [
    ttaAugmentation(null, { kind: "rotation", degrees: 90 }).key,
    ttaAugmentation(rot, { kind: "rotation", degrees: 90 }).key,
    ttaAugmentation(null, { kind: "rotation", degrees: 180 }).key,
    ttaAugmentation(null, { kind: "draw", spec: noise, index: 0 }).key,
    ttaAugmentation(null, { kind: "draw", spec: noise, index: 1 }).key,
  ].map((key) => JSON.stringify(key));
  assertEquals(new Set(keys).size, keys.length, "distinct keys");
  assertEquals(
    JSON.stringify(ttaAugmentation(null, ttaCopies(rot, 4)[1]).key),
    JSON.stringify(ttaAugmentation(null, ttaCopies(rot, 8)[2]).key),
  );
});

const ROOT = resolve(new URL(".", import.meta.url).pathname, "..");
const INPUT = {
  layout: "NCHW",
  size: [28, 28],
  channels: 1,
  resize: "none",
  mean: [0.1307],
  std: [0.3081],
} as const;
const tmp = await Deno.makeTempDir({ prefix: "invbench-baselines-test-" });

/** The shipped MNIST CNN (trained on clean MNIST) as the tta tests' backbone. */
const fixtureBackbone = () =>
  OnnxBackbone.load({
    id: "mnist-cnn",
    onnx: resolve(ROOT, "fixtures/backbones/mnist.onnx"),
    input: { ...INPUT, size: [28, 28], mean: [0.1307], std: [0.3081] },
  });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

Deno.test("tta on real MNIST: copies of an input rotated by 90° are the input's copies shifted (C4, K = 4)", async () => {
  const model = await fixtureBackbone();
  const dataset = loadMnist("test");
  const indices = Int32Array.from({ length: 64 }, (_, i) => i);
  const cache = new FeatureCache({ dir: `${tmp}/tta-shift` });
  const quarter: AugmentationSpec = { id: "q", kind: "rotation", degrees: [90, 90] };
  const tta = async (base: AugmentationSpec | null) => {
    const parts: Float32Array[] = [];
    for (const c of ttaCopies(quarter, 4)) {
      const augmentation = ttaAugmentation(base, c);
      parts.push((await extractFeatures({ backbone: model, dataset, indices, augmentation, cache })).data);
    }
    return { parts, mean: averageCopies(parts) };
  };
  const clean = await tta(null), turned = await tta(quarter);
  // Copy j of the turned input is copy j + 1 of the input, feature for feature.
  for (let j = 0; j < 4; j++) assertEquals(turned.parts[j], clean.parts[(j + 1) % 4], `copy ${j}`);
  assert(maxAbsDiff(turned.mean, clean.mean) < 1e-5, "averages");
  // …and the copies are not all alike: F itself is not rotation invariant.
  assert(maxAbsDiff(clean.parts[0], clean.parts[1]) > 0.1, "F is not invariant");
});

Deno.test("tta: a fixed rotation of the clean image is extracted once for every seed, with each seed's bits", async () => {
  const model = await fixtureBackbone();
  const dataset = loadMnist("test");
  const indices = Int32Array.from({ length: 48 }, (_, i) => i);
  const rot: AugmentationSpec = { id: "r", kind: "rotation", degrees: [-180, 180] };
  const copy = ttaCopies(rot, 8)[3]; // 135°
  const shared = new FeatureCache({ dir: `${tmp}/tta-fixed` });
  const extract = (seed: number, cache?: FeatureCache) =>
    extractFeatures({
      backbone: model,
      dataset,
      indices,
      augmentation: ttaAugmentation(null, copy),
      seed,
      cache,
    });
  const uncached = [await extract(0), await extract(2)];
  assertEquals(uncached[0].data, uncached[1].data, "seed 0 and seed 2 draw the same fixed rotation");
  for (const seed of [0, 1, 2]) {
    assertEquals((await extract(seed, shared)).data, uncached[0].data, `seed ${seed}`);
  }
  assertEquals(shared.computed, 1);
  // A copy on top of a random view is not fixed: its features differ by seed.
  const onView = ttaAugmentation(rot, copy);
  assert(!onView.fixed);
  const views = await Promise.all(
    [0, 1].map((seed) =>
      extractFeatures({ backbone: model, dataset, indices, augmentation: onView, seed, cache: shared })
    ),
  );
  assert(maxAbsDiff(views[0].data, views[1].data) > 0.1, "views of different seeds");
});

Deno.test("tta noise copies of one view: each is the base view plus its own draw, whatever came before", () => {
  const dataset = loadMnist("test");
  const { images, indices } = batchOf(dataset, Int32Array.from({ length: 24 }, (_, i) => i));
  const normalize = { mean: INPUT.mean, std: INPUT.std };
  const noise: AugmentationSpec = { id: "n", kind: "gaussian_noise", std: 1 };
  const direct = (imgs: typeof images, index: number) => {
    const base = augmentBatch(imgs, indices, noise, 3, "test", 2, { normalize });
    return augmentBatch({ ...imgs, data: base }, indices, noise, 3, "test/tta", index, { inputScale: 1 });
  };
  const copy = (imgs: typeof images, index: number) =>
    ttaAugmentation(noise, { kind: "draw", spec: noise, index }).apply({
      images: imgs,
      ids: indices,
      seed: 3,
      split: "test",
      view: 2,
      normalize,
    });
  // Copies 0..2 of the same images (the base view is drawn once and reused), then other images.
  for (const index of [0, 1, 2, 1]) assertEquals(copy(images, index), direct(images, index), `copy ${index}`);
  const changed = { ...images, data: images.data.slice() };
  changed.data[100] = 255 - changed.data[100];
  assertEquals(copy(changed, 1), direct(changed, 1), "a changed pixel is not served the old base view");
  assert(maxAbsDiff(copy(changed, 1), copy(images, 1)) > 0, "the changed image's copy differs");
});

Deno.test("tta copies on top of an augmented view: the view as augmented() draws it, then the copy", () => {
  const dataset = loadMnist("test");
  const { images, indices } = batchOf(dataset, Int32Array.from({ length: 32 }, (_, i) => i));
  const normalize = { mean: INPUT.mean, std: INPUT.std };
  const args = { images, ids: indices, seed: 3, split: "test", view: 1, normalize };
  const view = (spec: AugmentationSpec) => augmentBatch(images, indices, spec, 3, "test", 1, { normalize });
  // Rotation: the 0° copy of view 1 is view 1 itself, pixel for pixel.
  const rot: AugmentationSpec = { id: "r", kind: "rotation", degrees: [-180, 180] };
  assertEquals(ttaAugmentation(rot, { kind: "rotation", degrees: 0 }).apply(args), view(rot));
  // Noise: view 1 (its own noise) plus an independent σ = 1 draw of the copy's stream.
  const noise: AugmentationSpec = { id: "n", kind: "gaussian_noise", std: 1 };
  const base = view(noise), clean = view({ id: "c", kind: "gaussian_noise", std: 1e-30 });
  const out = ttaAugmentation(noise, { kind: "draw", spec: noise, index: 0 }).apply(args);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < out.length; i++) {
    const a = base[i] - clean[i], b = out[i] - base[i];
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  const sd = Math.sqrt(syy / out.length), corr = sxy / Math.sqrt(sxx * syy);
  assert(Math.abs(sd - 1) < 0.02 && Math.abs(corr) < 0.02, `copy noise sd ${sd}, correlation ${corr}`);
  // Affine and crop copies on the clean image are draws of those augmentations' own streams.
  for (
    const spec of [
      { id: "a", kind: "affine", degrees: [-30, 30], translate: 0.2, scale: [0.8, 1.2], shear: [-15, 15] },
      { id: "c", kind: "resized_crop", area: [0.5, 0.7], ratio: [0.75, 1.33] },
    ] as AugmentationSpec[]
  ) {
    const copy = ttaAugmentation(null, { kind: "draw", spec, index: 2 }).apply(args);
    assertEquals(copy, augmentBatch(images, indices, spec, 3, "test/tta", 2, { normalize }), spec.kind);
  }
});

Deno.test("transform bins of every augmentation kind", () => {
  const rot = (degrees: number): ViewParams => ({ kind: "rotation", degrees });
  const full = transformBins({ id: "r", kind: "rotation", degrees: [-180, 180] }, 8);
  assertEquals([full.count, full.identity], [8, 0]);
  assertEquals([0, 22, 23, -23, 180, -180, 135].map((a) => full.binOf(rot(a))), [0, 0, 1, 7, 4, 4, 3]);
  const part = transformBins({ id: "r", kind: "rotation", degrees: [-30, 30] }, 4);
  assertEquals([part.count, part.identity], [4, 2]);
  assertEquals([-30, -16, -14, 29.9, 30].map((a) => part.binOf(rot(a))), [0, 0, 1, 3, 3]);
  const c4 = transformBins({ id: "c", kind: "rotation_c4" }, 8);
  assertEquals([c4.count, c4.identity, c4.binOf(rot(270)), c4.binOf(rot(90))], [4, 0, 3, 1]);
  const c8 = transformBins({ id: "c", kind: "rotation_c8" }, 3);
  assertEquals([c8.count, c8.identity, c8.binOf(rot(315))], [8, 0, 7]);
  const affine = transformBins({
    id: "a",
    kind: "affine",
    degrees: [-30, 30],
    translate: 0.2,
    scale: [0.8, 1.2],
    shear: [-15, 15],
  }, 6);
  const aff = (degrees: number): ViewParams => ({
    kind: "affine",
    degrees,
    translate: [0, 0],
    scale: 1,
    shear: [0, 0],
  });
  assertEquals([affine.count, affine.identity, affine.binOf(aff(-29)), affine.binOf(aff(1))], [6, 3, 0, 3]);
  for (
    const spec of [{ id: "n", kind: "gaussian_noise", std: 1 }, {
      id: "c",
      kind: "resized_crop",
      area: [0.5, 0.7],
      ratio: [0.75, 1.33],
    }] as AugmentationSpec[]
  ) {
    const b = transformBins(spec, 8);
    assertEquals([b.count, b.identity], [1, null], spec.kind);
  }
});

/**
 * One row per (augmentation, method) on MNIST (train 1000 / test 300, stratified, so the
 * augmentation streams' image ids are not the row positions) through runCell, keyed "aug/method".
 */
async function runCells(augmentations: unknown[], methods: unknown[]): Promise<Map<string, ResultRow>> {
  const matrix = MatrixSpec.parse({
    schema: "invbench.matrix/v1",
    name: "baselines-test",
    version: "1.0.0",
    datasets: [{
      id: "mnist",
      source: "mnist",
      train: { limit: 1000, stratified_seed: 0 },
      test: { limit: 300, stratified_seed: 0 },
    }],
    backbones: [{ id: "mnist-cnn", onnx: "fixtures/backbones/mnist.onnx", input: INPUT }],
    augmentations,
    methods,
    classifiers: ["linear"],
    seeds: [0],
    // The view budget the baselines' views default to: a pool of 3 augmented views per train image.
    training: { view_pool: 3 },
    evaluation: { aug_draws: 2, structure_points: 100, collision_points: 100 },
  });
  const ctx = newRunContext(new CpuBackend(), new FeatureCache({ dir: `${tmp}/cells` }), ROOT, () => {});
  const rows = new Map<string, ResultRow>();
  for (const cell of expandMatrix(matrix)) {
    const started = performance.now();
    const row = await runCell(cell, ctx);
    rows.set(`${cell.augmentation}/${cell.method}`, row);
    const m = row.metrics;
    console.log(
      `${cell.augmentation}/${cell.method}: clean ${m.acc_clean?.toFixed(3)} | aug ${
        m.acc_aug?.toFixed(3)
      } ± ${m.acc_aug_sd?.toFixed(3)}, r2 ${m.r2?.toFixed(3)}${
        m.canon_bin_acc === undefined
          ? ""
          : `, bin acc ${m.canon_bin_acc?.toFixed(3)} (clean ${m.canon_bin_acc_clean?.toFixed(3)})`
      }, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  return rows;
}

/** Status ok, the flags and cost profile given, every metric a finite number. */
function checkRow(
  row: ResultRow | undefined,
  what: string,
  w: { flags: string[]; train: number; test: number; params: number },
): ResultRow {
  assert(row, `${what}: no row`);
  assertEquals(row.status, "ok", `${what}: ${row.reason}`);
  assertEquals(row.flags, w.flags, `${what} flags`);
  assertEquals(row.cost, {
    backbone_passes_train: w.train,
    backbone_passes_test: w.test,
    trainable_parameters: w.params,
  }, `${what} cost`);
  for (const [name, v] of Object.entries(row.metrics)) {
    assert(typeof v === "number" && Number.isFinite(v), `${what}: metric ${name} = ${v}`);
  }
  return row;
}

const D = 128, LC = D * 10 + 10;
const mapsOf = (bins: number) => bins * (D * D + D);
const headOf = (hidden: number, classes: number) => D * hidden + hidden + hidden * classes + classes;

Deno.test("every baseline runs end to end on MNIST rotation through the fixture backbone", async () => {
  const rows = await runCells([{ id: "rot", kind: "rotation" }], [
    { id: "none", kind: "none" },
    { id: "aug-probe", kind: "aug-probe" },
    { id: "tta", kind: "tta", copies: 8 },
    { id: "steer", kind: "steer" },
    { id: "canon", kind: "canon", head_hidden: 128, head_epochs: 10 },
  ]);
  const want: Record<string, { flags: string[]; train: number; test: number; params: number }> = {
    "none": { flags: [], train: 1, test: 1, params: LC },
    "aug-probe": { flags: ["invariant-classifier-not-latent"], train: 4, test: 1, params: LC },
    "tta": { flags: [], train: 8, test: 8, params: LC },
    "steer": { flags: ["oracle-transform"], train: 4, test: 1, params: mapsOf(8) + LC },
    "canon": { flags: [], train: 4, test: 1, params: mapsOf(8) + headOf(128, 8) + LC },
  };
  const m = (method: string) => checkRow(rows.get(`rot/${method}`), method, want[method]).metrics;
  for (const method of Object.keys(want)) {
    assert(m(method).acc_clean! > 0.75, `${method}: clean accuracy ${m(method).acc_clean}`);
  }
  // E: the identity for none and aug-probe, a real map for the others.
  assertEquals(m("aug-probe").r2, m("none").r2);
  assertEquals(m("none").r2, 1);
  assert(m("steer").r2! < 1 && m("steer").r2! > 0.5, `steer's E is nearly an isometry: r2 ${m("steer").r2}`);
  assert(m("canon").canon_bin_acc! > 2 / 8, `canon's head beats chance: ${m("canon").canon_bin_acc}`);
  // The oracle steer (and the invariant ones) beat the bare features on rotated inputs.
  for (const method of ["steer", "tta", "aug-probe"]) {
    assert(
      m(method).acc_aug! > m("none").acc_aug! + 0.1,
      `${method} ${m(method).acc_aug} vs none ${m("none").acc_aug}`,
    );
  }
});

Deno.test("baselines on MNIST gaussian_noise and rotation_c4 (single map with an identity class; exact group)", async () => {
  const rows = await runCells([
    { id: "noise", kind: "gaussian_noise" },
    { id: "c4", kind: "rotation_c4" },
  ], [
    { id: "none", kind: "none" },
    { id: "tta", kind: "tta", copies: 4 },
    { id: "steer", kind: "steer" },
    { id: "canon", kind: "canon", head_hidden: 64, head_epochs: 5 },
  ]);
  for (const [aug, bins, classes] of [["noise", 1, 2], ["c4", 4, 4]] as const) {
    checkRow(rows.get(`${aug}/none`), `${aug}/none`, { flags: [], train: 1, test: 1, params: LC });
    checkRow(rows.get(`${aug}/tta`), `${aug}/tta`, { flags: [], train: 4, test: 4, params: LC });
    checkRow(rows.get(`${aug}/steer`), `${aug}/steer`, {
      flags: ["oracle-transform"],
      train: 4,
      test: 1,
      params: mapsOf(bins) + LC,
    });
    checkRow(rows.get(`${aug}/canon`), `${aug}/canon`, {
      flags: [],
      train: 4,
      test: 1,
      params: mapsOf(bins) + headOf(64, classes) + LC,
    });
  }
  // Noise: clean inputs take the identity in steer (E = identity, so r2 = 1).
  assertEquals(rows.get("noise/steer")!.metrics.r2, 1);
  // C4 with K = 4 rotations: a rotated test input's copies are its clean copies shifted, so the
  // augmented accuracy is the clean one, draw for draw.
  const tta = rows.get("c4/tta")!.metrics;
  assert(
    Math.abs(tta.acc_aug! - tta.acc_clean!) < 1e-9 && tta.acc_aug_sd! < 1e-9,
    `c4 tta ${JSON.stringify(tta)}`,
  );
  const none = rows.get("c4/none")!.metrics.acc_aug!, steered = rows.get("c4/steer")!.metrics.acc_aug!;
  assert(steered > none + 0.1, `c4: steer ${steered} vs none ${none}`);
});
