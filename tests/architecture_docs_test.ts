/**
 * The worked examples of docs/architecture.md, compiled and run: each example file is loaded (its
 * relative imports resolved from where the doc says it lives), its registration line has the form
 * of the lines already in that registry, the matrix schema generated with the entry accepts it and
 * checks its parameters, and the component runs on real data.
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import type { AugmentationKind } from "../src/augment/kind.ts";
import { viewRng } from "../src/augment/params.ts";
import { paramsMatrix } from "../src/augment/warp_matrix.ts";
import type { LossEntry } from "../src/catalog/entries.ts";
import { resolveParams } from "../src/catalog/entries.ts";
import { CATALOGS } from "../src/catalogs.ts";
import { encodeIdx } from "../src/data/idx.ts";
import { loadMnist } from "../src/data/mnist.ts";
import type { DataSource } from "../src/data/source.ts";
import { MatrixError } from "../src/errors.ts";
import { parseMatrixWith } from "../src/matrix/parse.ts";
import { matrixSchemas } from "../src/matrix/schema.ts";
import type { AdapterLoss } from "../src/methods/losses/spec.ts";
import type { CellFeatures, MethodKind } from "../src/methods/method.ts";
import { tensor } from "../src/tensor/ops.ts";
import { setBackend } from "../src/tensor/tensor.ts";
import { fixture, ROOT, tempDir } from "./fixtures/harness.ts";
import { CpuBackend } from "../src/tensor/backends/cpu.ts";

const DOC = await Deno.readTextFile(`${ROOT}/docs/architecture.md`);
const TINY = await Deno.readTextFile(fixture("tiny.yaml"));

/** The doc's ```ts blocks tagged file=PATH or registration=PATH. */
function blocks(tag: "file" | "registration"): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of DOC.matchAll(new RegExp("```ts " + tag + "=(\\S+)\\n([\\s\\S]*?)```", "g"))) {
    out.set(m[1], m[2]);
  }
  return out;
}
const FILES = blocks("file"), REGISTRATIONS = blocks("registration");

/** Loads an example as if it were at `path` in the tree (a copy with absolute imports). */
async function loadExample(dir: string, path: string): Promise<Record<string, unknown>> {
  const text = FILES.get(path)!.replace(
    /from "(\.[^"]+)"/g,
    (_, rel) => `from "${new URL(`file://${resolve(dirname(`${ROOT}/${path}`), rel)}`).href}"`,
  );
  const copy = join(dir, path.replaceAll("/", "_"));
  await Deno.writeTextFile(copy, text);
  return await import(new URL(`file://${copy}`).href);
}

/** The registration line for `path`: one line, of the form of the registry's own lines. */
async function registration(path: string): Promise<string> {
  const registry = [...REGISTRATIONS.keys()].find((r) => dirname(r) === dirname(path));
  assert.ok(registry, `no registration shown for ${path}`);
  const line = REGISTRATIONS.get(registry)!.trim();
  assert.equal(line.split("\n").length, 1, "registration is one line");
  const base = path.split("/").at(-1)!;
  assert.match(line, new RegExp(`^export \\{ (\\w+) as \\w+ \\} from "\\./${base.replace(".", "\\.")}";$`));
  const exported = /^export \{ (\w+) as/.exec(line)![1];
  const existing = (await Deno.readTextFile(`${ROOT}/${registry}`)).split("\n").filter((l) =>
    l.startsWith("export ")
  );
  // Every line of the registry has this form, and its entries are exported under the same name.
  const form = /^export \{ \w+ as \w+(, \w+ as \w+)* \} from "\.\/\w+\.ts";$/;
  assert.ok(existing.length >= 3 && existing.every((l) => form.test(l)), registry);
  assert.ok(existing.some((l) => l.startsWith(`export { ${exported} as `)), `${registry}: ${exported}`);
  return exported;
}

function parseWith(catalogs: typeof CATALOGS, text: string) {
  return parseMatrixWith(matrixSchemas(catalogs).MatrixSpec, text, "example.yaml");
}

Deno.test("architecture docs: every example file has a registration and vice versa", () => {
  assert.deepEqual(
    [...FILES.keys()].map((p) => dirname(p)).sort(),
    [...REGISTRATIONS.keys()].map((p) => dirname(p)).sort(),
  );
  assert.equal(FILES.size, 4);
});

Deno.test("architecture docs: the example loss registers, is checked by the matrix and computes", async () => {
  await using tmp = await tempDir("doc-loss");
  const path = [...FILES.keys()].find((p) => p.startsWith("src/methods/losses/"))!;
  const loss = (await loadExample(tmp.dir, path))[await registration(path)] as AdapterLoss;
  const catalogs = { ...CATALOGS, losses: [...CATALOGS.losses, loss as LossEntry] };
  const ok = parseWith(catalogs, TINY.replace("loss: mawa,", `loss: ${loss.name}, params: { weight: 2 },`));
  assert.ok(ok.spec.methods.some((m) => m.kind === "adapter" && (m as { loss: string }).loss === loss.name));
  assert.throws(
    () => parseWith(catalogs, TINY.replace("loss: mawa,", `loss: ${loss.name}, params: { weight: -1 },`)),
    (e: unknown) => e instanceof MatrixError && /methods\[1\]\.params\.weight/.test(e.message),
  );
  assert.throws(() => parseWith(CATALOGS, TINY.replace("loss: mawa,", `loss: ${loss.name},`)), MatrixError);

  setBackend(new CpuBackend());
  // Three views of two inputs, d = 2: the clean view, and two views off by 1 and 2 in one column.
  const y = tensor([0, 0, 1, 1, 1, 0, 2, 1, 2, 0, 3, 1], [6, 2]);
  const params = resolveParams(`${loss.name} params`, loss.params, { weight: 3 });
  const [v] = await loss.compute({ y, anchors: y, views: 3, seed: 0, step: 0 }, params).toArray();
  assert.ok(Math.abs(v - 3 * (1 + 4) / 2) < 1e-6, `${v}`);
});

Deno.test("architecture docs: the example baseline registers, is checked by the matrix and runs", async () => {
  await using tmp = await tempDir("doc-method");
  const path = [...FILES.keys()].find((p) => p.startsWith("src/methods/baselines/"))!;
  const method = (await loadExample(tmp.dir, path))[await registration(path)] as MethodKind;
  const catalogs = { ...CATALOGS, methods: [...CATALOGS.methods, method] };
  const parsed = parseWith(
    catalogs,
    TINY.replace("- { id: ec, kind: none }", `- { id: ms, kind: ${method.kind}, scale: 2 }`),
  );
  const options = parsed.spec.methods[0] as unknown as Parameters<typeof method.run>[0];
  assert.equal(options.scale, 2);
  assert.throws(
    () =>
      parseWith(
        catalogs,
        TINY.replace("- { id: ec, kind: none }", `- { id: ms, kind: ${method.kind}, scale: 0 }`),
      ),
    (e: unknown) => e instanceof MatrixError && /methods\[0\]\.scale/.test(e.message),
  );

  // Real features: the first 200 MNIST training images' pixels as 784-dimensional features.
  const mnist = loadMnist("train", { limit: 200 });
  const d = 784, x = Float32Array.from(mnist.images.subarray(0, 200 * d), (v) => v / 255);
  const f: CellFeatures = {
    backend: new CpuBackend(),
    seed: 0,
    augmentation: { id: "rot", kind: "rotation", degrees: [-180, 180] },
    d,
    classes: 10,
    labels: { train: mnist.labels.subarray(0, 200), test: mnist.labels.subarray(0, 200) },
    poolViews: 0,
    testDraws: 1,
    clean: () => Promise.resolve(x),
    augmented: () => Promise.resolve(x),
    transformed: () => Promise.resolve(x),
  };
  const fitted = await method.run(options, f);
  const col = (a: Float32Array, j: number) => Array.from({ length: 200 }, (_, i) => a[i * d + j]);
  const busiest = [...Array(d).keys()].reduce((
    a,
    j,
  ) => (col(x, j).reduce((s, v) => s + v) > col(x, a).reduce((s, v) => s + v) ? j : a));
  const centred = col(fitted.trainSet.x as Float32Array, busiest);
  assert.ok(Math.abs(centred.reduce((s, v) => s + v) / 200) < 1e-5, "train features centred");
  assert.ok(centred.some((v) => Math.abs(v) > 0.5), "and scaled, not zeroed");
  assert.deepEqual(await fitted.embed!(x), fitted.trainSet.x as Float32Array);
});

Deno.test("architecture docs: the example dataset source registers, is accepted by the matrix and loads", async () => {
  await using tmp = await tempDir("doc-source");
  const path = [...FILES.keys()].find((p) => p.startsWith("src/data/sources/"))!;
  const source = (await loadExample(tmp.dir, path))[await registration(path)] as DataSource;
  const catalogs = { ...CATALOGS, dataSources: [...CATALOGS.dataSources, source] };
  const parsed = parseWith(
    catalogs,
    TINY.replace("source: mnist", `source: ${source.source}\n    path: data`),
  );
  assert.equal(parsed.spec.datasets[0].source, source.source);
  assert.throws(
    () => parseWith(CATALOGS, TINY.replace("source: mnist", `source: ${source.source}`)),
    MatrixError,
  );

  // 50 real MNIST test images written as <split>-images.idx / <split>-labels.idx.
  const mnist = loadMnist("test", { limit: 50 });
  await Deno.writeFile(
    `${tmp.dir}/test-images.idx`,
    encodeIdx("uint8", [50, 28, 28], mnist.images as Uint8Array),
  );
  await Deno.writeFile(`${tmp.dir}/test-labels.idx`, encodeIdx("uint8", [50], mnist.labels));
  const ds = await source.load({ source: source.source, path: tmp.dir, train: {}, test: {} }, "test");
  assert.equal(ds.kind, "images");
  if (ds.kind !== "images") return;
  assert.deepEqual([ds.n, ds.channels, ds.height, ds.width], [50, 1, 28, 28]);
  assert.deepEqual(ds.labels, mnist.labels);
  assert.deepEqual(ds.images, mnist.images);
  assert.match(ds.contentHash, /^[0-9a-f]{64}$/);
});

Deno.test("architecture docs: the example augmentation registers, is checked by the matrix and draws views", async () => {
  await using tmp = await tempDir("doc-augmentation");
  const path = [...FILES.keys()].find((p) => p.startsWith("src/augment/kinds/"))!;
  const aug = (await loadExample(tmp.dir, path))[await registration(path)] as AugmentationKind;
  const catalogs = { ...CATALOGS, augmentations: [...CATALOGS.augmentations, aug] };
  const rot = "- { id: rot, kind: rotation, degrees: [-180, 180] }";
  const parsed = parseWith(catalogs, TINY.replace(rot, `- { id: t, kind: ${aug.kind} }`));
  assert.deepEqual(parsed.spec.augmentations[0], { id: "t", kind: aug.kind, fraction: 0.1 });
  assert.throws(
    () => parseWith(catalogs, TINY.replace(rot, `- { id: t, kind: ${aug.kind}, fraction: 2 }`)),
    (e: unknown) => e instanceof MatrixError && /augmentations\[0\]\.fraction/.test(e.message),
  );
  assert.throws(
    () => aug.resolve({ kind: aug.kind, fraction: -1 }),
    /augmentation translate\.fraction: -1: expected a number ≥ 0 and ≤ 1/,
  );

  // Views of a 28×28 image: pure translations within ±0.25 · 28 pixels, a function of the stream.
  const r = aug.resolve({ kind: aug.kind, fraction: 0.25 });
  for (let i = 0; i < 50; i++) {
    const p = aug.sample(r, viewRng(0, "train", i, 0), 28, 28);
    assert.deepEqual(p, aug.sample(r, viewRng(0, "train", i, 0), 28, 28));
    const m = paramsMatrix(p, 28, 28);
    assert.deepEqual([m[0], m[1], m[3], m[4]].map((v) => Math.round(v * 1e9) / 1e9 + 0), [1, 0, 0, 1]);
    assert.ok(Math.abs(m[2]) <= 7 && Math.abs(m[5]) <= 7, `${m}`);
  }
});
