/**
 * An uncompressed uint8 IDX file whose rows (first-dimension slices, e.g. images) are read on
 * demand by positioned reads, so a split of the `mnist` and `idx` sources holds no pixels
 * (docs/data.md, "Memory"). Opening checks the header exactly as `parseIdx` does and hashes the
 * file in 1 MiB pieces, so the record (and a dataset's content hash) is the one `readIdx` gives.
 * `.gz` files and other element types are read whole by `readIdx` instead.
 */
import { createHash } from "node:crypto";
import { DataError } from "../errors.ts";
import { readAt } from "../util/read_at.ts";
import { type IdxHeader, parseIdxHeader } from "./idx.ts";
import type { FileRecord } from "./source_file.ts";

/** The longest IDX header: rank 255. */
const MAX_HEADER = 4 + 4 * 255;
const HASH_PIECE = 1 << 20;

/** An IDX file read by rows. */
export interface IdxRowFile {
  header: IdxHeader;
  file: FileRecord;
  /** Rows `indices` (first-dimension positions), in that order: uint8 [indices.length, …dims[1..]]. */
  read(indices: Int32Array): Uint8Array;
}

function open(path: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { read: true });
  } catch (e) {
    throw new DataError(path, {}, "a readable file", e instanceof Error ? e.message : String(e));
  }
}

/** `path` as rows on demand, or null when it is gzipped or not uint8 (read it whole with `readIdx`). */
export function openIdxRows(path: string): IdxRowFile | null {
  if (path.endsWith(".gz")) return null;
  let header: IdxHeader, file: FileRecord, stamp: string;
  {
    using f = open(path);
    const stat = f.statSync();
    const head = new Uint8Array(Math.min(stat.size, MAX_HEADER));
    readAt(f, head, 0, path);
    header = parseIdxHeader(head, stat.size, path);
    if (header.dtype !== "uint8") return null;
    const hash = createHash("sha256"), piece = new Uint8Array(HASH_PIECE);
    for (let at = 0; at < stat.size; at += HASH_PIECE) {
      const bytes = piece.subarray(0, Math.min(HASH_PIECE, stat.size - at));
      readAt(f, bytes, at, path);
      hash.update(bytes);
    }
    file = { path, sha256: hash.digest("hex"), bytes: stat.size };
    stamp = `${stat.size} ${stat.mtime?.getTime()}`;
  }
  const rowBytes = header.dims.slice(1).reduce((a, b) => a * b, 1);
  return {
    header,
    file,
    read(indices) {
      using f = open(path);
      // Re-hashing the file for every batch would cost a whole read each time: its size and
      // modification time stand for the bytes hashed when it was opened.
      const stat = f.statSync();
      if (`${stat.size} ${stat.mtime?.getTime()}` !== stamp) {
        throw new DataError(
          path,
          {},
          `the file hashed when the dataset was loaded (${file.sha256})`,
          "a changed file",
        );
      }
      const out = new Uint8Array(indices.length * rowBytes);
      for (let k = 0; k < indices.length;) {
        let run = 1;
        while (k + run < indices.length && indices[k + run] === indices[k] + run) run++;
        if (!(indices[k] >= 0 && indices[k] + run <= header.dims[0])) {
          throw new RangeError(
            `${path}: rows ${indices[k]}..${indices[k] + run - 1} outside [0, ${header.dims[0]})`,
          );
        }
        readAt(
          f,
          out.subarray(k * rowBytes, (k + run) * rowBytes),
          header.dataOffset + indices[k] * rowBytes,
          path,
        );
        k += run;
      }
      return out;
    },
  };
}
