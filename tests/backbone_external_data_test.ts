/**
 * Models whose weights live in ONNX external data (`model.onnx` + `model.onnx.data`): loaded by
 * path, so onnxruntime finds the data file; every file the model reads is hashed into the result's
 * inputs and the feature cache key; a location outside the model's directory or a missing data
 * file is refused; `--execution-provider` names the installed providers when the one asked for is
 * absent. The models are real ONNX files written here (the PyTorch-exported one is in
 * export_backbone_test.ts).
 */
import assert from "node:assert/strict";
import { OnnxBackbone } from "../src/backbone/onnx_backbone.ts";
import { linearBackboneData, linearBackboneModel } from "../src/backbone/onnx_graph.ts";
import { extractionKey } from "../src/backbone/extract.ts";
import { loadMnist } from "../src/data/mnist.ts";
import { BackboneError } from "../src/errors.ts";
import { externalDataLocations } from "../src/onnx/external_data.ts";
import { readResult } from "../src/results/schema.ts";
import { sha256Hex } from "../src/util/hash.ts";
import { planLaunch, shardShellLine } from "../src/launch/plan.ts";
import { uniforms } from "./helpers.ts";
import { cli, fixture, oneCell, tempDir } from "./fixtures/harness.ts";

const D = 16, K = 28 * 28;
const weight = uniforms("external-data W", D * K, -0.05, 0.05);
const bias = uniforms("external-data b", D);
const INPUT = { layout: "NCHW", size: [28, 28], channels: 1, mean: [0.1307], std: [0.3081] } as const;
const linear = (externalData?: string) =>
  linearBackboneModel({ layout: "NCHW", channels: 1, height: 28, width: 28, weight, bias, externalData });

/** model.onnx + model.onnx.data in `dir`. */
async function writeExternal(dir: string, data = linearBackboneData({ weight, bias })): Promise<string> {
  await Deno.writeFile(`${dir}/model.onnx`, linear("model.onnx.data"));
  await Deno.writeFile(`${dir}/model.onnx.data`, data);
  return `${dir}/model.onnx`;
}

const mnist = loadMnist("test");
const images = {
  data: mnist.images.subarray(0, 64 * K),
  shape: [64, 1, 28, 28] as const,
};

Deno.test("external data: the model names its data file; the self-contained one names none", () => {
  assert.deepEqual(externalDataLocations(linear("model.onnx.data")), ["model.onnx.data"]);
  assert.deepEqual(externalDataLocations(linear()), []);
});

Deno.test("external data: loads by path, hashes the data file, and gives the self-contained model's features", async () => {
  await using tmp = await tempDir("external-data");
  const path = await writeExternal(tmp.dir);
  await Deno.writeFile(`${tmp.dir}/inline.onnx`, linear());
  const ext = await OnnxBackbone.load({ onnx: path, input: INPUT, output: "features" });
  const inline = await OnnxBackbone.load({
    onnx: `${tmp.dir}/inline.onnx`,
    input: INPUT,
    output: "features",
  });
  try {
    const data = await Deno.readFile(`${tmp.dir}/model.onnx.data`);
    assert.equal(ext.externalData.length, 1);
    assert.equal(ext.externalData[0].location, "model.onnx.data");
    assert.equal(ext.externalData[0].sha256, sha256Hex(data));
    assert.equal(ext.externalData[0].bytes, data.length);
    assert.equal(ext.sha256, sha256Hex(await Deno.readFile(path)));
    assert.notEqual(ext.contentHash, ext.sha256, "the content hash covers the data file");
    assert.equal(inline.externalData.length, 0);
    assert.equal(inline.contentHash, inline.sha256, "a self-contained model keeps its hash");
    const a = await ext.run(images), b = await inline.run(images);
    assert.deepEqual(a, b, "same weights, same features, bit for bit");
  } finally {
    await ext.close();
    await inline.close();
  }
});

Deno.test("external data: other weights in the data file change the cache key, not just the features", async () => {
  await using tmp = await tempDir("external-data-key");
  await Deno.mkdir(`${tmp.dir}/a`);
  await Deno.mkdir(`${tmp.dir}/b`);
  const other = linearBackboneData({ weight: weight.map((w) => -w), bias });
  const a = await OnnxBackbone.load({ onnx: await writeExternal(`${tmp.dir}/a`), input: INPUT });
  const b = await OnnxBackbone.load({ onnx: await writeExternal(`${tmp.dir}/b`, other), input: INPUT });
  try {
    assert.equal(a.sha256, b.sha256, "the .onnx files are identical");
    const keyOf = (m: OnnxBackbone) =>
      JSON.stringify(extractionKey({ backbone: m, dataset: mnist }, [0, 1, 2]).backbone);
    assert.notEqual(keyOf(a), keyOf(b));
    assert.notDeepEqual(await a.run(images), await b.run(images));
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("external data: a missing data file or a location outside the model's directory is refused", async () => {
  await using tmp = await tempDir("external-data-bad");
  const path = await writeExternal(tmp.dir);
  await Deno.remove(`${tmp.dir}/model.onnx.data`);
  await assert.rejects(
    () => OnnxBackbone.load({ onnx: path, input: INPUT }),
    (e: Error) =>
      e instanceof BackboneError && e.message.includes(`"model.onnx.data"`) && e.message.includes(path),
  );
  for (const location of ["../model.onnx.data", "/etc/passwd", "sub/../../x.data"]) {
    await Deno.writeFile(`${tmp.dir}/escape.onnx`, linear(location));
    await assert.rejects(
      () => OnnxBackbone.load({ onnx: `${tmp.dir}/escape.onnx`, input: INPUT }),
      (e: Error) => e instanceof BackboneError && e.message.includes("not inside the model's directory"),
      location,
    );
  }
});

/** tiny.yaml (EC, seed 0) with its backbone replaced by `model.onnx` in `dir`. */
async function externalMatrix(dir: string): Promise<string> {
  await writeExternal(dir);
  const text = (await Deno.readTextFile(fixture("tiny.yaml")))
    .replace("onnx: ../../fixtures/backbones/mnist.onnx", "onnx: model.onnx");
  await Deno.writeTextFile(`${dir}/matrix.yaml`, text);
  return `${dir}/matrix.yaml`;
}

Deno.test("external data: a run records the data file's sha256 in the result's inputs", async () => {
  await using tmp = await tempDir("external-data-run");
  const matrix = await externalMatrix(tmp.dir);
  const r = await oneCell(matrix, `${tmp.dir}/out`, tmp.dir);
  assert.equal(r.code, 0, r.stderr);
  const doc = readResult(JSON.parse(await Deno.readTextFile(`${tmp.dir}/out/result.json`)));
  const b = doc.inputs.backbones.fixture;
  assert.equal(b.sha256, sha256Hex(await Deno.readFile(`${tmp.dir}/model.onnx`)));
  assert.equal(b.external_data?.length, 1);
  assert.match(b.external_data![0].path, /model\.onnx\.data$/);
  assert.equal(b.external_data![0].sha256, sha256Hex(await Deno.readFile(`${tmp.dir}/model.onnx.data`)));
  assert.equal(doc.environment.execution_provider, "cpu");

  // Changing the weights changes the run's inputs: the directory is not resumed with other weights.
  await Deno.writeFile(
    `${tmp.dir}/model.onnx.data`,
    linearBackboneData({ weight: weight.map((w) => 2 * w), bias }),
  );
  const again = await oneCell(matrix, `${tmp.dir}/out`, tmp.dir);
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /holds cells computed with backbone fixture at sha256 .* now hash to/);
});

Deno.test("execution provider: one the installed onnxruntime lacks exits 2 naming those it has", async () => {
  await using tmp = await tempDir("execution-provider");
  const matrix = await externalMatrix(tmp.dir);
  const r = await cli(["run", matrix, "--out", `${tmp.dir}/out`, "--execution-provider", "no-such-provider"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /execution provider "no-such-provider" is not in the installed onnxruntime-node/);
  assert.match(r.stderr, /it has: cpu\b/);
  assert.ok(!r.stderr.includes("    at "), "a message, not a stack trace");
  await assert.rejects(Deno.stat(`${tmp.dir}/out`), Deno.errors.NotFound, "nothing written");
});

Deno.test("execution provider: cuda either runs or exits 2 saying why and what is installed", async () => {
  await using tmp = await tempDir("execution-provider-cuda");
  const path = await writeExternal(tmp.dir);
  let model: OnnxBackbone | null = null;
  try {
    model = await OnnxBackbone.load({ onnx: path, input: INPUT }, { executionProvider: "cuda" });
  } catch (e) {
    // This machine's onnxruntime-node has no CUDA provider library (npm ran no install script).
    assert.ok(e instanceof BackboneError, String(e));
    assert.match(e.message, /execution provider "cuda" (could not start|is not in the installed)/);
    assert.match(e.message, /cpu\b/);
    return;
  }
  try {
    assert.equal(model.executionProvider, "cuda");
    const cpu = await OnnxBackbone.load({ onnx: path, input: INPUT });
    const a = await model.run(images), b = await cpu.run(images);
    await cpu.close();
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-3, `feature ${i}`);
  } finally {
    await model.close();
  }
});

Deno.test("execution provider: the launchers pass a non-default provider to every shard's run", async () => {
  const plan = await planLaunch({
    matrix: fixture("tiny.yaml"),
    shards: 2,
    by: "cell",
    backend: "cpu",
    executionProvider: "cuda",
  });
  const line = shardShellLine(plan, { matrix: "tests/fixtures/tiny.yaml", dir: "/shared", indexVar: "I" });
  assert.match(line, / --execution-provider cuda( |$)/);
  const cpu = shardShellLine({ ...plan, options: { ...plan.options, executionProvider: "cpu" } }, {
    matrix: "tests/fixtures/tiny.yaml",
    dir: "/shared",
    indexVar: "I",
  });
  assert.doesNotMatch(cpu, /--execution-provider/, "the default adds nothing");
  await assert.rejects(
    () =>
      planLaunch({
        matrix: fixture("tiny.yaml"),
        shards: 2,
        by: "cell",
        backend: "cpu",
        executionProvider: "nope",
      }),
    (e: Error) => e instanceof BackboneError && /it has: cpu/.test(e.message),
  );
});
