/**
 * The one-node graphs the CPU backend hands to onnxruntime (Gemm, MatMul), written with the ONNX
 * writer of src/onnx/model.ts. All dims are symbolic, so one session serves every shape.
 */
import { buildOnnxModel, ONNX_FLOAT, type OnnxNode, type OnnxValueInfo } from "../../onnx/model.ts";

/** Inputs "A" [m, k] (or [k, m] when transposed) and "B" [k, n] (or [n, k]); output "Y" [m, n]. */
function gemmIo(transA: boolean, transB: boolean): { inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[] } {
  return {
    inputs: [
      { name: "A", elemType: ONNX_FLOAT, dims: transA ? ["k", "m"] : ["m", "k"] },
      { name: "B", elemType: ONNX_FLOAT, dims: transB ? ["n", "k"] : ["k", "n"] },
    ],
    outputs: [{ name: "Y", elemType: ONNX_FLOAT, dims: ["m", "n"] }],
  };
}

/**
 * Y = op(A) · op(B) as one `Gemm` node (alpha 1, no C), float32, all dims symbolic.
 * Inputs are named "A" and "B", the output "Y".
 */
export function gemmModel(transA: boolean, transB: boolean): Uint8Array {
  return buildOnnxModel({
    name: `gemm_t${+transA}${+transB}`,
    nodes: [{
      opType: "Gemm",
      inputs: ["A", "B"],
      outputs: ["Y"],
      attributes: { transA: transA ? 1 : 0, transB: transB ? 1 : 0 },
    }],
    ...gemmIo(transA, transB),
  });
}

/**
 * Y = op(A) · op(B) as `MatMul`, with `Transpose` nodes in front of transposed operands (the
 * optimiser may fuse them). Inputs "A", "B"; output "Y".
 */
export function matmulModel(transA: boolean, transB: boolean): Uint8Array {
  const nodes: OnnxNode[] = [];
  let a = "A", b = "B";
  if (transA) {
    nodes.push({ opType: "Transpose", inputs: ["A"], outputs: ["At"], attributes: { perm: [1, 0] } });
    a = "At";
  }
  if (transB) {
    nodes.push({ opType: "Transpose", inputs: ["B"], outputs: ["Bt"], attributes: { perm: [1, 0] } });
    b = "Bt";
  }
  nodes.push({ opType: "MatMul", inputs: [a, b], outputs: ["Y"] });
  return buildOnnxModel({ name: `matmul_t${+transA}${+transB}`, nodes, ...gemmIo(transA, transB) });
}
