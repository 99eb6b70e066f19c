/**
 * An image folder's manifest (src/data/file_manifest.ts) on real PNG files: it round-trips through
 * its file, moving the folder keeps its hash, and a changed, added, removed or renamed file changes
 * it and is named. Through real runs: a parallel run reads and hashes the folder once (its cell
 * workers reuse what the run's thread checked, as log.txt says; a parquet dataset's likewise), the
 * result records each split by its manifest and `verify` checks the manifest files, and a resume
 * after a file changed names it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Dataset, Split } from "../src/data/dataset.ts";
import {
  type FileManifest,
  manifestDifference,
  manifestSummary,
  parseManifest,
  writeManifest,
} from "../src/data/file_manifest.ts";
import { loadMnist } from "../src/data/mnist.ts";
import { encodePng } from "../src/data/png.ts";
import { loadDatasetSplits } from "../src/data/registry.ts";
import { DataError } from "../src/errors.ts";
import { readResult } from "../src/results/schema.ts";
import { sha256Hex } from "../src/util/hash.ts";
import { cli, ROOT, tempDir } from "./fixtures/harness.ts";
import { hfParquet } from "./fixtures/hf_parquet.ts";

const MNIST = { train: loadMnist("train"), test: loadMnist("test") };
const PLANE = 28 * 28;
const COUNT: Record<Split, number> = { train: 60, test: 30 };

/** MNIST image i of `split` as a PNG. */
const png = (split: Split, i: number) =>
  encodePng({
    width: 28,
    height: 28,
    channels: 1,
    data: MNIST[split].images.subarray(i * PLANE, (i + 1) * PLANE) as Uint8Array,
  });

/** dir/<split>/<digit>/<index>.png for the first COUNT[split] images of each split. */
async function writeFolder(dir: string): Promise<void> {
  for (const split of ["train", "test"] as const) {
    for (let i = 0; i < COUNT[split]; i++) {
      const classDir = join(dir, split, String(MNIST[split].labels[i]));
      await Deno.mkdir(classDir, { recursive: true });
      await Deno.writeFile(join(classDir, `${String(i).padStart(3, "0")}.png`), png(split, i));
    }
  }
}

const load = async (path: string) =>
  (await loadDatasetSplits({ id: "f", source: "image-folder", path })) as Record<Split, Dataset>;

/** The first train image file's name relative to the folder (class of train image 0). */
const FIRST = `train/${MNIST.train.labels[0]}/000.png`;

Deno.test("file manifest: round-trips through its file; moving the folder keeps its hash", async () => {
  await using tmp = await tempDir("manifest");
  const dir = join(tmp.dir, "folder");
  await writeFolder(dir);
  const before = await load(dir);
  const m = before.train.manifest!;
  assert.equal(m.names.length, COUNT.train);
  assert.ok(m.names.includes(FIRST));
  await writeManifest(m, tmp.dir, "train.jsonl");
  const text = await Deno.readTextFile(join(tmp.dir, "train.jsonl"));
  const summary = manifestSummary(m);
  assert.equal(sha256Hex(text), summary.sha256);
  assert.equal(summary.files, COUNT.train);
  const entries = parseManifest(text, "train.jsonl");
  assert.deepEqual(entries.map((e) => e.path), m.names);
  const firstBytes = await Deno.readFile(join(dir, FIRST));
  assert.deepEqual(entries[m.names.indexOf(FIRST)], {
    path: FIRST,
    sha256: sha256Hex(firstBytes),
    bytes: firstBytes.byteLength,
  });
  assert.equal(summary.bytes, entries.reduce((a, e) => a + e.bytes, 0));
  assert.equal(manifestDifference(entries, m), null);

  const moved = join(tmp.dir, "moved");
  await Deno.rename(dir, moved);
  const after = await load(moved);
  assert.equal(manifestSummary(after.train.manifest!).sha256, summary.sha256);
  assert.equal(after.train.contentHash, before.train.contentHash);
  assert.equal(after.test.contentHash, before.test.contentHash);

  const broken = text.replace(/\n.*\n/, '\n{"path": "x"}\n');
  assert.throws(
    () => parseManifest(broken, "train.jsonl"),
    (e) => e instanceof DataError && /line 2/.test(e.message),
  );
});

Deno.test("file manifest: a changed, added, removed or renamed file changes the hash and is named", async () => {
  await using tmp = await tempDir("manifest-changes");
  const base = join(tmp.dir, "base");
  await writeFolder(base);
  const original = await load(base);
  const recorded = parseManifest(
    await (async () => {
      await writeManifest(original.train.manifest!, tmp.dir, "train.jsonl");
      return await Deno.readTextFile(join(tmp.dir, "train.jsonl"));
    })(),
    "train.jsonl",
  );
  const added = `train/${MNIST.train.labels[0]}/999.png`;
  const changes: [string, (dir: string) => Promise<void>, RegExp][] = [
    ["changed", (d) => Deno.writeFile(join(d, FIRST), png("train", 100)), new RegExp(`^${FIRST}: changed`)],
    ["added", (d) => Deno.writeFile(join(d, added), png("train", 101)), new RegExp(`^${added}: added`)],
    ["removed", (d) => Deno.remove(join(d, FIRST)), new RegExp(`^${FIRST}: removed`)],
    [
      "renamed",
      (d) => Deno.rename(join(d, FIRST), join(d, added)),
      new RegExp(`^${FIRST}: removed \\(or renamed\\)`),
    ],
  ];
  for (const [what, change, named] of changes) {
    const dir = join(tmp.dir, what);
    await writeFolder(dir);
    await change(dir);
    const now = await load(dir);
    const m: FileManifest = now.train.manifest!;
    assert.notEqual(manifestSummary(m).sha256, manifestSummary(original.train.manifest!).sha256, what);
    assert.notEqual(now.train.contentHash, original.train.contentHash, what);
    assert.equal(now.test.contentHash, original.test.contentHash, `${what}: the test split is unchanged`);
    assert.match(manifestDifference(recorded, m) ?? "", named, what);
  }
});

const MATRIX = `schema: invbench.matrix/v1
name: manifest-run
version: 0.0.1
datasets:
  - { id: f, source: image-folder, path: folder }
  - { id: p, source: parquet, path: parquet }
backbones:
  - id: fixture
    onnx: ${ROOT}/fixtures/backbones/mnist.onnx
    output: features
    input: { layout: NCHW, size: [28, 28], channels: 1, mean: [0.1307], std: [0.3081] }
augmentations:
  - { id: rot, kind: rotation, degrees: [-30, 30] }
methods:
  - { id: ec, kind: none }
classifiers:
  - { id: linear, kind: linear, epochs: 2, batch: 32 }
seeds: [0, 1]
evaluation: { aug_draws: 1, structure_points: 20, collision_points: 20 }
`;

Deno.test("file manifest: a parallel run hashes the folder once, verify checks the manifests, a resume names a changed file", async () => {
  await using tmp = await tempDir("manifest-run");
  await writeFolder(join(tmp.dir, "folder"));
  await Deno.mkdir(join(tmp.dir, "parquet"));
  for (const split of ["train", "test"] as const) {
    const rows = Array.from({ length: COUNT[split] }, (_, i) => i);
    await Deno.writeFile(
      join(tmp.dir, "parquet", `${split}.parquet`),
      hfParquet(rows.map((i) => png(split, i)), rows.map((i) => MNIST[split].labels[i])),
    );
  }
  const matrix = join(tmp.dir, "matrix.yaml"), out = join(tmp.dir, "out");
  await Deno.writeTextFile(matrix, MATRIX);
  const run = () =>
    cli([
      "run",
      matrix,
      "--out",
      out,
      "--cache",
      join(tmp.dir, "cache"),
      "--backend",
      "cpu",
      "--jobs",
      "2",
      "--local-key",
    ]);
  const first = await run();
  assert.equal(first.code, 0, first.stderr);

  // The run's thread read each split once; each worker took the splits it was handed.
  const log = await Deno.readTextFile(join(out, "log.txt"));
  assert.match(log, /running 2 cells at once/);
  for (const source of ["image folder", "parquet"]) {
    const read = log.match(new RegExp(`${source} .*: \\d+ (files|rows) read, hashed and checked`, "g")) ?? [];
    const reused = log.match(new RegExp(`${source} .*: \\d+ (files|rows) as this run checked them`, "g")) ??
      [];
    assert.deepEqual(read.map((l) => / \((train|test)\):/.exec(l)![1]).sort(), ["test", "train"], source);
    assert.ok(
      reused.length >= 2 && reused.length % 2 === 0,
      `${source}: workers reused ${reused.length} splits`,
    );
  }

  const doc = readResult(JSON.parse(await Deno.readTextFile(join(out, "result.json"))));
  const input = doc.inputs.datasets.f;
  assert.deepEqual(input.files, []);
  assert.deepEqual(input.manifests!.map((m) => [m.split, m.manifest, m.files]), [
    ["train", "manifests/f-train.jsonl", COUNT.train],
    ["test", "manifests/f-test.jsonl", COUNT.test],
  ]);
  const verify = () => cli(["verify", join(out, "result.json"), "--keys", join(out, "signer.jwks")]);
  const ok = await verify();
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /2 dataset manifest\(s\) match the result/);
  const json = await cli(["verify", join(out, "result.json"), "--keys", join(out, "signer.jwks"), "--json"]);
  assert.deepEqual(JSON.parse(json.stdout).manifests, { checked: 2, absent: [] });

  // A manifest edited after the result was signed.
  const trainManifest = join(out, "manifests", "f-train.jsonl");
  const text = await Deno.readTextFile(trainManifest);
  await Deno.writeTextFile(
    trainManifest,
    text.replace(/"bytes":(\d+)/, (_, n) => `"bytes":${Number(n) + 1}`),
  );
  const tampered = await verify();
  assert.equal(tampered.code, 3, tampered.stderr);
  assert.match(tampered.stderr, /manifests\/f-train\.jsonl: sha256 .* but the result records/);
  await Deno.writeTextFile(trainManifest, text);

  // An image changed since the cells were computed: the resume is refused, naming it.
  await Deno.writeFile(join(tmp.dir, "folder", FIRST), png("train", 100));
  const resumed = await run();
  assert.equal(resumed.code, 2, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`dataset f: ${FIRST}: changed`));
});
