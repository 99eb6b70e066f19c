/**
 * ONNX export of models trained on the tensor core: a self-contained protobuf encoder for a
 * `ModelProto` with one graph, float32 initializers (`TensorProto.raw_data`, little-endian) and
 * metadata, and the export of the fixture CNN (src/backbone/fixture_cnn.ts) as
 * Conv → Relu → MaxPool → Conv → Relu → MaxPool → Flatten → Gemm.
 *
 * Field numbers follow onnx/onnx.proto (proto2: repeated scalars written unpacked, which every
 * parser accepts). Initializers live in the graph only (IR ≥ 4 does not require them among the
 * graph inputs), so the model has exactly one input, the images.
 *
 * Layout conversions (the tensor core is NHWC, ONNX Conv is NCHW):
 *  - a conv weight [KH·KW·C, OC] (row (ky·KW + kx)·C + c) becomes ONNX's [OC, C, KH, KW];
 *  - the Gemm after the flatten consumed (y, x, c)-ordered rows; ONNX Flatten of NCHW yields
 *    (c, y, x) order, so the Gemm weight rows are permuted to match (no Transpose node needed).
 */
import { FIXTURE_CNN, type FixtureCnnWeights } from "./fixture_cnn.ts";

// ---- protobuf ----------------------------------------------------------------------------

const encoder = new TextEncoder();

/** Append-only protobuf writer (varint, fixed32, length-delimited). */
class Pb {
  #parts: Uint8Array[] = [];
  #scratch: number[] = [];
  #length = 0;

  #flush(): void {
    if (this.#scratch.length === 0) return;
    const b = Uint8Array.from(this.#scratch);
    this.#parts.push(b);
    this.#length += b.length;
    this.#scratch = [];
  }

  #varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`onnx_export: varint ${v}; expected a safe integer ≥ 0`);
    }
    while (v > 127) {
      this.#scratch.push((v % 128) | 128);
      v = Math.floor(v / 128);
    }
    this.#scratch.push(v);
  }

  #key(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  int(field: number, v: number): this {
    this.#key(field, 0);
    this.#varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.#key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.#scratch.push(...b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.#key(field, 2);
    this.#varint(data.length);
    this.#flush();
    this.#parts.push(data);
    this.#length += data.length;
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, encoder.encode(s));
  }

  msg(field: number, m: Pb): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    this.#flush();
    const out = new Uint8Array(this.#length);
    let o = 0;
    for (const p of this.#parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

// ---- ONNX model spec ---------------------------------------------------------------------

/** ONNX `TensorProto.DataType.FLOAT`. */
export const FLOAT = 1;

/** A float32 graph input or output; string dims are symbolic (`dim_param`). */
export interface ValueInfo {
  name: string;
  dims: readonly (number | string)[];
}

/** A float32 constant tensor of the graph (a weight). */
export interface Initializer {
  name: string;
  dims: readonly number[];
  data: Float32Array;
}

/** Attribute values: integer, `{ f }` float, string, or list of integers. */
export type AttributeValue = number | { f: number } | string | readonly number[];

export interface NodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface ModelSpec {
  graphName: string;
  nodes: readonly NodeSpec[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  initializers: readonly Initializer[];
  /** Default-domain opset (13 unless given). */
  opset?: number;
  /** ModelProto.ir_version (8 unless given). */
  irVersion?: number;
  docString?: string;
  /** ModelProto.metadata_props, in the given order. */
  metadata?: Readonly<Record<string, string>>;
}

function valueInfo(v: ValueInfo): Pb {
  const shape = new Pb();
  for (const d of v.dims) shape.msg(1, typeof d === "number" ? new Pb().int(1, d) : new Pb().str(2, d));
  const tensorType = new Pb().int(1, FLOAT).msg(2, shape);
  return new Pb().str(1, v.name).msg(2, new Pb().msg(1, tensorType));
}

function attribute(name: string, value: AttributeValue): Pb {
  const a = new Pb().str(1, name);
  if (typeof value === "number") {
    if (!Number.isInteger(value)) {
      throw new TypeError(`onnx_export: attribute ${name}=${value}: use { f } for floats`);
    }
    return a.int(3, value).int(20, 2);
  }
  if (typeof value === "string") return a.str(4, value).int(20, 3);
  if ("f" in value) return a.float(2, value.f).int(20, 1);
  for (const x of value) a.int(8, x);
  return a.int(20, 7);
}

/** A float32 `TensorProto` with little-endian `raw_data`. */
export function tensorProto(t: Initializer): Uint8Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new RangeError(
      `onnx_export: initializer ${t.name} has ${t.data.length} values; dims [${t.dims}] need ${count}`,
    );
  }
  const raw = new Uint8Array(count * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < count; i++) dv.setFloat32(4 * i, t.data[i], true);
  const p = new Pb();
  for (const d of t.dims) p.int(1, d);
  return p.int(2, FLOAT).str(8, t.name).bytes(9, raw).finish();
}

/** Serialises `spec` as ONNX ModelProto bytes. */
export function encodeOnnxModel(spec: ModelSpec): Uint8Array {
  const graph = new Pb();
  spec.nodes.forEach((n, i) => {
    const node = new Pb();
    for (const x of n.inputs) node.str(1, x);
    for (const y of n.outputs) node.str(2, y);
    node.str(3, n.name ?? `${n.opType.toLowerCase()}_${i}`).str(4, n.opType);
    for (const [k, v] of Object.entries(n.attributes ?? {})) node.msg(5, attribute(k, v));
    graph.msg(1, node);
  });
  graph.str(2, spec.graphName);
  for (const t of spec.initializers) graph.bytes(5, tensorProto(t));
  for (const v of spec.inputs) graph.msg(11, valueInfo(v));
  for (const v of spec.outputs) graph.msg(12, valueInfo(v));

  const model = new Pb().int(1, spec.irVersion ?? 8).str(2, "invbench").str(3, "1");
  if (spec.docString) model.str(6, spec.docString);
  model.msg(7, graph);
  model.msg(8, new Pb().str(1, "").int(2, spec.opset ?? 13));
  for (const [k, v] of Object.entries(spec.metadata ?? {})) model.msg(14, new Pb().str(1, k).str(2, v));
  return model.finish();
}

// ---- layout conversions --------------------------------------------------------------------

/** [KH·KW·C, OC] (im2col rows (ky·KW + kx)·C + c) → ONNX Conv weight [OC, C, KH, KW]. */
export function convWeightToOihw(
  w: Float32Array,
  kh: number,
  kw: number,
  c: number,
  oc: number,
): Float32Array {
  if (w.length !== kh * kw * c * oc) {
    throw new RangeError(`convWeightToOihw: ${w.length} values; expected ${kh}·${kw}·${c}·${oc}`);
  }
  const out = new Float32Array(w.length);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      for (let ci = 0; ci < c; ci++) {
        const row = ((ky * kw + kx) * c + ci) * oc;
        for (let o = 0; o < oc; o++) out[((o * c + ci) * kh + ky) * kw + kx] = w[row + o];
      }
    }
  }
  return out;
}

/**
 * Gemm weight rows in NHWC-flatten order (row (y·W + x)·C + c) → NCHW-flatten order
 * (row (c·H + y)·W + x); the columns (outputs) stay. Result [H·W·C, out].
 */
export function gemmRowsNhwcToNchw(
  w: Float32Array,
  h: number,
  wd: number,
  c: number,
  out: number,
): Float32Array {
  if (w.length !== h * wd * c * out) {
    throw new RangeError(`gemmRowsNhwcToNchw: ${w.length} values; expected ${h}·${wd}·${c}·${out}`);
  }
  const res = new Float32Array(w.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < wd; x++) {
      for (let ci = 0; ci < c; ci++) {
        const src = ((y * wd + x) * c + ci) * out, dst = ((ci * h + y) * wd + x) * out;
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
  return encodeOnnxModel({
    graphName: "fixture_cnn",
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
      { name: "conv1.weight", dims: [c1, 1, k, k], data: convWeightToOihw(w.conv1Weight, k, k, 1, c1) },
      { name: "conv1.bias", dims: [c1], data: w.conv1Bias },
      { name: "conv2.weight", dims: [c2, c1, k, k], data: convWeightToOihw(w.conv2Weight, k, k, c1, c2) },
      { name: "conv2.bias", dims: [c2], data: w.conv2Bias },
      { name: "fc.weight", dims: [p * p * c2, d], data: gemmRowsNhwcToNchw(w.fcWeight, p, p, c2, d) },
      { name: "fc.bias", dims: [d], data: w.fcBias },
    ],
    metadata,
  });
}

// ---- reading back ---------------------------------------------------------------------------

/** What `readOnnxModel` returns: the graph's nodes, float32 initializers, inputs/outputs and metadata. */
export interface OnnxModelSummary {
  opset: number;
  nodes: { opType: string; name: string; inputs: string[]; outputs: string[] }[];
  initializers: Map<string, Initializer>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  metadata: Record<string, string>;
}

/** A minimal protobuf reader: the fields of one message as (field number, wire type, value). */
function* fields(
  buf: Uint8Array,
): Generator<{ field: number; wire: number; int: number; bytes: Uint8Array }> {
  let p = 0;
  const varint = (): number => {
    let v = 0, mul = 1;
    for (;;) {
      if (p >= buf.length) throw new RangeError("onnx_export: truncated varint");
      const b = buf[p++];
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
    }
  };
  const empty = new Uint8Array(0);
  while (p < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8), wire = key % 8;
    if (wire === 0) yield { field, wire, int: varint(), bytes: empty };
    else if (wire === 2) {
      const n = varint();
      if (p + n > buf.length) throw new RangeError(`onnx_export: field ${field} runs past the end`);
      yield { field, wire, int: 0, bytes: buf.subarray(p, p + n) };
      p += n;
    } else if (wire === 5) {
      yield { field, wire, int: 0, bytes: buf.subarray(p, p + 4) };
      p += 4;
    } else if (wire === 1) {
      yield { field, wire, int: 0, bytes: buf.subarray(p, p + 8) };
      p += 8;
    } else throw new RangeError(`onnx_export: unsupported wire type ${wire} for field ${field}`);
  }
}

const decoder = new TextDecoder();

function readValueInfo(buf: Uint8Array): ValueInfo {
  let name = "";
  const dims: (number | string)[] = [];
  for (const f of fields(buf)) {
    if (f.field === 1) name = decoder.decode(f.bytes);
    if (f.field !== 2) continue;
    for (const t of fields(f.bytes)) {
      if (t.field !== 1) continue; // TypeProto.tensor_type
      for (const s of fields(t.bytes)) {
        if (s.field !== 2) continue; // shape
        for (const d of fields(s.bytes)) {
          for (const v of fields(d.bytes)) {
            if (v.field === 1) dims.push(v.int);
            if (v.field === 2) dims.push(decoder.decode(v.bytes));
          }
        }
      }
    }
  }
  return { name, dims };
}

function readTensor(buf: Uint8Array): Initializer & { dataType: number } {
  let name = "", dataType = 0;
  const dims: number[] = [];
  let raw: Uint8Array | null = null;
  for (const f of fields(buf)) {
    if (f.field === 1) dims.push(f.int);
    else if (f.field === 2) dataType = f.int;
    else if (f.field === 8) name = decoder.decode(f.bytes);
    else if (f.field === 9) raw = f.bytes;
  }
  if (dataType !== FLOAT || !raw) {
    throw new RangeError(`onnx_export: initializer ${name}: only float32 raw_data tensors are read`);
  }
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const data = new Float32Array(raw.byteLength / 4);
  for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(4 * i, true);
  return { name, dims, data, dataType };
}

/** Parses an ONNX model far enough to inspect its graph and read float32 initializers back. */
export function readOnnxModel(bytes: Uint8Array): OnnxModelSummary {
  const out: OnnxModelSummary = {
    opset: 0,
    nodes: [],
    initializers: new Map(),
    inputs: [],
    outputs: [],
    metadata: {},
  };
  for (const f of fields(bytes)) {
    if (f.field === 8) { for (const o of fields(f.bytes)) if (o.field === 2) out.opset = o.int; }
    if (f.field === 14) {
      let k = "", v = "";
      for (const e of fields(f.bytes)) {
        if (e.field === 1) k = decoder.decode(e.bytes);
        if (e.field === 2) v = decoder.decode(e.bytes);
      }
      out.metadata[k] = v;
    }
    if (f.field !== 7) continue;
    for (const g of fields(f.bytes)) {
      if (g.field === 1) {
        const node = { opType: "", name: "", inputs: [] as string[], outputs: [] as string[] };
        for (const n of fields(g.bytes)) {
          if (n.field === 1) node.inputs.push(decoder.decode(n.bytes));
          if (n.field === 2) node.outputs.push(decoder.decode(n.bytes));
          if (n.field === 3) node.name = decoder.decode(n.bytes);
          if (n.field === 4) node.opType = decoder.decode(n.bytes);
        }
        out.nodes.push(node);
      } else if (g.field === 5) {
        const t = readTensor(g.bytes);
        out.initializers.set(t.name, { name: t.name, dims: t.dims, data: t.data });
      } else if (g.field === 11) out.inputs.push(readValueInfo(g.bytes));
      else if (g.field === 12) out.outputs.push(readValueInfo(g.bytes));
    }
  }
  return out;
}

/** Inverse of `convWeightToOihw`: ONNX [OC, C, KH, KW] → im2col [KH·KW·C, OC]. */
export function oihwToConvWeight(
  w: Float32Array,
  kh: number,
  kw: number,
  c: number,
  oc: number,
): Float32Array {
  if (w.length !== kh * kw * c * oc) {
    throw new RangeError(`oihwToConvWeight: ${w.length} values; expected ${kh}·${kw}·${c}·${oc}`);
  }
  const out = new Float32Array(w.length);
  for (let o = 0; o < oc; o++) {
    for (let ci = 0; ci < c; ci++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          out[((ky * kw + kx) * c + ci) * oc + o] = w[((o * c + ci) * kh + ky) * kw + kx];
        }
      }
    }
  }
  return out;
}

/** Inverse of `gemmRowsNhwcToNchw`: rows (c·H + y)·W + x → rows (y·W + x)·C + c. */
export function gemmRowsNchwToNhwc(
  w: Float32Array,
  h: number,
  wd: number,
  c: number,
  out: number,
): Float32Array {
  if (w.length !== h * wd * c * out) {
    throw new RangeError(`gemmRowsNchwToNhwc: ${w.length} values; expected ${h}·${wd}·${c}·${out}`);
  }
  const res = new Float32Array(w.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < wd; x++) {
      for (let ci = 0; ci < c; ci++) {
        const dst = ((y * wd + x) * c + ci) * out, src = ((ci * h + y) * wd + x) * out;
        res.set(w.subarray(src, src + out), dst);
      }
    }
  }
  return res;
}

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
    conv1Weight: oihwToConvWeight(get("conv1.weight", [c1, 1, k, k]), k, k, 1, c1),
    conv1Bias: get("conv1.bias", [c1]),
    conv2Weight: oihwToConvWeight(get("conv2.weight", [c2, c1, k, k]), k, k, c1, c2),
    conv2Bias: get("conv2.bias", [c2]),
    fcWeight: gemmRowsNchwToNhwc(get("fc.weight", [p * p * c2, d]), p, p, c2, d),
    fcBias: get("fc.bias", [d]),
  };
}
