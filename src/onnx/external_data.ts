/**
 * The files an ONNX model reads besides itself: the `location` of every tensor stored as external
 * data (`TensorProto.data_location = EXTERNAL`, `external_data` entries), wherever a tensor can sit:
 * the graph's initializers and sparse initializers, node attributes (`t`, `tensors`, sparse ones)
 * and every subgraph (If/Loop/Scan bodies) and model-local function they hold. onnxruntime resolves
 * each location relative to the model file's directory, and only when the model is loaded by path.
 */
import { fields } from "./read.ts";

const decoder = new TextDecoder();

// Field numbers of onnx.proto3 that can lead to a TensorProto.
const MODEL_GRAPH = 7, MODEL_FUNCTIONS = 25, FUNCTION_NODE = 7;
const GRAPH_NODE = 1, GRAPH_INITIALIZER = 5, GRAPH_SPARSE_INITIALIZER = 15;
const NODE_ATTRIBUTE = 5;
const ATTR_T = 5, ATTR_G = 6, ATTR_TENSORS = 10, ATTR_GRAPHS = 11, ATTR_SPARSE = 22, ATTR_SPARSES = 23;
const SPARSE_VALUES = 1, SPARSE_INDICES = 2;
const TENSOR_EXTERNAL_DATA = 13, TENSOR_DATA_LOCATION = 14, DATA_LOCATION_EXTERNAL = 1;

function tensor(buf: Uint8Array, out: Set<string>): void {
  let external = false, location: string | null = null;
  for (const f of fields(buf)) {
    if (f.field === TENSOR_DATA_LOCATION) external = f.int === DATA_LOCATION_EXTERNAL;
    if (f.field !== TENSOR_EXTERNAL_DATA) continue;
    let key = "", value = "";
    for (const e of fields(f.bytes)) {
      if (e.field === 1) key = decoder.decode(e.bytes);
      if (e.field === 2) value = decoder.decode(e.bytes);
    }
    if (key === "location") location = value;
  }
  if (external && location !== null) out.add(location);
}

function sparse(buf: Uint8Array, out: Set<string>): void {
  for (const f of fields(buf)) {
    if (f.field === SPARSE_VALUES || f.field === SPARSE_INDICES) tensor(f.bytes, out);
  }
}

function node(buf: Uint8Array, out: Set<string>): void {
  for (const f of fields(buf)) {
    if (f.field !== NODE_ATTRIBUTE) continue;
    for (const a of fields(f.bytes)) {
      if (a.field === ATTR_T || a.field === ATTR_TENSORS) tensor(a.bytes, out);
      else if (a.field === ATTR_G || a.field === ATTR_GRAPHS) graph(a.bytes, out);
      else if (a.field === ATTR_SPARSE || a.field === ATTR_SPARSES) sparse(a.bytes, out);
    }
  }
}

function graph(buf: Uint8Array, out: Set<string>): void {
  for (const f of fields(buf)) {
    if (f.field === GRAPH_INITIALIZER) tensor(f.bytes, out);
    else if (f.field === GRAPH_SPARSE_INITIALIZER) sparse(f.bytes, out);
    else if (f.field === GRAPH_NODE) node(f.bytes, out);
  }
}

/**
 * The distinct external data locations a model's bytes name, in first-seen order, as written
 * (relative paths, normally; the caller checks them). Throws a RangeError on bytes that are not a
 * protobuf message.
 */
export function externalDataLocations(model: Uint8Array): string[] {
  const out = new Set<string>();
  for (const f of fields(model)) {
    if (f.field === MODEL_GRAPH) graph(f.bytes, out);
    else if (f.field === MODEL_FUNCTIONS) {
      for (const n of fields(f.bytes)) if (n.field === FUNCTION_NODE) node(n.bytes, out);
    }
  }
  return [...out];
}
