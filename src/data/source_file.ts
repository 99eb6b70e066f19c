/**
 * Reading a dataset file whole, and recording what was read: every loader goes through here so a
 * dataset's `files` list and `contentHash` cover exactly the bytes that were parsed.
 */
import { sha256Hex } from "../util/hash.ts";
import { DataError } from "../errors.ts";
import { gunzipSync } from "node:zlib";

/** One file a dataset was read from. */
export interface FileRecord {
  /** The path as given to the loader (not hashed: moving a dataset keeps its hash). */
  path: string;
  /** sha256 (hex) of the file's bytes as stored on disk (before any gunzip). */
  sha256: string;
  /** Size in bytes on disk. */
  bytes: number;
}

/** A file's (decompressed) bytes plus its record. */
export interface SourceFile {
  bytes: Uint8Array;
  record: FileRecord;
}

/**
 * Reads `path` whole. Files ending in `.gz` are gunzipped (the official MNIST-style releases ship
 * that way); the hash is of the stored bytes, so it matches a published checksum.
 */
export function readSourceFile(path: string): SourceFile {
  let raw: Uint8Array;
  try {
    raw = Deno.readFileSync(path);
  } catch (e) {
    throw new DataError(path, {}, "a readable file", e instanceof Error ? e.message : String(e));
  }
  const record = { path, sha256: sha256Hex(raw), bytes: raw.byteLength };
  if (!path.endsWith(".gz")) return { bytes: raw, record };
  try {
    return { bytes: new Uint8Array(gunzipSync(raw)), record };
  } catch (e) {
    throw new DataError(path, { offset: 0 }, "a gzip stream", e instanceof Error ? e.message : String(e));
  }
}
