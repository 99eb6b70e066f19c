/**
 * Rows of a feature matrix read on demand, so that training over a large split holds one batch of
 * rows instead of the whole matrix (docs/data.md, "Memory"): from a verified feature cache entry on
 * disk (positioned reads of its float32 payload), or from an array already in memory (no cache).
 * A run of consecutive rows is one read.
 */
import { readAt } from "../util/read_at.ts";

/** A row-major float32 matrix [rows, cols] whose rows are read on demand. */
export interface FeatureRows {
  readonly rows: number;
  readonly cols: number;
  /**
   * Rows `indices`, in that order, as an array [indices.length, cols]: written into `out` when
   * given (a buffer reused step after step: a training loop that never yields to the event loop
   * would otherwise pile up arrays that are freed only when it does), else a new array.
   */
  read(indices: ArrayLike<number>, out?: Float32Array): Float32Array;
  /** Releases the file behind the rows (idempotent). */
  close(): void;
}

/** A feature matrix produced in chunks of whole rows, in row order (an extraction). */
export interface FeatureStream {
  rows: number;
  cols: number;
  chunks(): AsyncIterable<Float32Array>;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkIndex(i: number, rows: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= rows) throw new RangeError(`row ${i} outside [0, ${rows})`);
}

/** `out`'s first `length` values when given (it must be long enough), else a new array. */
function target(out: Float32Array | undefined, length: number): Float32Array {
  if (!out) return new Float32Array(length);
  if (out.length < length) throw new RangeError(`read: ${out.length} values of room for ${length}`);
  return out.subarray(0, length);
}

/** Rows of an array in memory (`name` is what a read after `close` names). */
export function memoryRows(data: Float32Array, cols: number, name = "rows in memory"): FeatureRows {
  const rows = data.length / cols;
  if (!Number.isInteger(rows)) throw new RangeError(`${data.length} values are not rows of ${cols}`);
  let held: Float32Array | null = data;
  return {
    rows,
    cols,
    read(indices, into) {
      if (!held) throw new RangeError(`${name}: read after close`);
      const out = target(into, indices.length * cols);
      for (let k = 0; k < indices.length; k++) {
        checkIndex(indices[k], rows);
        out.set(held.subarray(indices[k] * cols, (indices[k] + 1) * cols), k * cols);
      }
      return out;
    },
    close() {
      held = null;
    },
  };
}

/** Rows `0..rows.rows−1` of `rows`, as one array (for the callers that need all of them). */
export function readAll(rows: FeatureRows): Float32Array {
  return rows.read(Int32Array.from({ length: rows.rows }, (_, i) => i));
}

/** Collects a stream into one array. */
export async function collect(stream: FeatureStream): Promise<Float32Array> {
  const out = new Float32Array(stream.rows * stream.cols);
  let at = 0;
  for await (const chunk of stream.chunks()) {
    out.set(chunk, at);
    at += chunk.length;
  }
  if (at !== out.length) throw new RangeError(`feature stream gave ${at} values, expected ${out.length}`);
  return out;
}

/**
 * Payloads up to this size are read whole when opened and served from memory: a classifier reading
 * 256 random rows per step would otherwise make 256 positioned reads (4 % of the default run went
 * to those syscalls), while a split large enough to matter for memory stays on disk. 4 MiB is 8192
 * rows of 128 features.
 */
export const WHOLE_READ_BYTES = 4 * 1024 * 1024;

/**
 * Rows of the little-endian float32 payload at `payloadOffset` of the file `path` (a verified cache
 * entry: the caller checked its header and payload hash). Small payloads are read at once
 * (WHOLE_READ_BYTES); larger ones row by row.
 */
export function fileRows(
  path: string,
  payloadOffset: number,
  rows: number,
  cols: number,
  wholeReadBytes = WHOLE_READ_BYTES,
): FeatureRows {
  let file: Deno.FsFile | null = Deno.openSync(path, { read: true });
  const rowBytes = cols * 4;
  const onDisk: FeatureRows = {
    rows,
    cols,
    read(indices, into) {
      if (!file) throw new RangeError(`${path}: read after close`);
      const out = target(into, indices.length * cols);
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      for (let k = 0; k < indices.length;) {
        checkIndex(indices[k], rows);
        let run = 1;
        while (k + run < indices.length && indices[k + run] === indices[k] + run) run++;
        readAt(
          file,
          bytes.subarray(k * rowBytes, (k + run) * rowBytes),
          payloadOffset + indices[k] * rowBytes,
          path,
        );
        k += run;
      }
      if (!littleEndian) bytes.set(swapped(bytes));
      return out;
    },
    close() {
      file?.close();
      file = null;
    },
  };
  if (rows * rowBytes > wholeReadBytes) return onDisk;
  try {
    return memoryRows(readAll(onDisk), cols, path);
  } finally {
    onDisk.close();
  }
}

/**
 * A stream written to a private temp file and read back by row: features that no cache holds (a run
 * without one, an adapter's outputs) without holding them in memory. The file is unlinked as soon
 * as it is open (where the system allows; else when the rows are closed), so nothing is left behind.
 */
export async function spillRows(stream: FeatureStream): Promise<FeatureRows> {
  const path = await Deno.makeTempFile({ prefix: "invbench-spill-", suffix: ".f32" });
  try {
    using file = await Deno.open(path, { write: true });
    let values = 0;
    for await (const chunk of stream.chunks()) {
      const le = littleEndianBytes(chunk);
      for (let at = 0; at < le.length;) at += await file.write(le.subarray(at));
      values += chunk.length;
    }
    if (values !== stream.rows * stream.cols) {
      throw new RangeError(`feature stream gave ${values} values, expected ${stream.rows}×${stream.cols}`);
    }
  } catch (e) {
    await Deno.remove(path).catch(() => {});
    throw e;
  }
  const rows = fileRows(path, 0, stream.rows, stream.cols);
  let removed = true;
  try {
    Deno.removeSync(path);
  } catch {
    removed = false; // e.g. Windows: an open file cannot be unlinked
  }
  return {
    ...rows,
    close() {
      rows.close();
      if (!removed) Deno.remove(path).catch(() => {});
    },
  };
}

/** The bytes of `a` as little-endian 32-bit values (a view when the platform is little-endian). */
export function littleEndianBytes(a: Float32Array | Uint32Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return littleEndian ? bytes : swapped(bytes);
}

function swapped(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    out[i] = bytes[i + 3];
    out[i + 1] = bytes[i + 2];
    out[i + 2] = bytes[i + 1];
    out[i + 3] = bytes[i];
  }
  return out;
}
