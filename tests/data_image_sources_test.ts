/**
 * `image-folder` and `parquet` on real MNIST images: the same images written as an IDX pair
 * (`source: mnist` with `path`), as a folder of PNGs and as a Hugging Face-style parquet file
 * (written here with parquet-wasm + apache-arrow: a struct column image {bytes, path} and an int64
 * label) give the same pixels, the same features, and through a real matrix run the same EC
 * accuracy. Images are sorted by class, so the folder's class-major order is MNIST's order.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { readBatch } from "../src/augment/augment.ts";
import { extractFeatures } from "../src/backbone/extract.ts";
import { OnnxBackbone } from "../src/backbone/onnx_backbone.ts";
import type { Dataset, Split } from "../src/data/dataset.ts";
import { encodeIdx } from "../src/data/idx.ts";
import { IDX_FILES, loadMnist } from "../src/data/mnist.ts";
import { encodePng } from "../src/data/png.ts";
import { type DataSpec, loadDatasetSplits } from "../src/data/registry.ts";
import { readResult } from "../src/results/schema.ts";
import { sha256Hex } from "../src/util/hash.ts";
import { generateKeys, writePrivateKey } from "../src/results/signing.ts";
import { cli, ROOT } from "./fixtures/harness.ts";
import { hfParquet } from "./fixtures/hf_parquet.ts";

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
const load = async (spec: DataSpec) => (await loadDatasetSplits(spec)) as Record<Split, Dataset>;

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
  - { id: linear, kind: linear, epochs: 20, batch: 32 }
seeds: [0]
evaluation: { aug_draws: 2, structure_points: 50, collision_points: 50 }
`,
  );
  const out = join(TMP, "run"), key = join(TMP, "key.jwk");
  await writePrivateKey(key, await generateKeys());
  const r = await cli([
    "run",
    matrix,
    "--out",
    out,
    "--cache",
    join(TMP, "cache"),
    "--backend",
    "cpu",
    "--jobs",
    "2",
    "--key",
    key,
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
  // Every file read is in the result's inputs: the 2 parquet files each, the 400 PNGs by one
  // manifest per split, written beside the result with the sha256 the result records.
  assert.equal(doc.inputs.datasets.parquet.files.length, 2);
  assert.deepEqual(doc.inputs.datasets.folder.files, []);
  for (const [i, split] of (["train", "test"] as const).entries()) {
    const m = doc.inputs.datasets.folder.manifests![i];
    assert.deepEqual([m.split, m.manifest, m.files], [
      split,
      `manifests/folder-${split}.jsonl`,
      COUNT[split],
    ]);
    const text = await Deno.readTextFile(join(out, m.manifest));
    assert.equal(sha256Hex(text), m.sha256);
    assert.equal(text.trimEnd().split("\n").length, COUNT[split]);
  }
});

Deno.test("image-folder and parquet: that run read each split once, its workers took them as it checked them", async () => {
  const log = await Deno.readTextFile(join(TMP, "run", "log.txt"));
  assert.match(log, /running 2 cells at once/);
  // The splits a line of `what` names for `source`, sorted.
  const splits = (source: string, what: string) =>
    [...log.matchAll(new RegExp(`${source} .* \\((train|test)\\): \\d+ (?:files|rows) ${what}`, "g"))]
      .map((m) => m[1]).sort();
  for (const source of ["image folder", "parquet"]) {
    assert.deepEqual(splits(source, "read, hashed and checked"), ["test", "train"], source);
    // Its one cell ran on a worker, which took both splits as the run's thread had checked them.
    assert.deepEqual(splits(source, "as this run checked them"), ["test", "train"], source);
  }
});

Deno.test("image-folder: verify checks that run's manifests; a resume after an image changed names it", async () => {
  const out = join(TMP, "run");
  const verify = (...extra: string[]) =>
    cli(["verify", join(out, "result.json"), "--keys", join(out, "signer.jwks"), ...extra]);
  const ok = await verify();
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /2 dataset manifest\(s\) match the result/);
  assert.deepEqual(JSON.parse((await verify("--json")).stdout).manifests, { checked: 2, absent: [] });

  // A manifest edited after the result was signed.
  const manifest = join(out, "manifests", "folder-train.jsonl");
  const text = await Deno.readTextFile(manifest);
  await Deno.writeTextFile(manifest, text.replace(/"bytes":(\d+)/, (_, n) => `"bytes":${Number(n) + 1}`));
  const tampered = await verify();
  assert.equal(tampered.code, 3, tampered.stderr);
  assert.match(tampered.stderr, /manifests\/folder-train\.jsonl: sha256 .* but the result records/);
  await Deno.writeTextFile(manifest, text);

  // An image changed since the cells were computed: resuming the run is refused, naming it.
  const image = "train/digit0/0000.png", path = join(TMP, "folder", image);
  const original = await Deno.readFile(path);
  await Deno.writeFile(path, png(SUBSETS.train.images[1]));
  try {
    const resumed = await cli(["run", join(TMP, "matrix.yaml"), "--out", out, "--backend", "cpu"]);
    assert.equal(resumed.code, 2, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`dataset folder: ${image}: changed`));
  } finally {
    await Deno.writeFile(path, original);
  }
});

Deno.test("image-folder: merging shards copies the folder's manifests, which verify", async () => {
  const key = join(TMP, "key.jwk"), shards = [1, 2].map((i) => join(TMP, `shard-${i}`));
  for (const [i, dir] of shards.entries()) {
    const r = await cli([
      "run",
      join(TMP, "matrix.yaml"),
      "--out",
      dir,
      "--cache",
      join(TMP, "cache"),
      "--backend",
      "cpu",
      "--shard",
      `${i}/2`,
      "--key",
      key,
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const merged = join(TMP, "merged");
  const m = await cli(["merge", ...shards, "--out", merged, "--key", key]);
  assert.equal(m.code, 0, m.stderr);
  const v = await cli(["verify", join(merged, "result.json"), "--keys", join(merged, "signer.jwks")]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /2 dataset manifest\(s\) match the result/);
});

Deno.test("image-folder: a seeded holdout splits each class, the same way every time", async () => {
  // One folder of classes (the train split's PNGs), no train/ and test/.
  const dir = join(TMP, "flat");
  const { images, labels } = SUBSETS.train;
  for (const [i, im] of images.entries()) {
    await Deno.mkdir(join(dir, `digit${labels[i]}`), { recursive: true });
    await Deno.writeFile(join(dir, `digit${labels[i]}`, `${String(i).padStart(4, "0")}.png`), png(im));
  }
  const spec = { id: "h", source: "image-folder", path: dir, holdout: { fraction: 0.25, seed: 3 } };
  const a = await load(spec), b = await load(spec);
  assert.equal(a.train.n + a.test.n, images.length);
  assert.deepEqual(a.test.manifest!.names, b.test.manifest!.names);
  const trainFiles = new Set(a.train.manifest!.names);
  assert.ok(a.test.manifest!.names.every((name) => !trainFiles.has(name)), "the splits are disjoint");
  for (let c = 0; c < 10; c++) {
    const all = labels.filter((y) => y === c).length;
    assert.equal(a.test.labels.filter((y) => y === c).length, Math.round(0.25 * all), `class ${c}`);
  }
  const other = await load({ ...spec, holdout: { fraction: 0.25, seed: 4 } });
  assert.notDeepEqual(other.test.manifest!.names, a.test.manifest!.names);
  assert.notEqual(other.test.contentHash, a.test.contentHash);
  await assert.rejects(() => load({ id: "x", source: "image-folder", path: dir }), /holdout/);
});

Deno.test("image-folder: colour JPEGs decode to 3 channels, or to grey with channels: 1", async () => {
  const dir = join(TMP, "colour");
  for (const split of ["train", "test"]) {
    for (const cls of ["cat", "dog"]) {
      await Deno.mkdir(join(dir, split, cls), { recursive: true });
      for (let i = 0; i < 3; i++) {
        const rgb = Uint8Array.from(
          { length: 8 * 6 * 3 },
          (_, k) => (k * 13 + i * 50 + (cls === "dog" ? 99 : 0)) % 256,
        );
        const jpeg = await sharp(rgb, { raw: { width: 6, height: 8, channels: 3 } }).jpeg({ quality: 95 })
          .toBuffer();
        await Deno.writeFile(join(dir, split, cls, `${i}.jpg`), jpeg);
      }
    }
  }
  const rgb = (await load({ id: "c", source: "image-folder", path: dir })).train;
  assert.deepEqual([rgb.channels, rgb.height, rgb.width, rgb.n, rgb.classes], [3, 8, 6, 6, 2]);
  assert.deepEqual(rgb.classNames, ["cat", "dog"]);
  const grey = (await load({ id: "g", source: "image-folder", path: dir, channels: 1 })).train;
  assert.equal(grey.channels, 1);
  const px = (await readBatch(rgb, [0])).images.data, g = (await readBatch(grey, [0])).images.data;
  // Luminance lies between the darkest and brightest channel of each pixel.
  for (let i = 0; i < 48; i++) {
    const c = [px[i], px[48 + i], px[96 + i]];
    assert.ok(g[i] >= Math.min(...c) - 1 && g[i] <= Math.max(...c) + 1, `pixel ${i}: ${g[i]} vs ${c}`);
  }
});

Deno.test("image-source tests: remove the temp tree", async () => {
  await Deno.remove(TMP, { recursive: true });
});
