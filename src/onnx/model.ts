/**
 * The ONNX writer: builds `ModelProto` bytes in memory with no dependency on the onnx package.
 * One graph with value infos (fixed or symbolic dims), nodes (int, float, string, ints and floats
 * attributes; optional operator domain), float32 initializers (`TensorProto.raw_data`,
 * little-endian), opset imports, a doc string and metadata props. The reader is ./read.ts.
 *
 * Field numbers follow onnx/onnx.proto (proto2: repeated scalars written unpacked, which every
 * parser accepts). Initializers live in the graph only (IR ≥ 4 does not require them among the
 * graph inputs).
 */

/** ONNX `TensorProto.DataType` codes used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;

/** A dimension: a fixed size (`dim_value`), or a symbolic name (`dim_param`). */
export type OnnxDim = number | string;

/** A graph input or output: name, element type (float32 unless given) and shape. */
export interface OnnxValueInfo {
  name: string;
  elemType?: number;
  dims: readonly OnnxDim[];
}

/**
 * An attribute value: an integer number is an INT, `{ f }` a FLOAT, a string a STRING, an array
 * of integers INTS and `{ floats }` FLOATS.
 */
export type OnnxAttribute =
  | number
  | { f: number }
  | string
  | readonly number[]
  | { floats: readonly number[] };

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  /** Node name; `node<index>` when absent. */
  name?: string;
  /** Operator domain; "" (the default ONNX domain) when absent. */
  domain?: string;
  attributes?: Readonly<Record<string, OnnxAttribute>>;
}

/** A float32 initializer (a constant weight tensor of the graph). */
export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array;
  /**
   * Store the values outside the model (ONNX external data): `location` is the data file relative
   * to the model's directory, `offset` the byte offset there (the caller writes `float32Le(data)`).
   */
  external?: { location: string; offset: number };
}

export interface OnnxOpset {
  domain: string;
  version: number;
}

export interface OnnxModelSpec {
  nodes: readonly OnnxNode[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  initializers?: readonly OnnxInitializer[];
  /** GraphProto.name ("graph" unless given). */
  name?: string;
  /** Default-domain opset version (13 unless given). */
  opset?: number;
  /** Extra opset imports, e.g. `{ domain: "com.microsoft", version: 1 }`. */
  extraOpsets?: readonly OnnxOpset[];
  /** ModelProto.ir_version (8 unless given). */
  irVersion?: number;
  /** ModelProto.producer_version (not written unless given); producer_name is "invbench". */
  producerVersion?: string;
  /** ModelProto.doc_string (not written unless given). */
  docString?: string;
  /** ModelProto.metadata_props, in the given order. */
  metadata?: Readonly<Record<string, string>>;
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_FLOATS = 6;
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
  #varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`onnx/model: ${v} is not a safe integer`);
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
    this.#varint(field * 8 + wire);
  }

  int(field: number, v: number): this {
    this.#key(field, WIRE_VARINT);
    this.#varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.#key(field, WIRE_FIXED32);
    this.#reserve(4);
    new DataView(this.#buf.buffer).setFloat32(this.#len, v, true);
    this.#len += 4;
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.#key(field, WIRE_LEN);
    this.#varint(data.length);
    this.#reserve(data.length);
    this.#buf.set(data, this.#len);
    this.#len += data.length;
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, encoder.encode(s));
  }

  msg(field: number, m: PbWriter): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

function valueInfo(v: OnnxValueInfo): PbWriter {
  const shape = new PbWriter();
  for (const d of v.dims) {
    // TensorShapeProto.Dimension: dim_value (1) or dim_param (2)
    shape.msg(1, typeof d === "number" ? new PbWriter().int(1, d) : new PbWriter().str(2, d));
  }
  const tensorType = new PbWriter().int(1, v.elemType ?? ONNX_FLOAT).msg(2, shape); // elem_type, shape
  return new PbWriter().str(1, v.name).msg(2, new PbWriter().msg(1, tensorType)); // TypeProto.tensor_type
}

function attribute(name: string, value: OnnxAttribute): PbWriter {
  const a = new PbWriter().str(1, name);
  if (typeof value === "number") {
    if (!Number.isInteger(value)) {
      throw new TypeError(`onnx/model: attribute ${name}=${value}: use { f } for floats`);
    }
    return a.int(3, value).int(20, ATTR_INT);
  }
  if (typeof value === "string") return a.str(4, value).int(20, ATTR_STRING);
  if ("f" in value) return a.float(2, value.f).int(20, ATTR_FLOAT);
  if ("floats" in value) {
    for (const x of value.floats) a.float(7, x);
    return a.int(20, ATTR_FLOATS);
  }
  for (const x of value) {
    if (!Number.isInteger(x)) {
      throw new TypeError(`onnx/model: attribute ${name}=[${value}]: use { floats } for floats`);
    }
    a.int(8, x);
  }
  return a.int(20, ATTR_INTS);
}

function node(n: OnnxNode, index: number): PbWriter {
  const w = new PbWriter();
  for (const i of n.inputs) w.str(1, i);
  for (const o of n.outputs) w.str(2, o);
  w.str(3, n.name ?? `node${index}`).str(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.msg(5, attribute(k, v));
  if (n.domain) w.str(7, n.domain);
  return w;
}

/** Float32 values as little-endian bytes (ONNX `raw_data` and external data). */
export function float32Le(data: Float32Array): Uint8Array {
  const raw = new Uint8Array(data.length * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(4 * i, data[i], true);
  return raw;
}

/**
 * A float32 `TensorProto`: dims, data_type, name and little-endian `raw_data`, or, for an
 * `external` initializer, `external_data` (location, offset, length) with `data_location` EXTERNAL.
 */
export function tensorProto(t: OnnxInitializer): Uint8Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new RangeError(
      `onnx/model: initializer ${t.name} has ${t.data.length} values; dims [${t.dims}] need ${count}`,
    );
  }
  const p = new PbWriter();
  for (const d of t.dims) p.int(1, d);
  p.int(2, ONNX_FLOAT).str(8, t.name);
  if (!t.external) return p.bytes(9, float32Le(t.data)).finish();
  const entry = (k: string, v: string) => new PbWriter().str(1, k).str(2, v); // StringStringEntryProto
  p.msg(13, entry("location", t.external.location));
  p.msg(13, entry("offset", String(t.external.offset)));
  p.msg(13, entry("length", String(count * 4)));
  return p.int(14, 1).finish(); // data_location: EXTERNAL
}

function opsetImport(o: OnnxOpset): PbWriter {
  return new PbWriter().str(1, o.domain).int(2, o.version);
}

/** Serialises a single-graph ONNX model (ModelProto) to protobuf bytes. */
export function buildOnnxModel(spec: OnnxModelSpec): Uint8Array {
  const graph = new PbWriter();
  spec.nodes.forEach((n, i) => graph.msg(1, node(n, i)));
  graph.str(2, spec.name ?? "graph");
  for (const t of spec.initializers ?? []) graph.bytes(5, tensorProto(t));
  for (const v of spec.inputs) graph.msg(11, valueInfo(v));
  for (const v of spec.outputs) graph.msg(12, valueInfo(v));

  const model = new PbWriter().int(1, spec.irVersion ?? 8).str(2, "invbench"); // ir_version, producer_name
  if (spec.producerVersion !== undefined) model.str(3, spec.producerVersion);
  if (spec.docString) model.str(6, spec.docString);
  model.msg(7, graph);
  model.msg(8, opsetImport({ domain: "", version: spec.opset ?? 13 }));
  for (const o of spec.extraOpsets ?? []) model.msg(8, opsetImport(o));
  for (const [k, v] of Object.entries(spec.metadata ?? {})) {
    model.msg(14, new PbWriter().str(1, k).str(2, v)); // StringStringEntryProto
  }
  return model.finish();
}
