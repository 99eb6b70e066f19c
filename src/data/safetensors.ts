/**
 * safetensors reader (Hugging Face format): an 8-byte little-endian header length N, N bytes of
 * JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}, then the data
 * buffer, offsets relative to its start. Every entry is validated before any tensor is read
 * (offsets within the buffer, end − begin = elements × dtype size, no overlaps or holes, as the
 * reference implementation requires), so a corrupt file fails at open with the tensor named.
 */
import { DataError } from "../errors.ts";
import { copyLittleEndianF32 } from "./npy.ts";
import { type FileRecord, readSourceFile } from "./source_file.ts";

const DTYPE_SIZE: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** One tensor's header entry. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** [begin, end) relative to the data buffer. */
  dataOffsets: [number, number];
}

/** A validated safetensors file. */
export interface SafetensorsFile {
  file: string;
  tensors: Record<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Byte offset of the data buffer in the file (8 + N). */
  dataStart: number;
  bytes: Uint8Array;
}

/** Parses and validates the header of safetensors bytes. */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  if (bytes.byteLength < 8) {
    throw new DataError(
      file,
      { offset: 0, field: "header length" },
      "an 8-byte header length",
      `a ${bytes.byteLength}-byte file`,
    );
  }
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.byteLength - 8) {
    throw new DataError(
      file,
      { offset: 0, field: "header length" },
      `a JSON header length ≤ ${bytes.byteLength - 8} (the bytes after it)`,
      `${n}`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new DataError(
      file,
      { offset: 8, field: "header JSON" },
      "a UTF-8 JSON object",
      e instanceof Error ? e.message : String(e),
    );
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new DataError(
      file,
      { offset: 8, field: "header JSON" },
      "a JSON object",
      Array.isArray(header) ? "an array" : String(header),
    );
  }
  const dataStart = 8 + n, dataSize = bytes.byteLength - dataStart;
  const tensors: Record<string, SafetensorsEntry> = {};
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = value as Record<string, string>;
      continue;
    }
    const where = { offset: 8, field: `header["${name}"]` };
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e?.dtype !== "string" || !(e.dtype in DTYPE_SIZE)) {
      throw new DataError(
        file,
        { ...where, field: `${where.field}.dtype` },
        `a dtype among ${Object.keys(DTYPE_SIZE).join(", ")}`,
        JSON.stringify(e?.dtype),
      );
    }
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new DataError(
        file,
        { ...where, field: `${where.field}.shape` },
        "an array of non-negative integers",
        JSON.stringify(e.shape),
      );
    }
    const off = e.data_offsets;
    if (
      !Array.isArray(off) || off.length !== 2 || off.some((o) => !Number.isSafeInteger(o) || o < 0) ||
      off[0] > off[1]
    ) {
      throw new DataError(
        file,
        { ...where, field: `${where.field}.data_offsets` },
        "[begin, end] integers with 0 ≤ begin ≤ end",
        JSON.stringify(off),
      );
    }
    if (off[1] > dataSize) {
      throw new DataError(
        file,
        { ...where, field: `${where.field}.data_offsets` },
        `end ≤ ${dataSize} (the data buffer's size)`,
        `${off[1]} (file truncated or offsets wrong)`,
      );
    }
    const need = (e.shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_SIZE[e.dtype];
    if (off[1] - off[0] !== need) {
      throw new DataError(
        file,
        { ...where, field: `${where.field}.data_offsets` },
        `${need} bytes for ${e.dtype} shape [${e.shape.join(", ")}]`,
        `${off[1] - off[0]} ([${off[0]}, ${off[1]}])`,
      );
    }
    tensors[name] = { dtype: e.dtype, shape: e.shape as number[], dataOffsets: [off[0], off[1]] };
  }
  // The buffer must be covered exactly, in order: overlaps or holes mean a corrupt header.
  let end = 0;
  for (const [name, t] of Object.entries(tensors).sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0])) {
    if (t.dataOffsets[0] !== end) {
      throw new DataError(
        file,
        { offset: dataStart + t.dataOffsets[0], field: `header["${name}"].data_offsets` },
        `begin ${end} (the previous tensor's end: no holes or overlaps)`,
        `${t.dataOffsets[0]}`,
      );
    }
    end = t.dataOffsets[1];
  }
  if (end !== dataSize) {
    throw new DataError(
      file,
      { offset: dataStart + end, field: "data buffer" },
      `${end} data bytes (the tensors' extent)`,
      `${dataSize} (${dataSize - end} unindexed trailing bytes)`,
    );
  }
  return { file, tensors, metadata, dataStart, bytes };
}

/** The header entry of tensor `name`, or an error listing what the file holds. */
function entry(st: SafetensorsFile, name: string): SafetensorsEntry {
  const t = st.tensors[name];
  if (!t) {
    throw new DataError(
      st.file,
      { offset: 8, field: `tensor "${name}"` },
      `a tensor named "${name}"`,
      `tensors ${JSON.stringify(Object.keys(st.tensors))}`,
    );
  }
  return t;
}

/** Tensor `name` as float32; it must be F32. */
export function tensorF32(st: SafetensorsFile, name: string): { shape: number[]; data: Float32Array } {
  const t = entry(st, name);
  if (t.dtype !== "F32") {
    throw new DataError(st.file, { offset: 8, field: `header["${name}"].dtype` }, "F32", t.dtype);
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  return { shape: t.shape, data: copyLittleEndianF32(st.bytes, st.dataStart + t.dataOffsets[0], n) };
}

/** Tensor `name` as int32 labels; it must be an integer dtype, shape [n] or [n, 1], values ≥ 0. */
export function tensorLabels(st: SafetensorsFile, name: string): Int32Array {
  const t = entry(st, name);
  const field = `header["${name}"]`;
  const get: Record<string, (v: DataView, at: number) => number> = {
    I64: (v, at) => Number(v.getBigInt64(at, true)),
    I32: (v, at) => v.getInt32(at, true),
    I16: (v, at) => v.getInt16(at, true),
    I8: (v, at) => v.getInt8(at),
    U8: (v, at) => v.getUint8(at),
  };
  if (!get[t.dtype]) {
    throw new DataError(
      st.file,
      { offset: 8, field: `${field}.dtype` },
      "an integer label dtype (I64, I32, I16, I8, U8)",
      t.dtype,
    );
  }
  if (t.shape.length !== 1 && !(t.shape.length === 2 && t.shape[1] === 1)) {
    throw new DataError(
      st.file,
      { offset: 8, field: `${field}.shape` },
      "[n] or [n, 1]",
      `[${t.shape.join(", ")}]`,
    );
  }
  const view = new DataView(st.bytes.buffer, st.bytes.byteOffset, st.bytes.byteLength);
  const size = DTYPE_SIZE[t.dtype], n = t.shape[0], out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const at = st.dataStart + t.dataOffsets[0] + i * size;
    const y = get[t.dtype](view, at);
    if (y < 0 || y > 0x7fffffff) {
      throw new DataError(st.file, { offset: at, field: `${name}[${i}]` }, "a non-negative label", `${y}`);
    }
    out[i] = y;
  }
  return out;
}

/** Reads and validates a safetensors file. */
export function readSafetensors(path: string): SafetensorsFile & { record: FileRecord } {
  const { bytes, record } = readSourceFile(path);
  return { ...parseSafetensors(bytes, path), record };
}

/** Encodes a safetensors file from F32/I64/... byte buffers (tests and fixtures). */
export function encodeSafetensors(
  tensors: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.bytes.length] };
    at += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // the reference writer pads to 8 bytes
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let k = 8 + head.length;
  for (const t of Object.values(tensors)) {
    out.set(t.bytes, k);
    k += t.bytes.length;
  }
  return out;
}
