/**
 * IDX reader (the MNIST file format, LeCun et al.): bytes 0–1 are zero, byte 2 the element type,
 * byte 3 the rank r, then r big-endian uint32 dimensions, then the elements, big-endian, row-major.
 * The file must hold exactly the bytes the header implies: a short file is truncated and a long one
 * is not what its header says, and both are errors rather than silently read.
 */
import { DataError } from "../errors.ts";
import { readSourceFile, type SourceFile } from "./source_file.ts";

/** IDX element types by their type code (byte 2). */
export type IdxDType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** The typed array of each IDX element type, in host order after decoding. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file. */
export interface IdxArray {
  dtype: IdxDType;
  /** Dimensions, outermost first (e.g. [60000, 28, 28]). */
  dims: number[];
  /** Elements in row-major order. */
  data: IdxData;
}

const TYPES: Record<number, { dtype: IdxDType; size: number }> = {
  0x08: { dtype: "uint8", size: 1 },
  0x09: { dtype: "int8", size: 1 },
  0x0b: { dtype: "int16", size: 2 },
  0x0c: { dtype: "int32", size: 4 },
  0x0d: { dtype: "float32", size: 4 },
  0x0e: { dtype: "float64", size: 8 },
};

const hex = (b: number) => `0x${b.toString(16).padStart(2, "0")}`;

/** What an IDX header says: the element type, the dimensions and where the elements start. */
export interface IdxHeader {
  dtype: IdxDType;
  /** Bytes per element. */
  size: number;
  dims: number[];
  /** Byte offset of the first element (the header's length). */
  dataOffset: number;
}

/**
 * Parses the header at the start of `head` (the file's first bytes, or all of them) of a file of
 * `length` bytes, and checks that the length is exactly what the header implies; `name` is the file
 * named in errors.
 */
export function parseIdxHeader(head: Uint8Array, length: number, name: string): IdxHeader {
  if (length < 4) {
    throw new DataError(
      name,
      { offset: 0, field: "magic" },
      "a 4-byte IDX magic number",
      `a ${length}-byte file`,
    );
  }
  if (head[0] !== 0 || head[1] !== 0) {
    throw new DataError(
      name,
      { offset: 0, field: "magic" },
      "IDX magic 0x0000 in bytes 0-1",
      `${hex(head[0])}${hex(head[1]).slice(2)}`,
    );
  }
  const type = TYPES[head[2]];
  if (!type) {
    throw new DataError(
      name,
      { offset: 2, field: "magic type code" },
      "an IDX type code 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e",
      hex(head[2]),
    );
  }
  const rank = head[3];
  if (rank === 0) throw new DataError(name, { offset: 3, field: "magic rank" }, "rank ≥ 1", "0");
  const headerBytes = 4 + 4 * rank;
  if (length < headerBytes) {
    throw new DataError(
      name,
      { offset: length, field: "dims" },
      `a ${headerBytes}-byte header for rank ${rank}`,
      `a ${length}-byte file (truncated)`,
    );
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.size;
  if (length !== expected) {
    const what = length < expected ? "truncated" : `${length - expected} trailing bytes`;
    throw new DataError(
      name,
      { offset: Math.min(length, expected), field: "data" },
      `${expected} bytes (${headerBytes}-byte header + ${dims.join("×")} × ${type.size}-byte ${type.dtype})`,
      `${length} bytes (${what})`,
    );
  }
  return { dtype: type.dtype, size: type.size, dims, dataOffset: headerBytes };
}

/** Parses IDX bytes; `name` is the file named in errors. */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  const { dtype, dims, dataOffset } = parseIdxHeader(bytes, bytes.byteLength, name);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { dtype, dims, data: decode(view, dataOffset, dims.reduce((a, b) => a * b, 1), dtype) };
}

/** Big-endian elements → a host-order typed array (copied, so the file buffer can be dropped). */
function decode(view: DataView, at: number, n: number, dtype: IdxDType): IdxData {
  switch (dtype) {
    case "uint8":
      return new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + n));
    case "int8":
      return new Int8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + n));
    case "int16": {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(at + 2 * i, false);
      return out;
    }
    case "int32": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(at + 4 * i, false);
      return out;
    }
    case "float32": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, false);
      return out;
    }
    case "float64": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(at + 8 * i, false);
      return out;
    }
  }
}

/** Reads and parses an IDX file (optionally `.gz`), returning the array and the file read. */
export function readIdx(path: string): IdxArray & { file: SourceFile["record"] } {
  const { bytes, record } = readSourceFile(path);
  return { ...parseIdx(bytes, path), file: record };
}

/** Encodes an IDX file (used by tests and fixtures; the inverse of `parseIdx`). */
export function encodeIdx(dtype: IdxDType, dims: number[], data: ArrayLike<number>): Uint8Array {
  const [code, { size }] = Object.entries(TYPES).find(([, t]) => t.dtype === dtype)!;
  const head = 4 + 4 * dims.length;
  const out = new Uint8Array(head + data.length * size);
  const view = new DataView(out.buffer);
  out[2] = Number(code);
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < data.length; i++) {
    const at = head + i * size;
    if (dtype === "uint8") view.setUint8(at, data[i]);
    else if (dtype === "int8") view.setInt8(at, data[i]);
    else if (dtype === "int16") view.setInt16(at, data[i], false);
    else if (dtype === "int32") view.setInt32(at, data[i], false);
    else if (dtype === "float32") view.setFloat32(at, data[i], false);
    else view.setFloat64(at, data[i], false);
  }
  return out;
}
