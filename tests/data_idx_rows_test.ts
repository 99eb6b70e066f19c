// IDX images read on demand (the `mnist` and `idx` sources): the registry's datasets hold no
// pixels, yet give exactly the pixels, labels, indices, file records and content hash of the
// in-memory split; corrupt files fail at load with the same error as when read whole; `.gz` and
// float files are still read whole; a file changed after loading is refused when rows are read.
import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { batchOf, readBatch } from "../src/augment/augment.ts";
import type { Dataset } from "../src/data/dataset.ts";
import { encodeIdx, readIdx } from "../src/data/idx.ts";
import { IDX_FILES, loadMnist, mnistDataDir, readIdxPair } from "../src/data/mnist.ts";
import { loadDataset } from "../src/data/registry.ts";
import { DataError } from "../src/errors.ts";

const MNIST = mnistDataDir();

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

Deno.test("idx rows: the registry's mnist holds no pixels and reads the in-memory split's exact pixels", async () => {
  for (
    const [split, options] of [
      ["test", {}],
      ["train", { limit: 3000, stratified_seed: 0 }],
    ] as const
  ) {
    const held = loadMnist(split, options);
    const read = await loadDataset({ source: "mnist", [split]: options }, split) as Dataset;
    assert.equal(read.images.length, 0, "no pixels held");
    assert.ok(read.decode, "rows decoded on demand");
    assert.equal(read.contentHash, held.contentHash);
    assert.deepEqual(read.files, held.files);
    assert.deepEqual(read.labels, held.labels);
    assert.deepEqual(read.sourceIndex, held.sourceIndex);
    assert.deepEqual([read.n, read.channels, read.height, read.width, read.dtype], [
      held.n,
      held.channels,
      held.height,
      held.width,
      held.dtype,
    ]);
    const all = Int32Array.from({ length: held.n }, (_, i) => i);
    assert.deepEqual((await readBatch(read, all)).images.data, held.images);
    // Out of order and repeated rows, as a training step draws them.
    const drawn = [held.n - 1, 5, 6, 7, 5, 0];
    assert.deepEqual((await readBatch(read, drawn)).images.data, batchOf(held, drawn).images.data);
  }
});

Deno.test("idx rows: corrupt image files fail at load with the error of a whole read", () => {
  const dir = Deno.makeTempDirSync({ prefix: "invbench_idx_rows_" });
  try {
    const full = Deno.readFileSync(join(MNIST, IDX_FILES.test.images));
    const labels = join(MNIST, IDX_FILES.test.labels);
    const magic = full.slice(0, 64);
    magic[0] = 0x1f;
    const code = full.slice();
    code[2] = 0x0a;
    const variants: Record<string, Uint8Array> = {
      "truncated": full.subarray(0, full.length - 1000),
      "header-only": full.subarray(0, 10),
      "trailing": new Uint8Array([...full, 7]),
      "magic": magic,
      "type-code": code,
      "empty": new Uint8Array(0),
    };
    for (const [name, bytes] of Object.entries(variants)) {
      const path = join(dir, name);
      Deno.writeFileSync(path, bytes);
      const whole = caught(() => readIdx(path));
      const onDemand = caught(() => readIdxPair(path, labels, 10, { onDemand: true }));
      assert.ok(whole instanceof DataError, `${name}: ${whole}`);
      assert.ok(onDemand instanceof DataError, `${name}: ${onDemand}`);
      assert.equal(onDemand.message, whole.message, name);
      assert.ok(onDemand.message.includes(path));
    }
    const missing = caught(() => readIdxPair(join(dir, "absent"), labels, 10, { onDemand: true }));
    assert.ok(missing instanceof DataError && missing.message.includes(join(dir, "absent")));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("idx rows: .gz and float image files are still read whole", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "invbench_idx_rows_" });
  try {
    const gz = join(dir, "gz"), float = join(dir, "float");
    Deno.mkdirSync(gz);
    Deno.mkdirSync(float);
    const pixels = [1, 2, 3, 4, 5, 6, 7, 8];
    Deno.writeFileSync(
      join(gz, `${IDX_FILES.train.images}.gz`),
      gzipSync(encodeIdx("uint8", [2, 2, 2], pixels)),
    );
    Deno.writeFileSync(join(float, IDX_FILES.train.images), encodeIdx("float32", [2, 2, 2], pixels));
    for (const d of [gz, float]) {
      Deno.writeFileSync(join(d, IDX_FILES.train.labels), encodeIdx("uint8", [2], [1, 0]));
      const images = d === gz ? `${IDX_FILES.train.images}.gz` : IDX_FILES.train.images;
      const ds = await loadDataset({
        source: "idx",
        path: d,
        files: { train: { images: join(d, images), labels: join(d, IDX_FILES.train.labels) } },
      }, "train") as Dataset;
      assert.equal(ds.decode, undefined, d);
      assert.deepEqual(Array.from(ds.images), pixels, d);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("idx rows: a file changed after loading is refused when its rows are read", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "invbench_idx_rows_" });
  try {
    const images = join(dir, IDX_FILES.train.images);
    Deno.writeFileSync(images, encodeIdx("uint8", [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]));
    Deno.writeFileSync(join(dir, IDX_FILES.train.labels), encodeIdx("uint8", [2], [1, 0]));
    const ds = await loadDataset({ source: "idx", path: dir }, "train") as Dataset;
    assert.deepEqual(Array.from((await readBatch(ds, [1])).images.data), [5, 6, 7, 8]);
    Deno.writeFileSync(images, encodeIdx("uint8", [2, 2, 2], [1, 2, 3, 4, 9, 9, 9, 9]));
    Deno.utimeSync(images, new Date(0), new Date(0)); // whatever the clock's resolution
    await assert.rejects(
      () => readBatch(ds, [1]),
      (e) => e instanceof DataError && e.message.includes(images) && e.message.includes("changed file"),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
