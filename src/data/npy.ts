/**
 * NPY reader (NumPy format versions 1.0, 2.0 and 3.0) for what invbench exchanges as NPY:
 * float32 little-endian 2-D C-order matrices (features, or flattened CHW images), and integer
 * label vectors. Anything else (another dtype, fortran_order, a shape the bytes do not match) is an
 * error that names the file and the header field, never a silent conversion.
 * Layout: "\x93NUMPY", major, minor, header length (uint16 LE for v1, uint32 LE for v2/v3), then a
 * Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)} (latin-1; UTF-8 in v3),
 * then the raw data.
 */
import { DataError } from "../errors.ts";
import { type FileRecord, readSourceFile } from "./source_file.ts";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** A parsed NPY header. */
export interface NpyHeader {
  version: [number, number];
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the header dict (10 for v1, 12 for v2/v3). */
  headerOffset: number;
  /** Byte offset of the first data byte. */
  dataOffset: number;
}

/** Parses the header of NPY bytes; `file` is named in errors. */
export function parseNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new DataError(
      file,
      { offset: 0, field: "magic" },
      'the NPY magic "\\x93NUMPY"',
      bytes.byteLength < 10 ? `a ${bytes.byteLength}-byte file` : undefined,
    );
  }
  const major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3) {
    throw new DataError(
      file,
      { offset: 6, field: "version" },
      "NPY format version 1, 2 or 3",
      `${major}.${minor}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.byteLength < 8 + lenBytes) {
    throw new DataError(
      file,
      { offset: 8, field: "header length" },
      `a ${lenBytes}-byte header length`,
      "end of file",
    );
  }
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes, dataOffset = start + headerLen;
  if (dataOffset > bytes.byteLength) {
    throw new DataError(
      file,
      { offset: start, field: "header" },
      `a ${headerLen}-byte header`,
      `${bytes.byteLength - start} bytes left (truncated)`,
    );
  }
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, dataOffset));
  const field = (key: string, pattern: string) => {
    const m = text.match(new RegExp(`['"]${key}['"]\\s*:\\s*${pattern}`));
    if (!m) {
      throw new DataError(
        file,
        { offset: start, field: `header.${key}` },
        `a '${key}' entry in the header dict`,
        JSON.stringify(text.trim()),
      );
    }
    return m.slice(1).find((g) => g !== undefined)!;
  };
  const descrText = field("descr", `(?:'([^']*)'|"([^"]*)"|(\\[))`);
  const descr = descrText === "[" ? "[structured]" : descrText;
  const fortranOrder = field("fortran_order", "(True|False)") === "True";
  const shapeText = field("shape", "\\(([^)]*)\\)");
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new DataError(
      file,
      { offset: start, field: "header.shape" },
      "a tuple of non-negative integers",
      `(${shapeText})`,
    );
  }
  return { version: [major, minor], descr, fortranOrder, shape, headerOffset: start, dataOffset };
}

/** Checks that the data after the header is exactly `count` elements of `size` bytes. */
function checkDataSize(bytes: Uint8Array, file: string, h: NpyHeader, size: number): void {
  const need = h.shape.reduce((a, b) => a * b, 1) * size;
  const have = bytes.byteLength - h.dataOffset;
  if (have !== need) {
    throw new DataError(
      file,
      { offset: h.dataOffset + Math.min(have, need), field: "data" },
      `${need} data bytes for shape (${h.shape.join(", ")}) × ${size}-byte ${h.descr}`,
      `${have} (${have < need ? "truncated" : "trailing bytes"})`,
    );
  }
}

/** A float32 matrix read from NPY. */
export interface NpyMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
  file: FileRecord;
}

/** Parses a float32 little-endian 2-D C-order NPY. */
export function parseNpyMatrix(bytes: Uint8Array, file: string): Omit<NpyMatrix, "file"> {
  const h = parseNpyHeader(bytes, file);
  if (h.descr !== "<f4") {
    throw new DataError(
      file,
      { offset: h.headerOffset, field: "header.descr" },
      "dtype '<f4' (float32 little-endian)",
      `'${h.descr}'`,
    );
  }
  if (h.fortranOrder) {
    throw new DataError(
      file,
      { offset: h.headerOffset, field: "header.fortran_order" },
      "fortran_order False (C order)",
      "True",
    );
  }
  if (h.shape.length !== 2) {
    throw new DataError(
      file,
      { offset: h.headerOffset, field: "header.shape" },
      "a 2-D shape (rows, cols)",
      `(${h.shape.join(", ")})`,
    );
  }
  checkDataSize(bytes, file, h, 4);
  return {
    rows: h.shape[0],
    cols: h.shape[1],
    data: copyLittleEndianF32(bytes, h.dataOffset, h.shape[0] * h.shape[1]),
  };
}

/** Reads a float32 2-D NPY file. */
export function readNpyMatrix(path: string): NpyMatrix {
  const { bytes, record } = readSourceFile(path);
  return { ...parseNpyMatrix(bytes, path), file: record };
}

const INT_TYPES: Record<string, { size: number; get: (v: DataView, at: number) => number }> = {
  "|u1": { size: 1, get: (v, at) => v.getUint8(at) },
  "|i1": { size: 1, get: (v, at) => v.getInt8(at) },
  "<i2": { size: 2, get: (v, at) => v.getInt16(at, true) },
  "<u2": { size: 2, get: (v, at) => v.getUint16(at, true) },
  "<i4": { size: 4, get: (v, at) => v.getInt32(at, true) },
  "<u4": { size: 4, get: (v, at) => v.getUint32(at, true) },
  "<i8": { size: 8, get: (v, at) => Number(v.getBigInt64(at, true)) },
  "<u8": { size: 8, get: (v, at) => Number(v.getBigUint64(at, true)) },
};

/** Parses an integer label vector: shape (n,) or (n, 1), any little-endian integer dtype. */
export function parseNpyLabels(bytes: Uint8Array, file: string): Int32Array {
  const h = parseNpyHeader(bytes, file);
  const t = INT_TYPES[h.descr];
  if (!t) {
    throw new DataError(
      file,
      { offset: h.headerOffset, field: "header.descr" },
      `an integer label dtype (${Object.keys(INT_TYPES).join(", ")})`,
      `'${h.descr}'`,
    );
  }
  if (h.shape.length !== 1 && !(h.shape.length === 2 && h.shape[1] === 1)) {
    throw new DataError(
      file,
      { offset: h.headerOffset, field: "header.shape" },
      "a label vector of shape (n,) or (n, 1)",
      `(${h.shape.join(", ")})`,
    );
  }
  checkDataSize(bytes, file, h, t.size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = h.shape[0], out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = t.get(view, h.dataOffset + i * t.size);
    if (y < 0 || y > 0x7fffffff) {
      throw new DataError(
        file,
        { offset: h.dataOffset + i * t.size, field: `label ${i}` },
        "a non-negative label",
        `${y}`,
      );
    }
    out[i] = y;
  }
  return out;
}

/** Reads an integer label vector NPY file. */
export function readNpyLabels(path: string): { labels: Int32Array; file: FileRecord } {
  const { bytes, record } = readSourceFile(path);
  return { labels: parseNpyLabels(bytes, path), file: record };
}

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** n little-endian float32 from `bytes` at `at` (any alignment), as a fresh array. */
export function copyLittleEndianF32(bytes: Uint8Array, at: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (HOST_LE) {
    new Uint8Array(out.buffer).set(bytes.subarray(at, at + 4 * n));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, 4 * n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** Encodes an NPY v1.0 file (tests and fixtures; the inverse of the readers). */
export function encodeNpy(
  descr: string,
  shape: number[],
  data: Uint8Array,
  fortranOrder = false,
  version: 1 | 2 | 3 = 1,
): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? "True" : "False"}, 'shape': (${
    shape.join(", ")
  }${shape.length === 1 ? "," : ""}), }`;
  const lenBytes = version === 1 ? 2 : 4;
  const pad = 64 - ((8 + lenBytes + dict.length + 1) % 64);
  const header = new TextEncoder().encode(dict + " ".repeat(pad % 64) + "\n");
  const out = new Uint8Array(8 + lenBytes + header.length + data.length);
  out.set(MAGIC);
  out[6] = version;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(header, 8 + lenBytes);
  out.set(data, 8 + lenBytes + header.length);
  return out;
}
