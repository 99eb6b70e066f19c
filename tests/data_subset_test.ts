// `limit` and the stratified subset: deterministic by seed, class proportions within 1 of exact,
// different across seeds, and recorded in the content hash.
import { ConfigError } from "../src/errors.ts";
import assert from "node:assert/strict";
import type { Dataset } from "../src/data/dataset.ts";
import { selectIndices, stratifiedIndices } from "../src/data/dataset.ts";
import { loadMnist } from "../src/data/mnist.ts";
import { loadDataset } from "../src/data/registry.ts";

const full = loadMnist("train");

const counts = (labels: ArrayLike<number>) => {
  const h = new Array(10).fill(0);
  for (let i = 0; i < labels.length; i++) h[labels[i]]++;
  return h;
};

Deno.test("limit keeps the first N in source order", () => {
  const ds = loadMnist("train", { limit: 500 });
  assert.equal(ds.n, 500);
  assert.deepEqual(Array.from(ds.sourceIndex), Array.from({ length: 500 }, (_, i) => i));
  assert.deepEqual(ds.labels, full.labels.subarray(0, 500));
  assert.deepEqual(ds.images, full.images.subarray(0, 500 * 784));
  assert.equal(loadMnist("test", { limit: 1e6 }).n, 10000, "a limit above n keeps everything");
  assert.throws(
    () => selectIndices(full.labels, 10, "train", { limit: 0 }),
    /train.limit: 0: expected a positive integer/,
  );
  assert.throws(() => selectIndices(full.labels, 10, "train", { limit: 2.5 }), ConfigError);
});

Deno.test("stratified subset: class counts within 1 of exact, rows match the full split", () => {
  const fullCounts = counts(full.labels);
  for (const k of [1000, 777, 10, 3]) {
    const ds = loadMnist("train", { limit: k, stratified_seed: 7 });
    assert.equal(ds.n, k);
    const c = counts(ds.labels);
    for (let y = 0; y < 10; y++) {
      assert.ok(Math.abs(c[y] - (k * fullCounts[y]) / 60000) < 1, `k=${k} class ${y}: ${c[y]}`);
    }
    for (let i = 1; i < ds.n; i++) {
      assert.ok(ds.sourceIndex[i] > ds.sourceIndex[i - 1], "ascending, no repeats");
    }
    for (let i = 0; i < ds.n; i += 97) {
      const s = ds.sourceIndex[i];
      assert.equal(ds.labels[i], full.labels[s]);
      assert.deepEqual(
        ds.images.subarray(i * 784, (i + 1) * 784),
        full.images.subarray(s * 784, (s + 1) * 784),
      );
    }
  }
});

Deno.test("stratified subset: deterministic by seed, different across seeds and splits", () => {
  const a = loadMnist("train", { limit: 1000, stratified_seed: 1 });
  const b = loadMnist("train", { limit: 1000, stratified_seed: 1 });
  const c = loadMnist("train", { limit: 1000, stratified_seed: 2 });
  assert.deepEqual(a.sourceIndex, b.sourceIndex);
  assert.equal(a.contentHash, b.contentHash);
  assert.notDeepEqual(a.sourceIndex, c.sourceIndex);
  assert.notEqual(a.contentHash, c.contentHash);
  const overlap = a.sourceIndex.filter((i) => c.sourceIndex.includes(i)).length;
  assert.ok(overlap < 100, `two seeds share ${overlap} of 1000 (expected ≈ 17)`);
  assert.notEqual(loadMnist("train", { limit: 1000 }).contentHash, a.contentHash);
  // Same seed, another split: another stream.
  const t = stratifiedIndices(full.labels.subarray(0, 10000), 10, 100, 1, "test");
  const tr = stratifiedIndices(full.labels.subarray(0, 10000), 10, 100, 1, "train");
  assert.notDeepEqual(t, tr);
});

Deno.test("registry: per-split options reach the loader", async () => {
  const spec = {
    id: "mnist-small",
    source: "mnist" as const,
    train: { limit: 600, stratified_seed: 0 },
    test: { limit: 50 },
  };
  const train = await loadDataset(spec, "train") as Dataset,
    test = await loadDataset(spec, "test") as Dataset;
  assert.equal(train.kind, "images");
  assert.equal(train.id, "mnist-small");
  assert.equal(train.n, 600);
  assert.equal(test.n, 50);
  assert.deepEqual(counts(train.labels).map((c) => Math.abs(c - 60) <= 8), new Array(10).fill(true));
});
