/**
 * The ONNX writer (src/onnx/model.ts) and reader (src/onnx/read.ts): a model using every
 * attribute kind, a contrib-domain node, initializers and metadata reads back as written and runs
 * in onnxruntime-node with the expected values; the committed fixtures read back; bad input is
 * rejected with messages that say why.
 */
import nodeAssert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { buildOnnxModel, ONNX_FLOAT, ONNX_INT64, type OnnxModelSpec } from "../src/onnx/model.ts";
import { readOnnxModel } from "../src/onnx/read.ts";
import { gemmModel, matmulModel } from "../src/tensor/backends/onnx_model.ts";
import { linearBackboneModel } from "../src/backbone/onnx_graph.ts";

const assertEquals = <T>(got: T, want: T, msg?: string) => nodeAssert.deepStrictEqual(got, want, msg);
const opts = { sanitizeResources: false, sanitizeOps: false };

const W = Float32Array.from([1, -1, 0.5, 2, -3, 0.25]); // [3, 2]

/**
 * x [N, 3] → MatMul W → LeakyRelu(alpha 0.5) → Add Constant(value_floats [1, -2]) → Softmax(-1) = y;
 * x → Pad(Constant(value_ints [0, 1, 0, 1]), mode "edge") = padded [N, 5];
 * x → com.microsoft Gelu = g.
 */
const spec: OnnxModelSpec = {
  name: "all_attributes",
  nodes: [
    { opType: "MatMul", inputs: ["x", "W"], outputs: ["h"] },
    { opType: "LeakyRelu", inputs: ["h"], outputs: ["l"], attributes: { alpha: { f: 0.5 } } },
    { opType: "Constant", inputs: [], outputs: ["c"], attributes: { value_floats: { floats: [1, -2] } } },
    { opType: "Add", inputs: ["l", "c"], outputs: ["a"] },
    { opType: "Softmax", name: "softmax", inputs: ["a"], outputs: ["y"], attributes: { axis: -1 } },
    { opType: "Constant", inputs: [], outputs: ["pads"], attributes: { value_ints: [0, 1, 0, 1] } },
    { opType: "Pad", inputs: ["x", "pads"], outputs: ["padded"], attributes: { mode: "edge" } },
    { opType: "Gelu", domain: "com.microsoft", inputs: ["x"], outputs: ["g"] },
  ],
  inputs: [{ name: "x", dims: ["N", 3] }],
  outputs: [
    { name: "y", elemType: ONNX_FLOAT, dims: ["N", 2] },
    { name: "padded", dims: ["N", 5] },
    { name: "g", dims: ["N", 3] },
  ],
  initializers: [{ name: "W", dims: [3, 2], data: W }],
  extraOpsets: [{ domain: "com.microsoft", version: 1 }],
  docString: "test model",
  metadata: { b: "2", a: "one" },
};

Deno.test("onnx writer → reader: graph, dims, initializers, opset and metadata read back", () => {
  const m = readOnnxModel(buildOnnxModel(spec));
  assertEquals(m.opset, 13);
  assertEquals(m.nodes.map((n) => n.opType), spec.nodes.map((n) => n.opType));
  assertEquals(m.nodes.map((n) => n.name).slice(3, 5), ["node3", "softmax"]);
  assertEquals(m.nodes[7].domain, "com.microsoft");
  assertEquals(m.nodes[6].inputs, ["x", "pads"]);
  assertEquals(m.inputs, [{ name: "x", elemType: ONNX_FLOAT, dims: ["N", 3] }]);
  assertEquals(m.outputs.map((v) => `${v.name}[${v.dims}]`), ["y[N,2]", "padded[N,5]", "g[N,3]"]);
  assertEquals([...m.initializers.keys()], ["W"]);
  assertEquals(m.initializers.get("W"), { name: "W", dims: [3, 2], data: W });
  assertEquals(Object.entries(m.metadata), [["b", "2"], ["a", "one"]]);

  const big = readOnnxModel(buildOnnxModel({
    nodes: [],
    inputs: [{ name: "i", elemType: ONNX_INT64, dims: [2 ** 40, 3, "batch"] }],
    outputs: [],
    opset: 17,
  }));
  assertEquals([big.opset, big.inputs[0].elemType, big.inputs[0].dims], [17, ONNX_INT64, [
    2 ** 40,
    3,
    "batch",
  ]]);
});

Deno.test({
  name: "onnx writer: every attribute kind, a contrib op and initializers run in onnxruntime-node",
  ...opts,
  fn: async () => {
    const session = await ort.InferenceSession.create(buildOnnxModel(spec));
    try {
      const x = Float32Array.from([1, 2, 3, -1, 0, 4]);
      const out = await session.run({ x: new ort.Tensor("float32", x, [2, 3]) });
      const want: number[] = [];
      for (let r = 0; r < 2; r++) {
        const a = [0, 1].map((j, i) => {
          const h = x[3 * r] * W[j] + x[3 * r + 1] * W[2 + j] + x[3 * r + 2] * W[4 + j];
          return (h < 0 ? 0.5 * h : h) + [1, -2][i];
        });
        const e = a.map((v) => Math.exp(v - Math.max(...a)));
        want.push(...e.map((v) => v / (e[0] + e[1])));
      }
      const y = Array.from(out.y.data as Float32Array);
      y.forEach((v, i) => nodeAssert.ok(Math.abs(v - want[i]) < 1e-6, `y[${i}] = ${v}, want ${want[i]}`));
      assertEquals(Array.from(out.padded.data as Float32Array), [1, 1, 2, 3, 3, -1, -1, 0, 4, 4]);
      assertEquals(out.g.dims, [2, 3]);
      const g = Array.from(out.g.data as Float32Array);
      nodeAssert.ok(Math.abs(g[1] - 1.9545) < 1e-3 && g[4] === 0, `gelu ${g}`);
    } finally {
      await session.release();
    }
  },
});

Deno.test({
  name: "onnx writer: gemm, matmul and linear backbone models load in onnxruntime-node",
  ...opts,
  fn: async () => {
    const a = new ort.Tensor("float32", Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const b = new ort.Tensor("float32", Float32Array.from([1, 0, 0, 1, 1, 1]), [3, 2]);
    for (const build of [gemmModel, matmulModel]) {
      const session = await ort.InferenceSession.create(build(false, false));
      try {
        assertEquals(Array.from((await session.run({ A: a, B: b })).Y.data as Float32Array), [4, 5, 10, 11]);
      } finally {
        await session.release();
      }
    }
    const bytes = linearBackboneModel({
      layout: "NCHW",
      channels: 1,
      height: 1,
      width: 3,
      weight: Float32Array.from([1, 0, 0, 0, 1, 1]),
      bias: Float32Array.from([0, -10]),
    });
    assertEquals([...readOnnxModel(bytes).initializers.keys()], ["W", "b"]);
    const session = await ort.InferenceSession.create(bytes);
    try {
      const out = await session.run({
        images: new ort.Tensor("float32", Float32Array.from([1, 2, 3]), [1, 1, 1, 3]),
      });
      assertEquals(Array.from(out.features.data as Float32Array), [1, -5]);
      assertEquals(Array.from(out.relu.data as Float32Array), [1, 0]);
    } finally {
      await session.release();
    }
  },
});

Deno.test("onnx reader: the committed fixtures read back", async () => {
  for (const name of ["mnist", "fashion-mnist"]) {
    const m = readOnnxModel(
      await Deno.readFile(new URL(`../fixtures/backbones/${name}.onnx`, import.meta.url)),
    );
    assertEquals(m.opset, 13);
    assertEquals(m.inputs.map((v) => [v.name, v.elemType, v.dims]), [["images", ONNX_FLOAT, [
      "N",
      1,
      28,
      28,
    ]]]);
    assertEquals(m.initializers.get("fc.bias")?.dims, [128]);
    assertEquals(m.metadata.dataset, name);
  }
});

Deno.test("onnx writer and reader reject bad input with messages that say why", () => {
  const node = (attributes: OnnxModelSpec["nodes"][number]["attributes"]) =>
    buildOnnxModel({
      nodes: [{ opType: "Identity", inputs: [], outputs: [], attributes }],
      inputs: [],
      outputs: [],
    });
  nodeAssert.throws(() => node({ alpha: 0.5 }), /alpha=0.5: use \{ f \} for floats/);
  nodeAssert.throws(() => node({ ks: [1, 0.5] }), /ks=\[1,0.5\]: use \{ floats \} for floats/);
  nodeAssert.throws(
    () =>
      buildOnnxModel({
        nodes: [],
        inputs: [],
        outputs: [],
        initializers: [{ name: "w", dims: [2, 2], data: new Float32Array(3) }],
      }),
    /initializer w has 3 values; dims \[2,2\] need 4/,
  );
  const bytes = buildOnnxModel(spec);
  nodeAssert.throws(
    () => readOnnxModel(bytes.subarray(0, bytes.length - 3)),
    /onnx\/read: field \d+ runs past the end/,
  );
});
