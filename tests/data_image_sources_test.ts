/**
 * `image-folder` and `parquet` on real MNIST images: the same images written as an IDX pair
 * (`source: mnist` with `path`), as a folder of PNGs and as a Hugging Face-style parquet file
 * (written here with parquet-wasm + apache-arrow: a struct column image {bytes, path} and an int64
 * label) give the same pixels, the same features, and through a real matrix run the same EC
 * accuracy. Images are sorted by class, so the folder's class-major order is MNIST's order.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { Table as WasmTable, writeParquet, WriterPropertiesBuilder } from "parquet-wasm";
import { readBatch } from "../src/augment/augment.ts";
import { extractFeatures } from "../src/backbone/extract.ts";
import { OnnxBackbone } from "../src/backbone/onnx_backbone.ts";
import type { Dataset, Split } from "../src/data/dataset.ts";
import { encodeIdx } from "../src/data/idx.ts";
import { IDX_FILES, loadMnist } from "../src/data/mnist.ts";
import { encodePng } from "../src/data/png.ts";
import { loadDatasetSplits } from "../src/data/registry.ts";
import { readResult } from "../src/results/schema.ts";
import { cli, ROOT } from "./fixtures/harness.ts";

const TMP = await Deno.makeTempDir({ prefix: "invbench-image-sources-" });
const COUNT: Record<Split, number> = { train: 300, test: 100 };
const PLANE = 28 * 28;

/** The first COUNT[split] MNIST images of a split, sorted by (label, index). */
function sortedSubset(split: Split) {
  const ds = loadMnist(split);
  const order = Array.from({ length: COUNT[split] }, (_, i) => i)
    .sort((a, b) => ds.labels[a] - ds.labels[b] || a - b);
  return {
    images: order.map((i) => ds.images.subarray(i * PLANE, (i + 1) * PLANE) as Uint8Array),
    labels: order.map((i) => ds.labels[i]),
  };
}

const SUBSETS = { train: sortedSubset("train"), test: sortedSubset("test") };
const png = (pixels: Uint8Array) => encodePng({ width: 28, height: 28, channels: 1, data: pixels });

/** IDX files of the subsets (the `mnist` source reads them from `path`). */
async function writeIdx(dir: string) {
  await Deno.mkdir(dir, { recursive: true });
  for (const split of ["train", "test"] as const) {
    const { images, labels } = SUBSETS[split];
    const flat = new Uint8Array(images.length * PLANE);
    images.forEach((im, i) => flat.set(im, i * PLANE));
    await Deno.writeFile(
      join(dir, IDX_FILES[split].images),
      encodeIdx("uint8", [images.length, 28, 28], flat),
    );
    await Deno.writeFile(join(dir, IDX_FILES[split].labels), encodeIdx("uint8", [labels.length], labels));
  }
}

/** train/<digit>/<nnnn>.png and test/<digit>/<nnnn>.png. */
async function writeFolder(dir: string) {
  for (const split of ["train", "test"] as const) {
    const { images, labels } = SUBSETS[split];
    for (const [i, im] of images.entries()) {
      const classDir = join(dir, split, `digit${labels[i]}`);
      await Deno.mkdir(classDir, { recursive: true });
      await Deno.writeFile(join(classDir, `${String(i).padStart(4, "0")}.png`), png(im));
    }
  }
}

/** A parquet file as Hugging Face `datasets` writes an image dataset: image {bytes, path}, label int64. */
export function hfParquet(images: Uint8Array[], labels: number[], rowGroup = 64): Uint8Array {
  const imageType = new arrow.Struct([
    new arrow.Field("bytes", new arrow.Binary(), true),
    new arrow.Field("path", new arrow.Utf8(), true),
  ]);
  const table = new arrow.Table({
    image: arrow.vectorFromArray(images.map((bytes, i) => ({ bytes, path: `${i}.png` })), imageType),
    label: arrow.vectorFromArray(labels.map(BigInt), new arrow.Int64()),
  });
  const wasm = WasmTable.fromIPCStream(arrow.tableToIPC(table, "stream"));
  return writeParquet(wasm, new WriterPropertiesBuilder().setMaxRowGroupSize(rowGroup).build());
}

async function writeParquetDir(dir: string) {
  await Deno.mkdir(dir, { recursive: true });
  for (const split of ["train", "test"] as const) {
    const { images, labels } = SUBSETS[split];
    await Deno.writeFile(join(dir, `${split}.parquet`), hfParquet(images.map(png), labels));
  }
}

await writeIdx(join(TMP, "idx"));
await writeFolder(join(TMP, "folder"));
await writeParquetDir(join(TMP, "parquet"));

const SPECS = {
  mnist: { id: "m", source: "mnist", path: join(TMP, "idx") },
  folder: { id: "f", source: "image-folder", path: join(TMP, "folder") },
  parquet: { id: "p", source: "parquet", path: join(TMP, "parquet") },
};
const load = async (spec: { id: string; source: string; path: string }) =>
  (await loadDatasetSplits(spec)) as Record<Split, Dataset>;

Deno.test("image-folder and parquet: the same pixels, labels and order as the IDX files", async () => {
  const ref = await load(SPECS.mnist);
  for (const spec of [SPECS.folder, SPECS.parquet]) {
    const got = await load(spec);
    for (const split of ["train", "test"] as const) {
      const a = ref[split], b = got[split];
      assert.equal(b.n, COUNT[split]);
      assert.deepEqual([b.channels, b.height, b.width, b.classes], [1, 28, 28, 10]);
      assert.deepEqual(b.labels, a.labels, `${spec.source} ${split} labels`);
      assert.deepEqual(b.sourceIndex, a.sourceIndex);
      const rows = Array.from({ length: b.n }, (_, i) => i);
      assert.deepEqual((await readBatch(b, rows)).images.data, (await readBatch(a, rows)).images.data);
    }
  }
  assert.deepEqual(
    (await load(SPECS.folder)).train.classNames,
    Array.from({ length: 10 }, (_, i) => `digit${i}`),
  );
});

Deno.test("image-folder and parquet: the same clean and augmented features as source mnist", async () => {
  const backbone = await OnnxBackbone.load({
    id: "fixture",
    onnx: `${ROOT}/fixtures/backbones/mnist.onnx`,
    output: "features",
    input: { layout: "NCHW", size: [28, 28], channels: 1, mean: [0.1307], std: [0.3081] },
  });
  try {
    const ref = (await load(SPECS.mnist)).train;
    const features = async (dataset: Dataset, augmented: boolean) =>
      (await extractFeatures({
        backbone,
        dataset,
        augmentation: augmented ? { kind: "rotation", degrees: [-180, 180] } : undefined,
        seed: 1,
        view: 2,
      })).data;
    for (const spec of [SPECS.folder, SPECS.parquet]) {
      const ds = (await load(spec)).train;
      assert.deepEqual(await features(ds, false), await features(ref, false), `${spec.source} clean`);
      assert.deepEqual(await features(ds, true), await features(ref, true), `${spec.source} rotated`);
    }
  } finally {
    await backbone.close();
  }
});

Deno.test("image-folder and parquet: a matrix run gives the same EC accuracy as source mnist", async () => {
  const matrix = join(TMP, "matrix.yaml");
  await Deno.writeTextFile(
    matrix,
    `schema: invbench.matrix/v1
name: image-sources
version: 0.0.1
datasets:
  - { id: mnist, source: mnist, path: idx }
  - { id: folder, source: image-folder, path: folder }
  - { id: parquet, source: parquet, path: parquet, image_column: image, label_column: label }
backbones:
  - id: fixture
    onnx: ${ROOT}/fixtures/backbones/mnist.onnx
    output: features
    input: { layout: NCHW, size: [28, 28], channels: 1, mean: [0.1307], std: [0.3081] }
augmentations:
  - { id: rot, kind: rotation, degrees: [-180, 180] }
methods:
  - { id: ec, kind: none }
classifiers:
  - { id: linear, kind: linear, epochs: 10 }
seeds: [0]
evaluation: { aug_draws: 2, structure_points: 50, collision_points: 50 }
`,
  );
  const out = join(TMP, "run");
  const r = await cli([
    "run",
    matrix,
    "--out",
    out,
    "--cache",
    join(TMP, "cache"),
    "--backend",
    "cpu",
    "--local-key",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const doc = readResult(JSON.parse(await Deno.readTextFile(join(out, "result.json"))), "result.json");
  const acc = (dataset: string) => {
    const row = doc.rows.find((x) => x.dataset === dataset)!;
    return [row.metrics.acc_clean, row.metrics.acc_aug];
  };
  assert.ok(acc("mnist")[0]! > 0.5, `EC clean accuracy ${acc("mnist")[0]}`);
  assert.deepEqual(acc("folder"), acc("mnist"));
  assert.deepEqual(acc("parquet"), acc("mnist"));
  // Every file read is in the result's inputs: 400 PNGs, 2 parquet files.
  assert.equal(doc.inputs.datasets.folder.files.length, COUNT.train + COUNT.test);
  assert.equal(doc.inputs.datasets.parquet.files.length, 2);
});

Deno.test("image-source tests: remove the temp tree", async () => {
  await Deno.remove(TMP, { recursive: true });
});
