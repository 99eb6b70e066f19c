/**
 * ONNX graphs with weights, built on the protobuf writer of src/tensor/backends/onnx_model.ts
 * (which writes nodes, inputs and outputs but no initializers). Initializers are added by
 * appending a second `ModelProto.graph` field that holds only `GraphProto.initializer` entries:
 * protobuf merges repeated occurrences of an embedded message field, so the parser sees one graph
 * with nodes, inputs, outputs and initializers. Used by tests and benchmarks to make small real
 * backbones (Flatten → Gemm → …) with known weights at run time.
 */
import {
  buildOnnxModel,
  ONNX_FLOAT,
  type OnnxGraphSpec,
  type OnnxNode,
} from "../tensor/backends/onnx_model.ts";

/** A float32 initializer (a constant weight tensor of the graph). */
export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array;
}

function varint(out: number[], v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`onnx_graph: ${v} is not a non-negative safe integer`);
  }
  while (v > 127) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function lenField(field: number, payload: Uint8Array): Uint8Array {
  const head: number[] = [];
  varint(head, field * 8 + 2);
  varint(head, payload.length);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Encodes a float32 `TensorProto` (dims, data_type, name, raw_data little-endian). */
export function tensorProto(t: OnnxInitializer): Uint8Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new RangeError(
      `onnx_graph: initializer ${t.name} has ${t.data.length} values, dims [${t.dims}] need ${count}`,
    );
  }
  const head: number[] = [];
  for (const d of t.dims) {
    varint(head, 1 * 8 + 0); // dims (int64, unpacked)
    varint(head, d);
  }
  varint(head, 2 * 8 + 0); // data_type
  varint(head, ONNX_FLOAT);
  const raw = new Uint8Array(count * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < count; i++) dv.setFloat32(i * 4, t.data[i], true);
  return concat([
    new Uint8Array(head),
    lenField(8, new TextEncoder().encode(t.name)), // name
    lenField(9, raw), // raw_data
  ]);
}

/** An ONNX model (ModelProto bytes) with float32 initializers. */
export function buildOnnxModelWithWeights(
  spec: OnnxGraphSpec & { initializers?: readonly OnnxInitializer[] },
): Uint8Array {
  const base = buildOnnxModel(spec);
  const inits = spec.initializers ?? [];
  if (inits.length === 0) return base;
  const graphExtra = concat(inits.map((t) => lenField(5, tensorProto(t)))); // GraphProto.initializer
  return concat([base, lenField(7, graphExtra)]); // ModelProto.graph, merged by the parser
}

export interface LinearBackboneOptions {
  /** Input layout and shape (without batch): NCHW [c, h, w] or NHWC [h, w, c]. */
  layout: "NCHW" | "NHWC";
  channels: number;
  height: number;
  width: number;
  /** Weights [d, c·h·w] (row-major, in the flattened order of the input layout) and bias [d]. */
  weight: Float32Array;
  bias: Float32Array;
  /** Input name (default "images"). */
  inputName?: string;
  /** Batch dimension: a symbol (default "N") or a fixed size. */
  batch?: string | number;
  /** Extra element-wise op on the features ("Sqrt", "Relu", …) producing the output "features". */
  post?: string;
}

/**
 * A Flatten → Gemm (→ optional element-wise op) backbone: features = flatten(x) · Wᵀ + b.
 * Outputs: "features" [N, d] and "relu" (= Relu(features)) [N, d].
 */
export function linearBackboneModel(o: LinearBackboneOptions): Uint8Array {
  const k = o.channels * o.height * o.width;
  const d = o.bias.length;
  if (o.weight.length !== d * k) {
    throw new RangeError(`onnx_graph: weight has ${o.weight.length} values, expected ${d}×${k}`);
  }
  const batch = o.batch ?? "N";
  const input = o.inputName ?? "images";
  const dims = o.layout === "NCHW"
    ? [batch, o.channels, o.height, o.width]
    : [batch, o.height, o.width, o.channels];
  const nodes: OnnxNode[] = [
    { opType: "Flatten", inputs: [input], outputs: ["flat"], attributes: { axis: 1 } },
    {
      opType: "Gemm",
      inputs: ["flat", "W", "b"],
      outputs: [o.post ? "gemm" : "features"],
      attributes: { transB: 1 },
    },
  ];
  if (o.post) nodes.push({ opType: o.post, inputs: ["gemm"], outputs: ["features"] });
  nodes.push({ opType: "Relu", inputs: ["features"], outputs: ["relu"] });
  return buildOnnxModelWithWeights({
    name: "linear_backbone",
    nodes,
    inputs: [{ name: input, elemType: ONNX_FLOAT, dims }],
    outputs: [
      { name: "features", elemType: ONNX_FLOAT, dims: [batch, d] },
      { name: "relu", elemType: ONNX_FLOAT, dims: [batch, d] },
    ],
    initializers: [
      { name: "W", dims: [d, k], data: o.weight },
      { name: "b", dims: [d], data: o.bias },
    ],
  });
}
