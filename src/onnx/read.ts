/**
 * A minimal ONNX reader, the counterpart of ./model.ts: parses `ModelProto` bytes far enough to
 * inspect the graph (nodes, inputs and outputs with their dims), the default-domain opset and the
 * metadata props, and to read float32 initializers (`raw_data`) back.
 */
import { ONNX_FLOAT, type OnnxDim, type OnnxInitializer, type OnnxValueInfo } from "./model.ts";

/** What `readOnnxModel` returns. */
export interface OnnxModelSummary {
  /** Default-domain ("" or "ai.onnx") opset version; 0 when the model imports none. */
  opset: number;
  nodes: { opType: string; name: string; inputs: string[]; outputs: string[]; domain: string }[];
  initializers: Map<string, OnnxInitializer>;
  inputs: (OnnxValueInfo & { elemType: number; dims: OnnxDim[] })[];
  outputs: (OnnxValueInfo & { elemType: number; dims: OnnxDim[] })[];
  metadata: Record<string, string>;
}

export interface Field {
  field: number;
  wire: number;
  /** The value of a varint field (int64 two's complement read as a signed number). */
  int: number;
  /** The payload of a length-delimited or fixed field. */
  bytes: Uint8Array;
}

const empty = new Uint8Array(0);

/** The fields of one protobuf message as (field number, wire type, value). */
export function* fields(buf: Uint8Array): Generator<Field> {
  let p = 0;
  const varint = (): number => {
    let v = 0, mul = 1;
    for (let i = 0;; i++) {
      if (p >= buf.length) throw new RangeError("onnx/read: truncated varint");
      const b = buf[p++];
      if (i === 7) { // beyond 49 bits: finish in 64-bit two's complement
        let x = BigInt(v) + (BigInt(b & 127) << 49n), shift = 56n;
        let c = b;
        while (c >= 128) {
          if (p >= buf.length) throw new RangeError("onnx/read: truncated varint");
          c = buf[p++];
          x += BigInt(c & 127) << shift;
          shift += 7n;
        }
        return Number(BigInt.asIntN(64, x));
      }
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
    }
  };
  const take = (n: number, field: number): Uint8Array => {
    if (p + n > buf.length) throw new RangeError(`onnx/read: field ${field} runs past the end`);
    const out = buf.subarray(p, p + n);
    p += n;
    return out;
  };
  while (p < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8), wire = key % 8;
    if (wire === 0) yield { field, wire, int: varint(), bytes: empty };
    else if (wire === 2) yield { field, wire, int: 0, bytes: take(varint(), field) };
    else if (wire === 5) yield { field, wire, int: 0, bytes: take(4, field) };
    else if (wire === 1) yield { field, wire, int: 0, bytes: take(8, field) };
    else throw new RangeError(`onnx/read: unsupported wire type ${wire} for field ${field}`);
  }
}

const decoder = new TextDecoder();

function readValueInfo(buf: Uint8Array): OnnxModelSummary["inputs"][number] {
  let name = "", elemType = 0;
  const dims: OnnxDim[] = [];
  for (const f of fields(buf)) {
    if (f.field === 1) name = decoder.decode(f.bytes);
    if (f.field !== 2) continue;
    for (const t of fields(f.bytes)) {
      if (t.field !== 1) continue; // TypeProto.tensor_type
      for (const s of fields(t.bytes)) {
        if (s.field === 1) elemType = s.int;
        if (s.field !== 2) continue; // shape
        for (const d of fields(s.bytes)) {
          if (d.field !== 1) continue;
          for (const v of fields(d.bytes)) {
            if (v.field === 1) dims.push(v.int);
            if (v.field === 2) dims.push(decoder.decode(v.bytes));
          }
        }
      }
    }
  }
  return { name, elemType, dims };
}

function readTensor(buf: Uint8Array): OnnxInitializer {
  let name = "", dataType = 0;
  const dims: number[] = [];
  let raw: Uint8Array | null = null;
  for (const f of fields(buf)) {
    if (f.field === 1) dims.push(f.int);
    else if (f.field === 2) dataType = f.int;
    else if (f.field === 8) name = decoder.decode(f.bytes);
    else if (f.field === 9) raw = f.bytes;
  }
  if (dataType !== ONNX_FLOAT || !raw) {
    throw new RangeError(`onnx/read: initializer ${name}: only float32 raw_data tensors are read`);
  }
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const data = new Float32Array(raw.byteLength / 4);
  for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(4 * i, true);
  return { name, dims, data };
}

/**
 * Parses an ONNX model far enough to inspect its graph and read float32 initializers back.
 * Throws on an initializer that is not float32 `raw_data`.
 */
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
    if (f.field === 8) { // opset_import
      let domain = "", version = 0;
      for (const o of fields(f.bytes)) {
        if (o.field === 1) domain = decoder.decode(o.bytes);
        if (o.field === 2) version = o.int;
      }
      if (domain === "" || domain === "ai.onnx") out.opset = version;
    }
    if (f.field === 14) { // metadata_props
      let k = "", v = "";
      for (const e of fields(f.bytes)) {
        if (e.field === 1) k = decoder.decode(e.bytes);
        if (e.field === 2) v = decoder.decode(e.bytes);
      }
      out.metadata[k] = v;
    }
    if (f.field !== 7) continue; // graph (repeated occurrences merge)
    for (const g of fields(f.bytes)) {
      if (g.field === 1) {
        const node = { opType: "", name: "", inputs: [] as string[], outputs: [] as string[], domain: "" };
        for (const n of fields(g.bytes)) {
          if (n.field === 1) node.inputs.push(decoder.decode(n.bytes));
          if (n.field === 2) node.outputs.push(decoder.decode(n.bytes));
          if (n.field === 3) node.name = decoder.decode(n.bytes);
          if (n.field === 4) node.opType = decoder.decode(n.bytes);
          if (n.field === 7) node.domain = decoder.decode(n.bytes);
        }
        out.nodes.push(node);
      } else if (g.field === 5) {
        const t = readTensor(g.bytes);
        out.initializers.set(t.name, t);
      } else if (g.field === 11) out.inputs.push(readValueInfo(g.bytes));
      else if (g.field === 12) out.outputs.push(readValueInfo(g.bytes));
    }
  }
  return out;
}
