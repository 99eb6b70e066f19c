/**
 * A tiny protobuf writer that builds ONNX `ModelProto` bytes in memory, enough for the one-node
 * graphs the CPU backend hands to onnxruntime (Gemm, MatMul). No dependency on the onnx package:
 * field numbers follow onnx/onnx.proto (proto2; repeated scalars are written unpacked, which every
 * parser accepts).
 */

/** ONNX `TensorProto.DataType` codes used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;

/** A dimension: a fixed size, or a symbolic name (`dim_param`). */
export type OnnxDim = number | string;

/** A graph input or output: name, element type and shape. */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  dims: readonly OnnxDim[];
}

/** An attribute value: int, float (marked with `{ f }`), string, or list of ints. */
export type OnnxAttribute = number | { f: number } | string | readonly number[];

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Operator domain; "" (the default ONNX domain) when absent. */
  domain?: string;
  /** Integer-valued numbers are written as INT attributes; use `{ f: x }` for a FLOAT. */
  attributes?: Readonly<Record<string, OnnxAttribute>>;
}

export interface OnnxGraphSpec {
  nodes: readonly OnnxNode[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  name?: string;
  /** Default-domain opset version (13 unless given). */
  opset?: number;
  /** Extra opset imports, e.g. `{ domain: "com.microsoft", version: 1 }`. */
  extraOpsets?: readonly { domain: string; version: number }[];
  /** ModelProto.ir_version (8 unless given). */
  irVersion?: number;
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

const encoder = new TextEncoder();

/** Append-only protobuf message writer. */
class PbWriter {
  #buf = new Uint8Array(64);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  #byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = b;
  }

  /** Writes a varint; negative numbers are encoded as 64-bit two's complement (10 bytes). */
  varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`onnx_model: ${v} is not a safe integer`);
    if (v < 0) {
      let x = BigInt.asUintN(64, BigInt(v));
      while (x > 127n) {
        this.#byte(Number(x & 127n) | 128);
        x >>= 7n;
      }
      this.#byte(Number(x));
      return;
    }
    while (v > 127) {
      this.#byte((v % 128) | 128);
      v = Math.floor(v / 128);
    }
    this.#byte(v);
  }

  #key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number): void {
    this.#key(field, WIRE_VARINT);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.#key(field, WIRE_FIXED32);
    this.#reserve(4);
    new DataView(this.#buf.buffer).setFloat32(this.#len, v, true);
    this.#len += 4;
  }

  bytes(field: number, data: Uint8Array): void {
    this.#key(field, WIRE_LEN);
    this.varint(data.length);
    this.#reserve(data.length);
    this.#buf.set(data, this.#len);
    this.#len += data.length;
  }

  str(field: number, s: string): void {
    this.bytes(field, encoder.encode(s));
  }

  msg(field: number, m: PbWriter): void {
    this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

function valueInfo(v: OnnxValueInfo): PbWriter {
  const shape = new PbWriter();
  for (const d of v.dims) {
    const dim = new PbWriter();
    if (typeof d === "number") dim.int(1, d); // dim_value
    else dim.str(2, d); // dim_param
    shape.msg(1, dim);
  }
  const tensorType = new PbWriter();
  tensorType.int(1, v.elemType); // elem_type
  tensorType.msg(2, shape); // shape
  const type = new PbWriter();
  type.msg(1, tensorType); // TypeProto.tensor_type
  const info = new PbWriter();
  info.str(1, v.name);
  info.msg(2, type);
  return info;
}

function attribute(name: string, value: OnnxAttribute): PbWriter {
  const a = new PbWriter();
  a.str(1, name);
  if (typeof value === "number") {
    if (!Number.isInteger(value)) {
      throw new TypeError(`onnx_model: attribute ${name}=${value}: use { f } for floats`);
    }
    a.int(3, value);
    a.int(20, ATTR_INT);
  } else if (typeof value === "string") {
    a.str(4, value);
    a.int(20, ATTR_STRING);
  } else if ("f" in value) {
    a.float(2, value.f);
    a.int(20, ATTR_FLOAT);
  } else {
    for (const x of value) a.int(8, x);
    a.int(20, ATTR_INTS);
  }
  return a;
}

function node(n: OnnxNode, index: number): PbWriter {
  const w = new PbWriter();
  for (const i of n.inputs) w.str(1, i);
  for (const o of n.outputs) w.str(2, o);
  w.str(3, n.name ?? `node${index}`);
  w.str(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.msg(5, attribute(k, v));
  if (n.domain) w.str(7, n.domain);
  return w;
}

function opsetImport(domain: string, version: number): PbWriter {
  const w = new PbWriter();
  w.str(1, domain);
  w.int(2, version);
  return w;
}

/** Serialises a single-graph ONNX model (ModelProto) to protobuf bytes. */
export function buildOnnxModel(spec: OnnxGraphSpec): Uint8Array {
  const graph = new PbWriter();
  spec.nodes.forEach((n, i) => graph.msg(1, node(n, i)));
  graph.str(2, spec.name ?? "graph");
  for (const v of spec.inputs) graph.msg(11, valueInfo(v));
  for (const v of spec.outputs) graph.msg(12, valueInfo(v));

  const model = new PbWriter();
  model.int(1, spec.irVersion ?? 8); // ir_version
  model.str(2, "invbench"); // producer_name
  model.msg(7, graph);
  model.msg(8, opsetImport("", spec.opset ?? 13));
  for (const o of spec.extraOpsets ?? []) model.msg(8, opsetImport(o.domain, o.version));
  return model.finish();
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
    inputs: [
      { name: "A", elemType: ONNX_FLOAT, dims: transA ? ["k", "m"] : ["m", "k"] },
      { name: "B", elemType: ONNX_FLOAT, dims: transB ? ["n", "k"] : ["k", "n"] },
    ],
    outputs: [{ name: "Y", elemType: ONNX_FLOAT, dims: ["m", "n"] }],
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
  return buildOnnxModel({
    name: `matmul_t${+transA}${+transB}`,
    nodes,
    inputs: [
      { name: "A", elemType: ONNX_FLOAT, dims: transA ? ["k", "m"] : ["m", "k"] },
      { name: "B", elemType: ONNX_FLOAT, dims: transB ? ["n", "k"] : ["k", "n"] },
    ],
    outputs: [{ name: "Y", elemType: ONNX_FLOAT, dims: ["m", "n"] }],
  });
}
