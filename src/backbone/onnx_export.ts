/**
 * ONNX export of models trained on the tensor core: the fixture CNN (src/backbone/fixture_cnn.ts)
 * as Conv → Relu → MaxPool → Conv → Relu → MaxPool → Flatten → Gemm, written with the ONNX writer
 * of src/onnx/model.ts (float32 initializers in the graph only, so the model has exactly one input,
 * the images; metadata props), and its import back through the reader of src/onnx/read.ts.
 *
 * Layout conversions (the tensor core is NHWC, ONNX Conv is NCHW):
 *  - a conv weight [KH·KW·C, OC] (row (ky·KW + kx)·C + c) becomes ONNX's [OC, C, KH, KW];
 *  - the Gemm after the flatten consumed (y, x, c)-ordered rows; ONNX Flatten of NCHW yields
 *    (c, y, x) order, so the Gemm weight rows are permuted to match (no Transpose node needed).
 */
import { FIXTURE_CNN, type FixtureCnnWeights } from "./fixture_cnn.ts";
import { buildOnnxModel } from "../onnx/model.ts";
import { readOnnxModel } from "../onnx/read.ts";

// ---- layout conversions --------------------------------------------------------------------

/**
 * Converts a convolution weight between the tensor core's im2col layout [KH·KW·C, OC] (rows
 * (ky·KW + kx)·C + c) and ONNX Conv's [OC, C, KH, KW]; `toOihw` picks the direction.
 */
export function permuteConvWeight(
  w: Float32Array,
  kh: number,
  kw: number,
  c: number,
  oc: number,
  toOihw: boolean,
): Float32Array {
  if (w.length !== kh * kw * c * oc) {
    throw new RangeError(`permuteConvWeight: ${w.length} values; expected ${kh}·${kw}·${c}·${oc}`);
  }
  const out = new Float32Array(w.length);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      for (let ci = 0; ci < c; ci++) {
        for (let o = 0; o < oc; o++) {
          const im2col = ((ky * kw + kx) * c + ci) * oc + o, oihw = ((o * c + ci) * kh + ky) * kw + kx;
          if (toOihw) out[oihw] = w[im2col];
          else out[im2col] = w[oihw];
        }
      }
    }
  }
  return out;
}

/**
 * Reorders Gemm weight rows between NHWC-flatten order (row (y·W + x)·C + c, how the tensor core
 * flattens) and NCHW-flatten order (row (c·H + y)·W + x, how ONNX flattens); the columns
 * (outputs) stay. `toNchw` picks the direction. Result [H·W·C, out].
 */
export function permuteGemmRows(
  w: Float32Array,
  h: number,
  wd: number,
  c: number,
  out: number,
  toNchw: boolean,
): Float32Array {
  if (w.length !== h * wd * c * out) {
    throw new RangeError(`permuteGemmRows: ${w.length} values; expected ${h}·${wd}·${c}·${out}`);
  }
  const res = new Float32Array(w.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < wd; x++) {
      for (let ci = 0; ci < c; ci++) {
        const nhwc = ((y * wd + x) * c + ci) * out, nchw = ((ci * h + y) * wd + x) * out;
        const [src, dst] = toNchw ? [nhwc, nchw] : [nchw, nhwc];
        res.set(w.subarray(src, src + out), dst);
      }
    }
  }
  return res;
}

// ---- the fixture CNN ------------------------------------------------------------------------

/** The fixture CNN's ONNX input name and output name. */
export const FIXTURE_INPUT = "images";
export const FIXTURE_OUTPUT = "features";

/**
 * The fixture CNN's feature extractor as ONNX bytes: input "images" float32 [N, 1, 28, 28]
 * (normalised NCHW), output "features" float32 [N, 128]. Opset 13. `metadata` is written to
 * ModelProto.metadata_props (e.g. the dataset, its mean/std and the recipe).
 */
export function fixtureCnnToOnnx(
  w: FixtureCnnWeights,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const { kernel: k, conv1Channels: c1, conv2Channels: c2, pooledSize: p, featureDim: d, imageSize: s } =
    FIXTURE_CNN;
  const conv = { kernel_shape: [k, k], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 };
  const pool = { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] };
  return buildOnnxModel({
    name: "fixture_cnn",
    producerVersion: "1",
    docString:
      "invbench fixture CNN feature extractor (src/backbone/fixture_cnn.ts); input normalised with the " +
      "dataset mean/std; see fixtures/backbones/README.md",
    nodes: [
      {
        opType: "Conv",
        name: "conv1",
        inputs: [FIXTURE_INPUT, "conv1.weight", "conv1.bias"],
        outputs: ["conv1"],
        attributes: conv,
      },
      { opType: "Relu", name: "relu1", inputs: ["conv1"], outputs: ["relu1"] },
      { opType: "MaxPool", name: "pool1", inputs: ["relu1"], outputs: ["pool1"], attributes: pool },
      {
        opType: "Conv",
        name: "conv2",
        inputs: ["pool1", "conv2.weight", "conv2.bias"],
        outputs: ["conv2"],
        attributes: conv,
      },
      { opType: "Relu", name: "relu2", inputs: ["conv2"], outputs: ["relu2"] },
      { opType: "MaxPool", name: "pool2", inputs: ["relu2"], outputs: ["pool2"], attributes: pool },
      { opType: "Flatten", name: "flatten", inputs: ["pool2"], outputs: ["flat"], attributes: { axis: 1 } },
      { opType: "Gemm", name: "fc", inputs: ["flat", "fc.weight", "fc.bias"], outputs: [FIXTURE_OUTPUT] },
    ],
    inputs: [{ name: FIXTURE_INPUT, dims: ["N", 1, s, s] }],
    outputs: [{ name: FIXTURE_OUTPUT, dims: ["N", d] }],
    initializers: [
      {
        name: "conv1.weight",
        dims: [c1, 1, k, k],
        data: permuteConvWeight(w.conv1Weight, k, k, 1, c1, true),
      },
      { name: "conv1.bias", dims: [c1], data: w.conv1Bias },
      {
        name: "conv2.weight",
        dims: [c2, c1, k, k],
        data: permuteConvWeight(w.conv2Weight, k, k, c1, c2, true),
      },
      { name: "conv2.bias", dims: [c2], data: w.conv2Bias },
      { name: "fc.weight", dims: [p * p * c2, d], data: permuteGemmRows(w.fcWeight, p, p, c2, d, true) },
      { name: "fc.bias", dims: [d], data: w.fcBias },
    ],
    metadata,
  });
}

// ---- reading back ---------------------------------------------------------------------------

/**
 * The feature-extractor weights of a fixture CNN exported by `fixtureCnnToOnnx`, read back into
 * the tensor core's layouts (no head: features only).
 */
export function fixtureCnnFromOnnx(bytes: Uint8Array, file = "model"): FixtureCnnWeights {
  const { kernel: k, conv1Channels: c1, conv2Channels: c2, pooledSize: p, featureDim: d } = FIXTURE_CNN;
  const { initializers } = readOnnxModel(bytes);
  const get = (name: string, dims: number[]): Float32Array => {
    const t = initializers.get(name);
    if (!t) {
      throw new RangeError(`${file}: no initializer "${name}"; expected a fixture CNN exported by invbench`);
    }
    if (t.dims.join() !== dims.join()) {
      throw new RangeError(`${file}: initializer "${name}" has dims [${t.dims}]; expected [${dims}]`);
    }
    return t.data;
  };
  return {
    conv1Weight: permuteConvWeight(get("conv1.weight", [c1, 1, k, k]), k, k, 1, c1, false),
    conv1Bias: get("conv1.bias", [c1]),
    conv2Weight: permuteConvWeight(get("conv2.weight", [c2, c1, k, k]), k, k, c1, c2, false),
    conv2Bias: get("conv2.bias", [c2]),
    fcWeight: permuteGemmRows(get("fc.weight", [p * p * c2, d]), p, p, c2, d, false),
    fcBias: get("fc.bias", [d]),
  };
}
