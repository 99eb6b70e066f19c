/**
 * ONNX backbones on real model files (built at run time with known weights) and real MNIST test
 * images: features against a float64 reference, spec checks before any run, NaN rejection,
 * layouts, replication, resizing, fixed batch sizes and symbolic feature dimensions.
 */
import { BackboneError } from "../src/errors.ts";
import nodeAssert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type BackboneDecl, OnnxBackbone } from "../src/backbone/onnx_backbone.ts";
import { linearBackboneModel, type LinearBackboneOptions } from "../src/backbone/onnx_graph.ts";
import { preprocess, resolveInputSpec } from "../src/backbone/input_spec.ts";
import { buildOnnxModel, ONNX_FLOAT } from "../src/onnx/model.ts";
import { loadMnist } from "../src/data/mnist.ts";
import { CounterRng } from "../src/rng/philox.ts";
import { assertClose as closeWithin } from "./helpers.ts";

const assert: (cond: unknown, msg?: string) => asserts cond = nodeAssert.ok;
const assertEquals = <T>(got: T, want: T, msg?: string) => nodeAssert.deepStrictEqual(got, want, msg);

/** Awaits a rejection of class `cls` whose message contains every part; returns the message. */
async function rejectsWith(
  p: () => Promise<unknown>,
  cls: new (...a: never[]) => Error,
  parts: string[],
): Promise<string> {
  try {
    await p();
  } catch (e) {
    assert(e instanceof cls, `expected ${cls.name}, got ${e}`);
    for (const part of parts) {
      assert(e.message.includes(part), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(part)}`);
    }
    return e.message;
  }
  throw new Error(`expected a ${cls.name}, nothing was thrown`);
}

/** helpers.ts's closeness check with positional tolerances: |got − want| ≤ atol + rtol·|want|. */
const assertClose = (
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
  what: string,
) => closeWithin(got, want, { atol, rtol }, what);

const MNIST_MEAN = 0.1307, MNIST_STD = 0.3081;
const mnist = loadMnist("test");
const N = 300; // images used by the reference checks
const rows = Array.from({ length: N }, (_, i) => i * 7); // spread over the test set

const tmp = await Deno.makeTempDir({ prefix: "invbench-backbone-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

let modelCounter = 0;
async function writeModel(bytes: Uint8Array): Promise<string> {
  const path = `${tmp}/model${modelCounter++}.onnx`;
  await Deno.writeFile(path, bytes);
  return path;
}

function weights(d: number, k: number, label: string): { weight: Float32Array; bias: Float32Array } {
  const rng = new CounterRng(0, "tests", "backbone", label);
  return { weight: rng.normals(d * k, 0, 0.05), bias: rng.normals(d, 0, 0.5, d * k) };
}

/** float64 features of the linear backbone: W · flatten(model input) + b, on the model input built in float64. */
function reference(
  modelInput: (img: number) => Float64Array,
  w: { weight: Float32Array; bias: Float32Array },
  imgs: readonly number[],
): Float64Array {
  const d = w.bias.length, k = w.weight.length / d;
  const out = new Float64Array(imgs.length * d);
  imgs.forEach((img, r) => {
    const x = modelInput(img);
    assertEquals(x.length, k);
    for (let j = 0; j < d; j++) {
      let s = w.bias[j];
      for (let i = 0; i < k; i++) s += w.weight[j * k + i] * x[i];
      out[r * d + j] = s;
    }
  });
  return out;
}

/** MNIST pixel (y, x) of image `img` normalised, in float64. */
function pixel(img: number, y: number, x: number, mean = MNIST_MEAN, std = MNIST_STD): number {
  return (mnist.images[img * 784 + y * 28 + x] / 255 - mean) / std;
}

const images = { data: mnist.images, shape: [mnist.n, 1, 28, 28] as const };
const nchw1 = {
  layout: "NCHW" as const,
  size: [28, 28] as const,
  channels: 1,
  mean: [MNIST_MEAN],
  std: [MNIST_STD],
};

async function linear(opts: Omit<LinearBackboneOptions, "weight" | "bias">, d: number, label: string) {
  const w = weights(d, opts.channels * opts.height * opts.width, label);
  const path = await writeModel(linearBackboneModel({ ...opts, ...w }));
  return { path, w };
}

Deno.test("backbone: Flatten+Gemm features on MNIST equal a float64 reference; sha256 and dims exposed", async () => {
  const d = 16;
  const { path, w } = await linear({ layout: "NCHW", channels: 1, height: 28, width: 28 }, d, "nchw");
  const bb = await OnnxBackbone.load({ onnx: path, input: nchw1 }, { batchSize: 64 });
  try {
    assertEquals(bb.featureDim, d);
    assertEquals(bb.runs, 0, "metadata gave the feature dim: no probe run");
    assertEquals(bb.sha256, createHash("sha256").update(await Deno.readFile(path)).digest("hex"));
    assertEquals(bb.outputName, "features");
    assertEquals(bb.info().output.featureDim, d);
    assertEquals(bb.threads, navigator.hardwareConcurrency);
    const progress: number[] = [];
    const got = await bb.run(images, rows, { progress: (done, total) => progress.push(done, total) });
    const want = reference(
      (img) => Float64Array.from({ length: 784 }, (_, i) => pixel(img, Math.floor(i / 28), i % 28)),
      w,
      rows,
    );
    assertClose(got, want, 1e-4, 1e-4, "features");
    assertEquals(bb.runs, Math.ceil(N / 64));
    assertEquals(progress.slice(-2), [N, N]);
    assertEquals(progress.length, 2 * Math.ceil(N / 64));
    // The batch size does not change the features.
    const one = await bb.run(images, rows.slice(0, 10), { batchSize: 3 });
    assertClose(one, got.subarray(0, 10 * d), 1e-6, 1e-6, "batch size 3 vs 64");
    // Output by index and by name.
    const bb2 = await OnnxBackbone.load({ onnx: path, input: nchw1, output: 1 });
    const bb3 = await OnnxBackbone.load({ onnx: path, input: nchw1, output: "relu" });
    const relu1 = await bb2.run(images, rows.slice(0, 20));
    const relu2 = await bb3.run(images, rows.slice(0, 20));
    assertEquals(bb2.outputName, "relu");
    assertEquals(relu1, relu2);
    assertClose(relu1, Array.from(got.subarray(0, 20 * d), (v) => Math.max(v, 0)), 1e-6, 0, "relu output");
    await bb2.close();
    await bb3.close();
  } finally {
    await bb.close();
  }
});

Deno.test("backbone: NHWC layout, grayscale → 3 channels, bilinear resize, per-channel mean/std", async () => {
  // A 3-channel NHWC model at 14×14: MNIST is replicated to 3 channels and halved by bilinear
  // resizing (at exactly ½, half-pixel bilinear is the mean of each 2×2 block).
  const d = 8;
  const mean = [0.1, 0.2, 0.3], std = [0.3, 0.4, 0.5];
  const { path, w } = await linear({ layout: "NHWC", channels: 3, height: 14, width: 14 }, d, "nhwc3");
  const bb = await OnnxBackbone.load({
    onnx: path,
    input: { layout: "NHWC", size: [14, 14], channels: 3, resize: "bilinear", mean, std },
  });
  try {
    const some = rows.slice(0, 60);
    const got = await bb.run(images, some);
    const want = reference(
      (img) => {
        const x = new Float64Array(14 * 14 * 3);
        for (let y = 0; y < 14; y++) {
          for (let xx = 0; xx < 14; xx++) {
            let s = 0;
            for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
              s += mnist.images[img * 784 + (2 * y + dy) * 28 + 2 * xx + dx] / 255;
            }
            for (let c = 0; c < 3; c++) x[(y * 14 + xx) * 3 + c] = (s / 4 - mean[c]) / std[c];
          }
        }
        return x;
      },
      w,
      some,
    );
    assertClose(got, want, 1e-4, 1e-4, "NHWC/3ch/resized features");
  } finally {
    await bb.close();
  }
});

Deno.test("backbone: spec mismatches fail at load, naming the model file and both shapes", async () => {
  const { path } = await linear({ layout: "NCHW", channels: 1, height: 28, width: 28 }, 4, "mismatch");
  const cases: [string, BackboneDecl, string[]][] = [
    ["channels", { onnx: path, input: { ...nchw1, channels: 3, mean: [0], std: [1] } }, [
      path,
      "[N, 1, 28, 28]",
      "[N, 3, 28, 28]",
    ]],
    ["size", { onnx: path, input: { ...nchw1, size: [32, 32] } }, [path, "[N, 1, 28, 28]", "[N, 1, 32, 32]"]],
    ["layout", { onnx: path, input: { ...nchw1, layout: "NHWC", size: [1, 28] } }, [
      path,
      "[N, 1, 28, 28]",
      "[N, 1, 28, 1]",
    ]],
    ["output name", { onnx: path, input: nchw1, output: "logits" }, [
      path,
      `"logits" not found`,
      `"features" float32 [N, 4]`,
      `"relu" float32 [N, 4]`,
    ]],
    ["output index", { onnx: path, input: nchw1, output: 5 }, [path, "#5 not found"]],
    ["mean length", { onnx: path, input: { ...nchw1, mean: [0, 0] } }, [path, "mean", "expected 1 or 1"]],
    ["missing file", { onnx: `${tmp}/nope.onnx`, input: nchw1 }, [`${tmp}/nope.onnx`, "cannot read"]],
  ];
  for (const [what, decl, parts] of cases) {
    const msg = await rejectsWith(() => OnnxBackbone.load(decl), BackboneError, parts);
    assert(msg.length > 0, what);
  }
  // A NHWC model declared NCHW gets a layout hint.
  const nhwc = await linear({ layout: "NHWC", channels: 3, height: 28, width: 28 }, 4, "hint");
  await rejectsWith(
    () => OnnxBackbone.load({ onnx: nhwc.path, input: { ...nchw1, channels: 3, mean: [0], std: [1] } }),
    BackboneError,
    [nhwc.path, "[N, 28, 28, 3]", "[N, 3, 28, 28]", "looks NHWC"],
  );
  // Not an ONNX model at all.
  const junk = await writeModel(new TextEncoder().encode("definitely not protobuf"));
  await rejectsWith(() => OnnxBackbone.load({ onnx: junk, input: nchw1 }), BackboneError, [
    junk,
    "cannot load",
  ]);
});

Deno.test("backbone: images that do not fit the spec are rejected before any inference", async () => {
  // Model and spec agree on 32×32 but MNIST is 28×28 and resize is "none".
  const { path } = await linear({ layout: "NCHW", channels: 1, height: 32, width: 32 }, 4, "size32");
  const bb = await OnnxBackbone.load({ onnx: path, input: { ...nchw1, size: [32, 32] } });
  const one = await linear({ layout: "NCHW", channels: 1, height: 28, width: 28 }, 4, "one-channel");
  const bb1 = await OnnxBackbone.load({ onnx: one.path, input: nchw1 });
  try {
    let calls = 0;
    await rejectsWith(() => bb.run(images, rows, { progress: () => calls++ }), BackboneError, [
      path,
      "[n, 1, 28, 28]",
      "[n, 1, 32, 32]",
      'resize: "none"',
    ]);
    assertEquals([bb.runs, calls], [0, 0]);
    // 3-channel images for a 1-channel model: no silent channel dropping.
    const colour = { data: new Float32Array(2 * 3 * 28 * 28), shape: [2, 3, 28, 28] as const };
    await rejectsWith(() => bb1.run(colour), BackboneError, ["[n, 3, 28, 28]", "[n, 1, 28, 28]"]);
    await rejectsWith(() => bb1.run(images, [0, 10000]), BackboneError, ["row 10000"]);
    assertEquals(bb1.runs, 0);
  } finally {
    await bb.close();
    await bb1.close();
  }
});

Deno.test("backbone: NaN/Inf features are rejected with the image index", async () => {
  // features = sqrt(W x + b): NaN for the images whose pre-activation is negative somewhere.
  const d = 4, k = 784;
  const w = weights(d, k, "nan");
  w.bias.fill(3); // positive for most images …
  const path = await writeModel(
    linearBackboneModel({ layout: "NCHW", channels: 1, height: 28, width: 28, ...w, post: "Sqrt" }),
  );
  const pre = reference(
    (img) => Float64Array.from({ length: 784 }, (_, i) => pixel(img, Math.floor(i / 28), i % 28)),
    w,
    rows,
  );
  const firstBad = rows.findIndex((_, r) => pre.subarray(r * d, r * d + d).some((v) => v < 0));
  assert(firstBad > 0, "test premise: some but not all images give a negative pre-activation");
  const bb = await OnnxBackbone.load({ onnx: path, input: nchw1 }, { batchSize: 16 });
  try {
    const ok = await bb.run(images, rows.slice(0, firstBad));
    assertClose(ok, Array.from(pre.subarray(0, firstBad * d), Math.sqrt), 1e-4, 1e-4, "sqrt features");
    await rejectsWith(() => bb.run(images, rows), BackboneError, [path, `image ${rows[firstBad]} `, "NaN"]);
    // With dataset indices given for the rows, the message uses them.
    await rejectsWith(
      () => bb.run(images, rows, { imageIndex: rows.map((i) => i + 100000) }),
      BackboneError,
      [`image ${rows[firstBad] + 100000} `],
    );
  } finally {
    await bb.close();
  }
});

Deno.test("backbone: symbolic feature dim read by one probe run; fixed batch dims padded", async () => {
  // Input [N, 1, H, W] → Flatten → "flat" [N, K]: K is only known once H, W are, so the feature
  // dimension comes from a probe run at the spec's size (28 × 28 → 784). The features are then
  // the preprocessed pixels themselves.
  const flat = await writeModel(buildOnnxModel({
    nodes: [{ opType: "Flatten", inputs: ["x"], outputs: ["flat"], attributes: { axis: 1 } }],
    inputs: [{ name: "x", elemType: ONNX_FLOAT, dims: ["N", 1, "H", "W"] }],
    outputs: [{ name: "flat", elemType: ONNX_FLOAT, dims: ["N", "K"] }],
  }));
  const a = await OnnxBackbone.load({ onnx: flat, input: nchw1 });
  const d = 6;
  const fixed = await linear({ layout: "NCHW", channels: 1, height: 28, width: 28, batch: 4 }, d, "fixed");
  const b = await OnnxBackbone.load({ onnx: fixed.path, input: nchw1 }, { batchSize: 100 });
  try {
    assertEquals([a.featureDim, a.runs], [784, 1]);
    const px = await a.run(images, [5, 9]);
    assertClose(
      px,
      [5, 9].flatMap((img) => Array.from({ length: 784 }, (_, i) => pixel(img, Math.floor(i / 28), i % 28))),
      1e-5,
      0,
      "pixels",
    );
    assertEquals([b.featureDim, b.runs, b.fixedBatch, b.batchSize], [d, 0, 4, 4]);
    const some = rows.slice(0, 10); // 10 = 4 + 4 + 2 (padded)
    const fb = await b.run(images, some);
    assertEquals(b.runs, 3);
    const want = reference(
      (img) => Float64Array.from({ length: 784 }, (_, i) => pixel(img, Math.floor(i / 28), i % 28)),
      fixed.w,
      some,
    );
    assertClose(fb, want, 1e-4, 1e-4, "fixed batch 4, padded");
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("preprocess: uint8 and float32 images give the same model input; NCHW vs NHWC transpose", () => {
  const spec = resolveInputSpec({ layout: "NCHW", size: [28, 28], channels: 3, mean: [0.5], std: [0.25] });
  const u8 = mnist.images.subarray(0, 2 * 784);
  const f32 = Float32Array.from(u8, (v) => v / 255);
  const a = preprocess(spec, u8, [2, 1, 28, 28], [1, 0]);
  const b = preprocess(spec, f32, [2, 1, 28, 28], [1, 0]);
  assertClose(a, b, 1e-6, 0, "uint8 vs float32");
  const nhwc = preprocess({ ...spec, layout: "NHWC" }, u8, [2, 1, 28, 28], [1, 0]);
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 784; i += 37) assertEquals(nhwc[r * 2352 + i * 3 + c], a[r * 2352 + c * 784 + i]);
    }
  }
  // Row 0 of the output is image 1.
  assertClose(
    [a[300], a[784 + 300]],
    [(u8[784 + 300] / 255 - 0.5) / 0.25, (u8[784 + 300] / 255 - 0.5) / 0.25],
    1e-6,
    0,
    "row 0 is image 1",
  );
});
