/**
 * Small real backbones (Flatten → Gemm → …) with known weights, built at run time by tests with
 * the ONNX writer of src/onnx/model.ts (benchmarks and tests needing other graphs call
 * `buildOnnxModel` with `initializers` directly).
 */
import { buildOnnxModel, float32Le, ONNX_FLOAT, type OnnxNode } from "../onnx/model.ts";

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
  /**
   * Store W and b as ONNX external data in this file (relative to the model's directory): W's
   * float32 LE bytes at offset 0, then b's; `linearBackboneData` gives that file's bytes.
   */
  externalData?: string;
}

/** The external data file of a linear backbone with `externalData`: W then b, float32 LE. */
export function linearBackboneData(o: Pick<LinearBackboneOptions, "weight" | "bias">): Uint8Array {
  const out = new Uint8Array(4 * (o.weight.length + o.bias.length));
  out.set(float32Le(o.weight), 0);
  out.set(float32Le(o.bias), 4 * o.weight.length);
  return out;
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
  return buildOnnxModel({
    name: "linear_backbone",
    nodes,
    inputs: [{ name: input, elemType: ONNX_FLOAT, dims }],
    outputs: [
      { name: "features", elemType: ONNX_FLOAT, dims: [batch, d] },
      { name: "relu", elemType: ONNX_FLOAT, dims: [batch, d] },
    ],
    initializers: [
      {
        name: "W",
        dims: [d, k],
        data: o.weight,
        ...(o.externalData ? { external: { location: o.externalData, offset: 0 } } : {}),
      },
      {
        name: "b",
        dims: [d],
        data: o.bias,
        ...(o.externalData ? { external: { location: o.externalData, offset: 4 * d * k } } : {}),
      },
    ],
  });
}
