/**
 * The adversarial table (issue 15): each row is an input that once lost data, printed a stack for
 * a user error, or failed late without a location. For every row the CLI runs in a subprocess on
 * real files and must exit with the expected code, say the expected fragment on stderr, and leave
 * every file that existed before byte-identical, creating none (exit 0 rows: none changed). Rows
 * that need a read-only or full disk mount a small tmpfs and are skipped where mounting is not
 * allowed (not root).
 */
import assert from "node:assert/strict";
import sharp from "sharp";
import { encodeIdx } from "../src/data/idx.ts";
import { IDX_FILES } from "../src/data/mnist.ts";
import { encodePng } from "../src/data/png.ts";
import { buildLeaderboard } from "../src/leaderboard/build.ts";
import { generateKeys, writePrivateKey } from "../src/results/signing.ts";
import { cli, fixture, ROOT, snapshot } from "./fixtures/harness.ts";
import { hfParquet } from "./fixtures/hf_parquet.ts";
import { buildArgs, SUBMISSIONS, TRACKS, TRUSTED_KEYS } from "./fixtures/leaderboard/helpers.ts";

interface Case {
  /** The defect this row reproduces (issue 15's numbering). */
  name: string;
  /** Writes the row's inputs into `dir`, a fresh temp directory. */
  setup?: (dir: string) => Promise<void>;
  args: (dir: string) => string[];
  code: number;
  /** Must appear on stderr. */
  message: string | RegExp;
  /** Files (relative to `dir`) the row is about; they must exist before and be unchanged after. */
  unchanged: string[];
  /** Needs `mount` (a read-only or full tmpfs at DIR/mnt). */
  mount?: "ro" | "full";
}

const ONNX = `${ROOT}/fixtures/backbones/mnist.onnx`;
const TINY = (await Deno.readTextFile(fixture("tiny.yaml")))
  .replace("onnx: ../../fixtures/backbones/mnist.onnx", `onnx: ${ONNX}`);

/** tiny.yaml with `from` replaced by `to` (which must change it), written to DIR/matrix.yaml. */
async function matrix(dir: string, from = "", to = ""): Promise<void> {
  const text = TINY.replace(from, to);
  assert.ok(from === "" || text !== TINY, `"${from}" is not in tiny.yaml`);
  await Deno.writeTextFile(`${dir}/matrix.yaml`, text);
}

/** An idx dataset in DIR/data: `n` images of size×size per split, labels from `label(i)`. */
async function idxData(dir: string, size: number, label: (i: number) => number): Promise<void> {
  await Deno.mkdir(`${dir}/data`);
  const n = 40;
  for (const split of ["train", "test"] as const) {
    const pixels = Array.from({ length: n * size * size }, (_, i) => (i * 37) % 256);
    await Deno.writeFile(
      `${dir}/data/${IDX_FILES[split].images}`,
      encodeIdx("uint8", [n, size, size], pixels),
    );
    const labels = Array.from({ length: n }, (_, i) => label(i));
    await Deno.writeFile(`${dir}/data/${IDX_FILES[split].labels}`, encodeIdx("uint8", [n], labels));
  }
}

/** The MNIST dataset of tiny.yaml replaced by the idx dataset in DIR/data. */
const IDX_DATASET = (extra = "") =>
  `  - id: mnist\n    source: idx\n    path: data\n${extra}    train: { limit: 1000, stratified_seed: 0 }\n`;
const TINY_DATASET = "  - id: mnist\n    source: mnist\n    train: { limit: 1000, stratified_seed: 0 }\n";

/** A 28×28 grey PNG whose pixels depend on `i`. */
const PNG = (i: number) =>
  encodePng({
    width: 28,
    height: 28,
    channels: 1,
    data: Uint8Array.from({ length: 784 }, (_, k) => (k * 7 + i * 31) % 256),
  });

/** An image folder in DIR/images: train/ and test/ with classes a and b, four PNGs each. */
async function folderData(dir: string): Promise<void> {
  for (const split of ["train", "test"]) {
    for (const cls of ["a", "b"]) {
      await Deno.mkdir(`${dir}/images/${split}/${cls}`, { recursive: true });
      for (let i = 0; i < 4; i++) await Deno.writeFile(`${dir}/images/${split}/${cls}/${i}.png`, PNG(i));
    }
  }
}

/** tiny.yaml's MNIST replaced by an image-folder or parquet dataset at DIR/images. */
const IMAGE_DATASET = (source: string, extra = "") =>
  `  - id: mnist\n    source: ${source}\n    path: images\n${extra}    train: { limit: 1000, stratified_seed: 0 }\n`;

const run = (dir: string, ...extra: string[]) => [
  "run",
  `${dir}/matrix.yaml`,
  "--out",
  `${dir}/out`,
  "--backend",
  "cpu",
  "--cache",
  `${dir}/cache`,
  ...extra,
];

const BOMB = ["a: &a [x, x, x, x, x, x, x, x, x]"].concat(
  ["b", "c", "d", "e", "f"].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${"abcde"[i]}`).join(", ")}]`),
).join("\n");

const CASES: Case[] = [
  // ---- data lost or results inconsistent
  {
    name: "1: run --out over a signed reference result without run.json",
    setup: async (d) => {
      await matrix(d);
      await Deno.mkdir(`${d}/out`);
      for (const f of ["result.json", "result.csv", "result.md"]) {
        await Deno.copyFile(`${ROOT}/results/default/1.0.0/${f}`, `${d}/out/${f}`);
      }
    },
    args: (d) => run(d),
    code: 2,
    message: "holds result.csv, result.json, result.md but no run.json",
    unchanged: ["out/result.json", "out/result.csv", "out/result.md"],
  },
  {
    name: "2: leaderboard build with --submissions inside --out",
    setup: async (d) => {
      await buildLeaderboard({
        submissions: [SUBMISSIONS],
        keys: TRUSTED_KEYS,
        tracks: TRACKS,
        out: `${d}/site`,
      });
      await Deno.mkdir(`${d}/site/incoming`);
      await Deno.copyFile(`${SUBMISSIONS}/good.json`, `${d}/site/incoming/good.json`);
    },
    args: (d) => buildArgs(`${d}/site/incoming`, `${d}/site`),
    code: 2,
    message: "lies inside --out",
    unchanged: ["site/incoming/good.json", "site/index.html", "site/.invbench-leaderboard"],
  },
  {
    name: "6: cache clear leaves other programs' hidden .tmp files",
    setup: async (d) => {
      await Deno.mkdir(`${d}/cache`);
      await Deno.writeTextFile(`${d}/cache/.notes.tmp`, "a draft");
      await Deno.writeTextFile(`${d}/cache/.report.123-abcdef.tmp`, "another program's write");
    },
    args: (d) => ["cache", "clear", "--dir", `${d}/cache`],
    code: 0,
    message: "",
    unchanged: ["cache/.notes.tmp", "cache/.report.123-abcdef.tmp"],
  },
  // ---- integrity
  {
    name: "7: a key file whose x does not belong to its d",
    setup: async (d) => {
      await matrix(d);
      const [a, b] = [await generateKeys(), await generateKeys()];
      await Deno.writeTextFile(`${d}/key.jwk`, JSON.stringify({ ...a.privateJwk, x: b.publicJwk.x }));
    },
    args: (d) => run(d, "--key", `${d}/key.jwk`),
    code: 2,
    message: 'the public key "x" does not belong to the private key "d"',
    unchanged: ["key.jwk", "matrix.yaml"],
  },
  {
    name: "8: a matrix that is not UTF-8",
    setup: async (d) => {
      const bytes = new TextEncoder().encode(TINY.replace("name: tiny-test", "name: tiny-caf?"));
      bytes[bytes.indexOf("?".charCodeAt(0))] = 0xe9; // Latin-1 "é"
      await Deno.writeFile(`${d}/matrix.yaml`, bytes);
    },
    args: (d) => run(d),
    code: 2,
    message: /matrix\.yaml: invalid matrix\n {2}- not UTF-8 text \(first invalid byte near offset \d+\)/,
    unchanged: ["matrix.yaml"],
  },
  // ---- exit codes
  {
    name: "10: a YAML alias bomb in a matrix",
    setup: (d) => Deno.writeTextFile(`${d}/matrix.yaml`, `schema: invbench.matrix/v1\n${BOMB}\n`),
    args: (d) => run(d),
    code: 2,
    message: /line 3, column \d+: aliases expand to too many nodes/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "10: a YAML alias bomb in a tracks file",
    setup: (d) => Deno.writeTextFile(`${d}/tracks.yaml`, `schema: invbench.tracks/v1\n${BOMB}\n`),
    args: (d) => buildArgs(SUBMISSIONS, `${d}/site`, `${d}/tracks.yaml`),
    code: 2,
    message: /tracks\.yaml: invalid tracks file\n {2}- line 3, column \d+: aliases expand/,
    unchanged: ["tracks.yaml"],
  },
  {
    name: "11: run --out a regular file",
    setup: async (d) => {
      await matrix(d);
      await Deno.writeTextFile(`${d}/out`, "my notes");
    },
    args: (d) => run(d),
    code: 2,
    message: /--out .*\/out: a file, not a directory/,
    unchanged: ["out"],
  },
  {
    name: "11: run --out on a read-only file system",
    mount: "ro",
    setup: (d) => matrix(d),
    args: (d) => [...run(d).slice(0, 3), `${d}/mnt/out`, ...run(d).slice(4)],
    code: 2,
    message: /Read-only file system \(os error 30\).*\/mnt\/out/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "11: run --out on a full disk",
    mount: "full",
    setup: (d) => matrix(d),
    args: (d) => [...run(d).slice(0, 3), `${d}/mnt/out`, ...run(d).slice(4)],
    code: 2,
    message: "No space left on device",
    unchanged: ["matrix.yaml", "mnt/filler"],
  },
  {
    name: "12: submit --to a read-only directory",
    mount: "ro",
    args: (d) => [
      "submit",
      `${SUBMISSIONS}/good.json`,
      "--to",
      `${d}/mnt`,
      "--keys",
      TRUSTED_KEYS,
      "--tracks",
      TRACKS,
    ],
    code: 2,
    message: /Read-only file system \(os error 30\).*\/mnt/,
    unchanged: [],
  },
  {
    name: "13: leaderboard build --out on a full disk leaves no half site",
    mount: "full",
    args: (d) => buildArgs(SUBMISSIONS, `${d}/mnt/site`),
    code: 2,
    message: "No space left on device",
    unchanged: ["mnt/filler"],
  },
  {
    name: "13: leaderboard build --out a regular file",
    setup: (d) => Deno.writeTextFile(`${d}/site`, "not a site"),
    args: (d) => buildArgs(SUBMISSIONS, `${d}/site`),
    code: 2,
    message: "site: a file, not a directory",
    unchanged: ["site"],
  },
  ...(["ls", "clear"] as const).map((sub): Case => ({
    name: `14: cache ${sub} --dir a regular file`,
    setup: (d) => Deno.writeTextFile(`${d}/cache`, "not a cache"),
    args: (d) => ["cache", sub, "--dir", `${d}/cache`],
    code: 2,
    message: /Not a directory \(os error 20\).*\/cache/,
    unchanged: ["cache"],
  })),
  {
    name: "15: keys generate --jwks holding {} writes no key",
    setup: (d) => Deno.writeTextFile(`${d}/trusted.jwks`, "{}"),
    args: (d) => ["keys", "generate", "--out", `${d}/new.jwk`, "--jwks", `${d}/trusted.jwks`],
    code: 2,
    message: /trusted\.jwks: expected a JWKS/,
    unchanged: ["trusted.jwks"],
  },
  {
    name: "19: keys generate --jwks that is not JSON writes no key",
    setup: (d) => Deno.writeTextFile(`${d}/trusted.jwks`, "keys: [oops"),
    args: (d) => ["keys", "generate", "--out", `${d}/new.jwk`, "--jwks", `${d}/trusted.jwks`],
    code: 2,
    message: /trusted\.jwks: expected a JWKS .* in JSON/,
    unchanged: ["trusted.jwks"],
  },
  {
    name: "15: keys generate --out over an existing key",
    setup: async (d) => await writePrivateKey(`${d}/old.jwk`, await generateKeys()),
    args: (d) => ["keys", "generate", "--out", `${d}/old.jwk`],
    code: 2,
    message: "old.jwk already exists; a key file is never overwritten",
    unchanged: ["old.jwk"],
  },
  ...[
    ["an unknown source", ["--dataset", '{"id":"x","source":"nope"}'], "--dataset: source: Invalid option"],
    ["an unknown kind", ["--augmentation", '{"id":"r","kind":"spin"}'], "--augmentation: kind: Invalid"],
    ["--images -5", ["--images", "-5"], "--images -5: expected an integer from 1 to"],
    ["--views 0", ["--views", "0"], "--views 0: expected an integer from 1 to"],
  ].map(([what, flags, message]): Case => ({
    name: `16/22: preview with ${what}`,
    setup: (d) => Deno.writeTextFile(`${d}/keep.txt`, "x"),
    args: (d) => ["preview", ...(flags as string[]), "--out", `${d}/preview.png`],
    code: 2,
    message: message as string,
    unchanged: ["keep.txt"],
  })),
  {
    name: "16: verify a result whose signature is null (malformed: exit 3)",
    setup: async (d) => {
      const doc = JSON.parse(await Deno.readTextFile(`${ROOT}/results/default/1.0.0/result.json`));
      await Deno.writeTextFile(`${d}/result.json`, JSON.stringify({ ...doc, signature: null }));
    },
    args: (d) => ["verify", `${d}/result.json`, "--keys", `${ROOT}/results/trusted_keys.jwks`],
    code: 3,
    message: "signature must be {protected, signature} base64url strings",
    unchanged: ["result.json"],
  },
  // ---- late or unclear messages: refused before anything is written, located in the matrix
  ...[
    ["degrees: [90, -90]", "degrees: [-180, 180]", "degrees: [90, -90]", "augmentations[0].degrees"],
    [
      "resized_crop area: [0.9, 0.1]",
      "{ id: rot, kind: rotation, degrees: [-180, 180] }",
      "{ id: rot, kind: resized_crop, area: [0.9, 0.1] }",
      "augmentations[0].area",
    ],
  ].map(([what, from, to, field]): Case => ({
    name: `17: ${what}`,
    setup: (d) => matrix(d, from, to),
    args: (d) => run(d),
    code: 2,
    message: new RegExp(`line \\d+, column \\d+: ${field.replace(/[.[\]]/g, "\\$&")}: expected \\[lo, hi\\]`),
    unchanged: ["matrix.yaml"],
  })),
  {
    name: "17: 32×32 images for a 28×28 backbone",
    setup: async (d) => {
      await matrix(d, TINY_DATASET, IDX_DATASET());
      await idxData(d, 32, (i) => i % 10);
    },
    args: (d) => run(d),
    code: 2,
    message: /line \d+, column \d+: datasets\[0\] "mnist" through backbones\[0\] "fixture": .* are 32×32/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "17: a dataset with one class",
    setup: async (d) => {
      await matrix(d, TINY_DATASET, IDX_DATASET());
      await idxData(d, 28, () => 0);
    },
    args: (d) => run(d),
    code: 2,
    message: /line \d+, column \d+: datasets\[0\] "mnist": the training split has 1 class\(es\)/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "low: a stray label 255 does not make a 256-class classifier",
    setup: async (d) => {
      await matrix(d, TINY_DATASET, IDX_DATASET());
      await idxData(d, 28, (i) => (i === 7 ? 255 : i % 10));
    },
    args: (d) => run(d),
    code: 2,
    message: /datasets\[0\] "mnist": the labels are not 0\.\.K−1 \(11 distinct values, the largest 255\)/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "low: a label outside the declared classes names the labels file",
    setup: async (d) => {
      await matrix(d, TINY_DATASET, IDX_DATASET("    classes: 10\n"));
      await idxData(d, 28, (i) => (i === 7 ? 255 : i % 10));
    },
    args: (d) => run(d),
    code: 2,
    message: /train-labels-idx1-ubyte.*255/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "17: hidden: 1e9 is more memory than the machine has",
    setup: (d) => matrix(d, "hidden: 128", "hidden: 1000000000"),
    args: (d) => run(d),
    code: 2,
    message:
      /line \d+, column \d+: method "mawa" on mnist\/fixture: training .* needs at least [\d.]+ GiB, more than/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "low: an adapter drawing more views per step than its pool holds, located",
    setup: (d) => matrix(d, "view_pool: 3 }", "views: 4, view_pool: 3 }"),
    args: (d) => run(d),
    code: 2,
    message: /line \d+, column \d+: methods\[1\]\.training\.views: mawa: 4 views per step .* pool of 3/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "low: out_ratio below 1 for a loss that keeps d' = d, located",
    setup: (d) => matrix(d, "hidden: 128,", "hidden: 128, out_ratio: 0.25,"),
    args: (d) => run(d),
    code: 2,
    message:
      /line \d+, column \d+: methods\[1\]\.training\.out_ratio: method "mawa": loss mawa keeps d' = d \(128\); out_ratio 0\.25 gives d' = 32/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "low: WaCo with 10^8 directions is more memory than the machine has, located",
    setup: (d) =>
      matrix(
        d,
        "id: mawa, kind: adapter, loss: mawa,",
        "id: waco, kind: adapter, loss: waco, params: { directions: 100000000 },",
      ),
    args: (d) => run(d),
    code: 2,
    message:
      /line \d+, column \d+: method "waco" on mnist\/fixture: training .* and loss waco [\d.]+ GiB for a batch of 1024 rows, more than/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "low: a test split of one image (the structure metrics need a pair), located",
    setup: (d) =>
      matrix(d, "test: { limit: 300, stratified_seed: 0 }", "test: { limit: 1, stratified_seed: 0 }"),
    args: (d) => run(d),
    code: 2,
    message:
      /line \d+, column \d+: datasets\[0\] "mnist": the test split has 1 image; the structure metrics need at least 2/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "low: evaluation.structure_points: 1 (no pair), located",
    setup: (d) => matrix(d, "structure_points: 100", "structure_points: 1"),
    args: (d) => run(d),
    code: 2,
    message: /line \d+, column \d+: evaluation\.structure_points: Too small: expected number to be >=2/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "20: include and exclude that keep no cell say so, located",
    setup: (d) =>
      Deno.writeTextFile(
        `${d}/matrix.yaml`,
        TINY + "include:\n  - { method: mawa }\nexclude:\n  - { augmentation: rot }\n",
      ),
    args: (d) => run(d),
    code: 2,
    message: /line \d+, column \d+: include: include\/exclude leave none of the matrix's 6 cells/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "low: an include pattern naming no method of the matrix (a typo), located",
    setup: (d) => Deno.writeTextFile(`${d}/matrix.yaml`, TINY + "include:\n  - { method: nothing }\n"),
    args: (d) => run(d),
    code: 2,
    message: /line \d+, column \d+: include\[0\]\.method: "nothing" is not a method id of this matrix/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "low: a result with a repeated key",
    setup: async (d) => {
      const text = await Deno.readTextFile(`${ROOT}/results/default/1.0.0/result.json`);
      await Deno.writeTextFile(`${d}/result.json`, text.replace('"schema": ', '"schema": "x", "schema": '));
    },
    args: (d) => ["verify", `${d}/result.json`, "--keys", `${ROOT}/results/trusted_keys.jwks`],
    code: 2,
    message: /line 2, column \d+: key "schema" appears twice/,
    unchanged: ["result.json"],
  },
  {
    name: "byo data: an image folder that does not exist",
    setup: (d) => matrix(d, TINY_DATASET, IMAGE_DATASET("image-folder")),
    args: (d) => run(d),
    code: 2,
    message: /images \(image folder\): expected a readable directory/,
    unchanged: ["matrix.yaml"],
  },
  {
    name: "byo data: a file that is not an image in a class folder",
    setup: async (d) => {
      await matrix(d, TINY_DATASET, IMAGE_DATASET("image-folder"));
      await folderData(d);
      await Deno.writeTextFile(`${d}/images/train/b/notes.txt`, "not an image");
    },
    args: (d) => run(d),
    code: 2,
    message: /images\/train\/b\/notes\.txt: expected a \.png, \.jpg or \.jpeg image file/,
    unchanged: ["matrix.yaml", "images/train/b/notes.txt"],
  },
  {
    name: "byo data: a text file named .png",
    setup: async (d) => {
      await matrix(d, TINY_DATASET, IMAGE_DATASET("image-folder"));
      await folderData(d);
      await Deno.writeTextFile(`${d}/images/test/a/9.png`, "not an image");
    },
    args: (d) => run(d),
    code: 2,
    message: /images\/test\/a\/9\.png: expected a PNG or JPEG image/,
    unchanged: ["matrix.yaml", "images/test/a/9.png"],
  },
  {
    name: "byo data: a truncated JPEG",
    setup: async (d) => {
      await matrix(d, TINY_DATASET, IMAGE_DATASET("image-folder"));
      await folderData(d);
      const jpeg = await sharp(PNG(5)).jpeg().toBuffer();
      await Deno.writeFile(`${d}/images/train/a/5.jpg`, jpeg.subarray(0, jpeg.length >> 1));
    },
    args: (d) => run(d),
    code: 2,
    message: /images\/train\/a\/5\.jpg: expected a decodable PNG or JPEG image/,
    unchanged: ["matrix.yaml", "images/train/a/5.jpg"],
  },
  {
    name: "byo data: a parquet file without the label column",
    setup: async (d) => {
      await matrix(d, TINY_DATASET, IMAGE_DATASET("parquet", "    label_column: digit\n"));
      await Deno.mkdir(`${d}/images`);
      for (const split of ["train", "test"]) {
        await Deno.writeFile(`${d}/images/${split}.parquet`, hfParquet([0, 1, 2, 3].map(PNG), [0, 1, 0, 1]));
      }
    },
    args: (d) => run(d),
    code: 2,
    message:
      /images\/train\.parquet \(label_column\): expected a column "digit" \(the file has image, label\)/,
    unchanged: ["matrix.yaml", "images/train.parquet"],
  },
  {
    name: "byo data: holdout on a source that does not read it",
    setup: (d) => matrix(d, TINY_DATASET, TINY_DATASET + "    holdout: { fraction: 0.2, seed: 0 }\n"),
    args: (d) => run(d),
    code: 2,
    message: /line \d+, column \d+: .*source "mnist" does not read holdout \(only image-folder, parquet\)/,
    unchanged: ["matrix.yaml"],
  },
];

/** Whether this machine lets the tests mount a tmpfs (root in a container or VM, as in CI). */
async function canMount(): Promise<boolean> {
  const dir = await Deno.makeTempDir({ prefix: "invbench-mount-" });
  try {
    const mounted = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir] })
      .output().catch(() => null);
    if (!mounted?.success) return false;
    await new Deno.Command("umount", { args: [dir] }).output();
    return true;
  } finally {
    await Deno.remove(dir).catch(() => {});
  }
}
const MOUNTS = await canMount();

async function mount(dir: string, kind: "ro" | "full"): Promise<void> {
  await Deno.mkdir(dir);
  const options = kind === "ro" ? "ro,size=64k" : "size=64k";
  const r = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", options, "tmpfs", dir] }).output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  if (kind === "full") {
    // Fill every block, so the first write of the command fails.
    const f = await Deno.open(`${dir}/filler`, { write: true, create: true });
    try {
      while (true) await f.write(new Uint8Array(4096));
    } catch (e) {
      assert.match((e as Error).message, /No space left on device/);
    } finally {
      f.close();
    }
  }
}

for (const c of CASES) {
  Deno.test({
    name: `adversarial: ${c.name} → exit ${c.code}`,
    ignore: c.mount !== undefined && !MOUNTS,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "invbench-adversarial-" });
      try {
        if (c.mount) await mount(`${dir}/mnt`, c.mount);
        await c.setup?.(dir);
        const before = await snapshot(dir);
        for (const f of c.unchanged) assert.ok(before.has(f), `${f} exists before the command`);
        const r = await cli(c.args(dir), { cwd: dir });
        assert.equal(r.code, c.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
        if (typeof c.message === "string") assert.ok(r.stderr.includes(c.message), r.stderr);
        else assert.match(r.stderr, c.message);
        if (c.code === 2 || c.code === 3) {
          assert.ok(!r.stderr.includes("    at "), `a message, not a stack trace:\n${r.stderr}`);
        }
        const after = await snapshot(dir);
        for (const f of c.unchanged) assert.equal(after.get(f), before.get(f), `${f} unchanged`);
        assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), "no file created or deleted");
        assert.deepEqual(after, before, "every file unchanged");
      } finally {
        if (c.mount) await new Deno.Command("umount", { args: [`${dir}/mnt`] }).output();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
