/**
 * Peak memory of one rotation group (EC and MaWa, view pool 8) at several train sizes, for two
 * sources: `mnist` (the packaged IDX files, read by rows on demand) and `image-folder` (the same
 * MNIST images as PNG files in a temp folder, decoded per batch). Each run is `invbench run` in a
 * child process with a fresh feature cache; the child's peak resident set (VmHWM of
 * /proc/<pid>/status, Linux only) is printed as a table. Memory should depend on the batch and
 * pool sizes, not on the number of images (docs/data.md, "Memory").
 *
 *   deno task bench:memory [TRAIN_SIZES…]      (default 10000 60000)
 *
 * An image-folder of n train images holds the n images a stratified `limit: n` of MNIST's train
 * split draws (seed 0), so both sources run on the same images; writing 60000 PNGs takes a while.
 */
import { join } from "node:path";
import { selectIndices } from "../src/data/dataset.ts";
import { loadMnist } from "../src/data/mnist.ts";
import { encodePng } from "../src/data/png.ts";
import { measuredRun } from "./measured_run.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const sizes = Deno.args.length ? Deno.args.map(Number) : [10000, 60000];
const TEST = { limit: 1000, stratified_seed: 0 };

const matrix = (dataset: string) =>
  `schema: invbench.matrix/v1
name: peak-memory
version: 0.0.1
datasets:
  - ${dataset}
backbones:
  - id: fixture-cnn
    onnx: ${ROOT}fixtures/backbones/mnist.onnx
    output: features
    input: { layout: NCHW, size: [28, 28], channels: 1, mean: [0.1307], std: [0.3081] }
augmentations:
  - { id: rotation, kind: rotation, degrees: [-180, 180] }
methods:
  - { id: ec, kind: none }
  - { id: mawa, kind: adapter, loss: mawa }
classifiers:
  - { id: linear, kind: linear, epochs: 2 }
seeds: [0]
training: { hidden: 1024, epochs: 2, batch: 256, views: 3, view_pool: 8 }
evaluation: { aug_draws: 2, structure_points: 500, collision_points: 1000 }
`;

const SOURCES: Record<string, (n: number, tmp: string) => Promise<string>> = {
  mnist: (n) =>
    Promise.resolve(
      `{ id: mnist, source: mnist, train: { limit: ${n}, stratified_seed: 0 }, test: ${
        JSON.stringify(TEST)
      } }`,
    ),
  "image-folder": async (n, tmp) => {
    const dir = join(tmp, `folder-${n}`);
    await writeFolder(dir, "train", { limit: n, stratified_seed: 0 });
    await writeFolder(dir, "test", TEST);
    return `{ id: mnist-png, source: image-folder, path: ${dir} }`;
  },
};

/** dir/split/<label>/<source index>.png for the MNIST images `options` selects. */
async function writeFolder(
  dir: string,
  split: "train" | "test",
  options: { limit: number; stratified_seed: number },
) {
  const ds = loadMnist(split);
  const per = 28 * 28;
  for (let c = 0; c < ds.classes; c++) await Deno.mkdir(join(dir, split, String(c)), { recursive: true });
  for (const i of selectIndices(ds.labels, ds.classes, split, options)) {
    const png = encodePng({
      width: 28,
      height: 28,
      channels: 1,
      data: ds.images.subarray(i * per, (i + 1) * per) as Uint8Array,
    });
    await Deno.writeFile(join(dir, split, String(ds.labels[i]), `${String(i).padStart(5, "0")}.png`), png);
  }
}

/** Runs the matrix with `dataset` in a child process; its peak RSS in bytes and wall seconds. */
async function run(dir: string, dataset: string): Promise<{ peak: number; wall: number }> {
  await Deno.writeTextFile(join(dir, "matrix.yaml"), matrix(dataset));
  const args = [
    "run",
    "-A",
    `${ROOT}src/cli/main.ts`,
    "run",
    join(dir, "matrix.yaml"),
    "--out",
    join(dir, "out"),
  ];
  args.push("--cache", join(dir, "cache"), "--backend", "cpu", "--local-key");
  return await measuredRun(args, dataset, true);
}

console.log("source       | train images | peak RSS (GB) | wall (s)");
console.log("------------ | ------------ | ------------- | --------");
for (const [source, dataset] of Object.entries(SOURCES)) {
  for (const n of sizes) {
    const dir = await Deno.makeTempDir({ prefix: "invbench-peak-memory-" });
    try {
      const { peak, wall } = await run(dir, await dataset(n, dir));
      console.log(
        `${source.padEnd(12)} | ${String(n).padStart(12)} | ${(peak / 1e9).toFixed(2).padStart(13)} | ${
          wall.toFixed(0).padStart(8)
        }`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
}
