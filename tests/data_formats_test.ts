// CIFAR-10/100, STL-10, NPY and safetensors readers on small files written at run time with known
// contents: layouts (CHW, STL's column-major planes), label conventions and the registry.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Dataset, FeatureDataset } from "../src/data/dataset.ts";
import { encodeIdx } from "../src/data/idx.ts";
import { encodeNpy, parseNpyHeader, parseNpyLabels, parseNpyMatrix } from "../src/data/npy.ts";
import { loadDataset, loadDatasetSplits } from "../src/data/registry.ts";
import { encodeSafetensors, parseSafetensors, tensorF32, tensorLabels } from "../src/data/safetensors.ts";

const f32Bytes = (a: number[]) => new Uint8Array(Float32Array.from(a).buffer);
const i64Bytes = (a: number[]) => new Uint8Array(BigInt64Array.from(a.map(BigInt)).buffer);

async function withTempDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "invbench_fmt_" });
  try {
    await fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** A CIFAR record whose pixel k is (seed + k) mod 256. */
function cifarRecord(labels: number[], seed: number): Uint8Array {
  const r = new Uint8Array(labels.length + 3072);
  r.set(labels);
  for (let k = 0; k < 3072; k++) r[labels.length + k] = (seed + k) % 256;
  return r;
}

Deno.test("cifar10: batches concatenate in order, records are CHW as stored", async () => {
  await withTempDir(async (dir) => {
    for (let b = 1; b <= 5; b++) {
      Deno.writeFileSync(
        join(dir, `data_batch_${b}.bin`),
        new Uint8Array([...cifarRecord([b], b), ...cifarRecord([9], 100 + b)]),
      );
    }
    Deno.writeFileSync(join(dir, "test_batch.bin"), cifarRecord([3], 7));
    const { train, test } = await loadDatasetSplits({ source: "cifar10", path: dir }) as Record<
      string,
      Dataset
    >;
    assert.equal(train.n, 10);
    assert.deepEqual(Array.from(train.labels), [1, 9, 2, 9, 3, 9, 4, 9, 5, 9]);
    assert.deepEqual([train.channels, train.height, train.width, train.classes], [3, 32, 32, 10]);
    assert.equal(train.files.length, 5);
    // Record 2 = batch 2's first record: pixel k is (2 + k) mod 256; green plane starts at 1024.
    assert.equal(train.images[2 * 3072 + 1024], (2 + 1024) % 256);
    assert.deepEqual(Array.from(test.images.subarray(0, 3)), [7, 8, 9]);
    assert.equal(test.labels[0], 3);
  });
});

Deno.test("cifar100: fine and coarse labels", async () => {
  await withTempDir(async (dir) => {
    Deno.writeFileSync(
      join(dir, "train.bin"),
      new Uint8Array([...cifarRecord([4, 99], 0), ...cifarRecord([19, 0], 1)]),
    );
    Deno.writeFileSync(join(dir, "test.bin"), cifarRecord([0, 50], 2));
    const fine = await loadDataset({ source: "cifar100", path: dir }, "train") as Dataset;
    assert.deepEqual([Array.from(fine.labels), fine.classes], [[99, 0], 100]);
    const coarse = await loadDataset({ source: "cifar100", path: dir, labels: "coarse" }, "train") as Dataset;
    assert.deepEqual([Array.from(coarse.labels), coarse.classes], [[4, 19], 20]);
    assert.notEqual(fine.contentHash, coarse.contentHash);
    assert.equal(fine.images[3072 + 5], 6);
  });
});

Deno.test("stl10: column-major planes become row-major CHW; labels 1..10 become 0..9", async () => {
  await withTempDir(async (dir) => {
    const n = 2, side = 96, plane = side * side;
    const x = new Uint8Array(n * 3 * plane);
    // Stored value at (image i, channel c, row r, col q) = (i·3 + c + r·7 + q·13) mod 256, column-major.
    const value = (i: number, c: number, r: number, q: number) => (i * 3 + c + r * 7 + q * 13) % 256;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        for (let q = 0; q < side; q++) {
          for (let r = 0; r < side; r++) x[(i * 3 + c) * plane + q * side + r] = value(i, c, r, q);
        }
      }
    }
    Deno.writeFileSync(join(dir, "train_X.bin"), x);
    Deno.writeFileSync(join(dir, "train_y.bin"), new Uint8Array([1, 10]));
    const ds = await loadDataset({ source: "stl10", path: dir }, "train") as Dataset;
    assert.deepEqual(Array.from(ds.labels), [0, 9]);
    assert.deepEqual([ds.n, ds.channels, ds.height, ds.width], [2, 3, 96, 96]);
    for (const [i, c, r, q] of [[0, 0, 0, 1], [0, 0, 1, 0], [1, 2, 95, 3], [1, 1, 40, 77]]) {
      assert.equal(
        ds.images[((i * 3 + c) * side + r) * side + q],
        value(i, c, r, q),
        `(${i}, ${c}, ${r}, ${q})`,
      );
    }
  });
});

Deno.test("npy: v1, v2 and v3 float32 matrices and integer labels", () => {
  const values = [1.5, -2, 3.25, 0, 1e-3, 7];
  for (const v of [1, 2, 3] as const) {
    const bytes = encodeNpy("<f4", [2, 3], f32Bytes(values), false, v);
    const h = parseNpyHeader(bytes, "m.npy");
    assert.equal(h.version[0], v);
    assert.equal(h.dataOffset % 64, 0, "header padded to 64 bytes");
    const m = parseNpyMatrix(bytes, "m.npy");
    assert.deepEqual([m.rows, m.cols], [2, 3]);
    assert.deepEqual(Array.from(m.data), Array.from(Float32Array.from(values)));
  }
  // Labels in several integer dtypes and shapes (n,) and (n, 1).
  assert.deepEqual(Array.from(parseNpyLabels(encodeNpy("<i8", [3], i64Bytes([2, 0, 1])), "y.npy")), [
    2,
    0,
    1,
  ]);
  assert.deepEqual(Array.from(parseNpyLabels(encodeNpy("|u1", [3, 1], new Uint8Array([9, 8, 7])), "y.npy")), [
    9,
    8,
    7,
  ]);
  // A header as numpy writes it, with double quotes would also be valid Python: accept.
  const dq = new TextEncoder().encode(
    `{"descr": "<f4", "fortran_order": False, "shape": (1, 1), }`.padEnd(54) + "\n",
  );
  const raw = new Uint8Array([
    0x93,
    0x4e,
    0x55,
    0x4d,
    0x50,
    0x59,
    1,
    0,
    dq.length,
    0,
    ...dq,
    ...f32Bytes([4]),
  ]);
  assert.deepEqual(Array.from(parseNpyMatrix(raw, "dq.npy").data), [4]);
});

Deno.test("npy via the registry: features, or images with a declared shape", async () => {
  await withTempDir(async (dir) => {
    for (const split of ["train", "test"]) {
      Deno.writeFileSync(
        join(dir, `${split}_features.npy`),
        encodeNpy("<f4", [4, 2], f32Bytes([0, 1, 2, 3, 4, 5, 6, 7])),
      );
      Deno.writeFileSync(join(dir, `${split}_labels.npy`), encodeNpy("<i8", [4], i64Bytes([0, 1, 2, 1])));
    }
    const f = await loadDataset({ source: "npy", path: dir, train: { limit: 3 } }, "train") as FeatureDataset;
    assert.equal(f.kind, "features");
    assert.deepEqual([f.n, f.dim, f.classes], [3, 2, 3]);
    assert.deepEqual(Array.from(f.features), [0, 1, 2, 3, 4, 5]);
    assert.equal(f.files.length, 2);
    const img = await loadDataset({
      source: "npy",
      path: dir,
      image: { channels: 1, height: 1, width: 2 },
      classes: 5,
    }, "test") as Dataset;
    assert.equal(img.kind, "images");
    assert.deepEqual([img.n, img.channels, img.height, img.width, img.classes, img.dtype], [
      4,
      1,
      1,
      2,
      5,
      "float32",
    ]);
  });
});

Deno.test("safetensors: tensors picked by name, F32 features and I64 labels", async () => {
  const bytes = encodeSafetensors({
    features: { dtype: "F32", shape: [3, 2], bytes: f32Bytes([1, 2, 3, 4, 5, 6]) },
    labels: { dtype: "I64", shape: [3], bytes: i64Bytes([1, 0, 1]) },
    other: { dtype: "U8", shape: [1], bytes: new Uint8Array([5]) },
  });
  const st = parseSafetensors(bytes, "f.safetensors");
  assert.deepEqual(Object.keys(st.tensors).sort(), ["features", "labels", "other"]);
  assert.deepEqual(Array.from(tensorF32(st, "features").data), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(tensorLabels(st, "labels")), [1, 0, 1]);
  await withTempDir(async (dir) => {
    Deno.writeFileSync(join(dir, "train.safetensors"), bytes);
    const ds = await loadDataset({ source: "safetensors", path: dir }, "train") as FeatureDataset;
    assert.deepEqual([ds.kind, ds.n, ds.dim, ds.classes], ["features", 3, 2, 2]);
    const renamed = encodeSafetensors({
      x: { dtype: "F32", shape: [1, 1], bytes: f32Bytes([9]) },
      y: { dtype: "U8", shape: [1], bytes: new Uint8Array([0]) },
    });
    Deno.writeFileSync(join(dir, "test.safetensors"), renamed);
    const t = await loadDataset(
      { source: "safetensors", path: dir, tensors: { features: "x", labels: "y" } },
      "test",
    ) as FeatureDataset;
    assert.deepEqual(Array.from(t.features), [9]);
  });
});

Deno.test("idx via the registry: a 4-D float IDX pair is read as NCHW float32", async () => {
  await withTempDir(async (dir) => {
    Deno.writeFileSync(
      join(dir, "train-images-idx3-ubyte"),
      encodeIdx("float32", [2, 2, 1, 1], [0.5, 1, 1.5, 2]),
    );
    Deno.writeFileSync(join(dir, "train-labels-idx1-ubyte"), encodeIdx("uint8", [2], [0, 3]));
    const ds = await loadDataset({ source: "idx", path: dir }, "train") as Dataset;
    assert.deepEqual([ds.n, ds.channels, ds.height, ds.width, ds.classes, ds.dtype], [
      2,
      2,
      1,
      1,
      4,
      "float32",
    ]);
    assert.deepEqual(Array.from(ds.images), [0.5, 1, 1.5, 2]);
  });
});

Deno.test("registry: unknown source and missing path are named", async () => {
  await assert.rejects(
    () => loadDataset({ source: "imagenet" } as never, "train"),
    /source.*expected one of cifar10, cifar100, fashion-mnist, idx, image-folder, mnist, npy, parquet, safetensors, stl10/,
  );
  await assert.rejects(
    () => loadDataset({ id: "c", source: "cifar10" }, "train"),
    /dataset c \(path\): expected a directory/,
  );
});
