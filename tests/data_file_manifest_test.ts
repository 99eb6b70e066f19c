/**
 * An image folder's manifest (src/data/file_manifest.ts) on real PNG files: it round-trips through
 * its file, moving the folder keeps its hash, and a changed, added, removed or renamed file changes
 * it and is named. (Runs: tests/data_image_sources_test.ts.)
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
import { sha256Hex } from "../src/util/hash.ts";
import { tempDir } from "./fixtures/harness.ts";

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
