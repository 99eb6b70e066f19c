/**
 * Content-addressed cache of feature matrices (docs/architecture.md, "a cache entry's key is the hash of
 * everything that determines it; a cache hit is re-verified by its content hash; a corrupt entry
 * is recomputed, never trusted").
 *
 * Key: sha256 over the canonical JSON (sorted keys, no whitespace) of {@link FeatureKeyFields}
 * plus the cache format version. Entry: one file `<key>.feat` in the cache directory:
 *
 * ```
 * offset  size  field
 *      0     8  magic "INVBFEAT"
 *      8     4  format version (u32 LE)
 *     12     4  payload offset in bytes (u32 LE, a multiple of 16)
 *     16     4  rows (u32 LE)
 *     20     4  cols (u32 LE)
 *     24    32  sha256 of the payload
 *     56     4  length L of the key JSON (u32 LE)
 *     60     L  the canonical key JSON (UTF-8), whose sha256 is the file name
 *      …        zero padding up to the payload offset
 *  off  4·r·c  payload: float32 LE, row-major [rows, cols]
 * ```
 *
 * Writes are atomic (src/util/atomic_write.ts): a temp file `.<key>.feat.<host>.<pid>-<random>.tmp` in the
 * same directory is written, fsynced and renamed over the entry name, then the directory is fsynced.
 * A writer killed half-way leaves only a temp file, which is never read and never listed as an
 * entry. On every hit the whole entry is re-verified (magic, version, key hash, size, payload
 * sha256); a corrupt or truncated entry is deleted, reported through `onWarning`, and recomputed.
 */
import { createHash } from "node:crypto";
import { atomicWrite, atomicWriteWith, TEMP_HOST_TAG, writeAll } from "../util/atomic_write.ts";
import {
  collect,
  type FeatureRows,
  type FeatureStream,
  fileRows,
  littleEndianBytes,
  memoryRows,
  spillRows,
} from "./feature_rows.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { sha256Bytes, sha256Hex } from "../util/hash.ts";

/** Bump when the entry layout or the meaning of a key field changes: old entries become misses. */
export const CACHE_FORMAT_VERSION = 1;
const MAGIC = "INVBFEAT";
const FIXED_HEADER = 60;
const ENTRY_EXT = ".feat";
const KEY_RE = /^[0-9a-f]{64}$/;
/** The temp file of an interrupted entry write (`atomicWrite`): the cache's own, never another program's. */
/** `.<key>[.feat][.<host tag>].<pid>-<random>.tmp` (temp files written before host tags have none). */
const ENTRY_TEMP_RE = /^\.[0-9a-f]{64}(?:\.feat)?\.(?:([0-9a-f]{8})\.)?(\d+)-[0-9a-f]+\.tmp$/;

/** Which rows of a split were used: a contiguous range, or an explicit list (by hash). */
export type IndexSelection =
  | { start: number; count: number }
  | { count: number; sha256: string };

/**
 * Everything that determines a feature matrix. Method and classifier are deliberately absent:
 * every method and classifier of a matrix that shares (backbone, data, augmentation, seed, view)
 * shares one feature set.
 */
export interface FeatureKeyFields {
  /**
   * The backbone: sha256 of the ONNX bytes, the output used, and the runtime that ran it; for a
   * model with external data also `content` (over every file it reads), and the execution
   * provider where it is not the CPU.
   */
  backbone: {
    sha256: string;
    output: string;
    runtime: string;
    content?: string;
    execution_provider?: string;
  };
  /** The dataset's content hash. */
  dataset: string;
  /** "train" or "test" (or any split name the dataset has). */
  split: string;
  /** The rows of the split, in order. */
  indices: IndexSelection;
  /** The preprocessing spec (layout, size, channels, resize, mean, std). */
  preprocess: Record<string, unknown>;
  /** The augmentation spec (kind and parameters, plus the augmentation code's version), or "clean". */
  augmentation: Record<string, unknown> | "clean";
  /** The seed of the augmentation stream; null for clean features (the seed cannot change them). */
  seed: number | null;
  /** The augmented view index; null for clean features. */
  view: number | null;
}

/** A row-major float32 matrix. */
export interface FeatureMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export interface CacheStats {
  /** Entries found and verified. */
  hits: number;
  /** Entries absent: computed and written. */
  misses: number;
  /** Entries present but corrupt or truncated: deleted, recomputed and rewritten. */
  recomputedCorrupt: number;
  /** Entries written. */
  writes: number;
  /** Writes that failed (the computed features were still returned). */
  writeErrors: number;
}

export interface FeatureCacheOptions {
  /** Cache directory; default INVBENCH_CACHE_DIR, else `.cache/invbench/features` in the project. */
  dir?: string;
  /** false: compute every time, never read or write (the counters still count misses). */
  enabled?: boolean;
  /** Receives warnings (corrupt entries, failed writes); default: console.warn to stderr. */
  onWarning?: (message: string) => void;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The project root's `.cache/invbench/features` (or the cwd's, when this module is not a file). */
function projectCacheDir(): string {
  const url = new URL("../../.cache/invbench/features", import.meta.url);
  if (url.protocol === "file:") {
    const path = decodeURIComponent(url.pathname);
    return Deno.build.os === "windows" ? path.replace(/^\/([A-Za-z]:)/, "$1") : path;
  }
  return `${Deno.cwd()}/.cache/invbench/features`;
}

/** The cache directory: INVBENCH_CACHE_DIR when set, else `.cache/invbench/features` in the project. */
export function defaultCacheDir(): string {
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("INVBENCH_CACHE_DIR");
  } catch {
    // no --allow-env: use the project default
  }
  return fromEnv && fromEnv.length > 0 ? fromEnv : projectCacheDir();
}

/** Describes the rows used: {start, count} when contiguous, else {count, sha256 of the u32 list}. */
export function describeIndices(indices: ArrayLike<number>): IndexSelection {
  const n = indices.length;
  let contiguous = true;
  for (let i = 0; i < n; i++) {
    const v = indices[i];
    if (!Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) {
      throw new RangeError(`index ${i} is ${v}: expected a non-negative integer below 2^32`);
    }
    if (v !== indices[0] + i) contiguous = false;
  }
  if (contiguous) return { start: n > 0 ? indices[0] : 0, count: n };
  const list = new Uint32Array(n);
  for (let i = 0; i < n; i++) list[i] = indices[i];
  return { count: n, sha256: sha256Hex(littleEndianBytes(list)) };
}

/** The canonical key JSON (format version included) of the given fields. */
export function featureKeyJson(fields: FeatureKeyFields): string {
  const clean = fields.augmentation === "clean";
  return canonicalJson({
    format: CACHE_FORMAT_VERSION,
    kind: "invbench.features",
    backbone: fields.backbone,
    dataset: fields.dataset,
    split: fields.split,
    indices: fields.indices,
    preprocess: fields.preprocess,
    augmentation: fields.augmentation,
    // Clean features do not depend on the seed or the view: one entry serves every seed.
    seed: clean ? null : fields.seed,
    view: clean ? null : fields.view,
  });
}

/** The cache key: sha256 (hex) of {@link featureKeyJson}. */
export function featureKey(fields: FeatureKeyFields): string {
  return sha256Hex(featureKeyJson(fields));
}

function fromLittleEndianBytes(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  const dst = new Uint8Array(out.buffer);
  const src = bytes.subarray(offset, offset + count * 4);
  if (littleEndian) dst.set(src);
  else {for (let i = 0; i < src.length; i += 4) {
      [dst[i], dst[i + 1], dst[i + 2], dst[i + 3]] = [src[i + 3], src[i + 2], src[i + 1], src[i]];
    }}
  return out;
}

/** An entry's header up to its payload offset, with the payload's sha256 (zeros until it is known). */
function encodeHeader(keyJson: string, rows: number, cols: number, payloadSha256: Uint8Array): Uint8Array {
  const keyBytes = new TextEncoder().encode(keyJson);
  const payloadOffset = Math.ceil((FIXED_HEADER + keyBytes.length) / 16) * 16;
  const out = new Uint8Array(payloadOffset);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  dv.setUint32(8, CACHE_FORMAT_VERSION, true);
  dv.setUint32(12, payloadOffset, true);
  dv.setUint32(16, rows, true);
  dv.setUint32(20, cols, true);
  out.set(payloadSha256, 24);
  dv.setUint32(56, keyBytes.length, true);
  out.set(keyBytes, FIXED_HEADER);
  return out;
}

/** Serialises an entry (header + payload). */
export function encodeEntry(keyJson: string, m: FeatureMatrix): Uint8Array {
  const payload = littleEndianBytes(m.data.subarray(0, m.rows * m.cols));
  const header = encodeHeader(keyJson, m.rows, m.cols, sha256Bytes(payload));
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}

interface ParsedHeader {
  version: number;
  payloadOffset: number;
  rows: number;
  cols: number;
  payloadSha256: string;
  keyJson: string;
}

/** Parses and checks a header; returns a reason string when it is not a valid header. */
function parseHeader(bytes: Uint8Array, fileSize: number, key: string): ParsedHeader | string {
  if (bytes.length < FIXED_HEADER) return `truncated header (${bytes.length} bytes < ${FIXED_HEADER})`;
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) return "bad magic";
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== CACHE_FORMAT_VERSION) return `format version ${version}, expected ${CACHE_FORMAT_VERSION}`;
  const payloadOffset = dv.getUint32(12, true);
  const rows = dv.getUint32(16, true), cols = dv.getUint32(20, true);
  const keyLength = dv.getUint32(56, true);
  if (payloadOffset % 16 !== 0 || payloadOffset < FIXED_HEADER + keyLength) return "bad payload offset";
  if (bytes.length < FIXED_HEADER + keyLength) return "truncated header (key JSON)";
  const keyJson = new TextDecoder().decode(bytes.subarray(FIXED_HEADER, FIXED_HEADER + keyLength));
  if (sha256Hex(keyJson) !== key) return "key JSON does not hash to the file name";
  const expected = payloadOffset + rows * cols * 4;
  if (fileSize !== expected) {
    return `size ${fileSize} bytes, expected ${expected} for ${rows}×${cols} float32`;
  }
  const payloadSha256 = Array.from(bytes.subarray(24, 56), (b) => b.toString(16).padStart(2, "0")).join("");
  return { version, payloadOffset, rows, cols, payloadSha256, keyJson };
}

/**
 * Decodes and fully verifies an entry's bytes; returns the matrix or a reason string.
 * Exported for tests and tools.
 */
export function decodeEntry(bytes: Uint8Array, key: string): FeatureMatrix | string {
  const h = parseHeader(bytes, bytes.length, key);
  if (typeof h === "string") return h;
  const payload = bytes.subarray(h.payloadOffset);
  if (sha256Hex(payload) !== h.payloadSha256) return "payload sha256 mismatch";
  return { rows: h.rows, cols: h.cols, data: fromLittleEndianBytes(bytes, h.payloadOffset, h.rows * h.cols) };
}

/** The content-addressed feature cache of one directory, with hit/miss counters. */
export class FeatureCache {
  readonly dir: string;
  readonly enabled: boolean;
  readonly stats: CacheStats = { hits: 0, misses: 0, recomputedCorrupt: 0, writes: 0, writeErrors: 0 };
  readonly #warn: (message: string) => void;
  readonly #inflight = new Map<string, Promise<FeatureMatrix>>();
  readonly #inflightRows = new Map<string, Promise<EntryState>>();

  constructor(options: FeatureCacheOptions = {}) {
    this.dir = options.dir ?? defaultCacheDir();
    this.enabled = options.enabled ?? true;
    this.#warn = options.onWarning ?? ((m) => console.warn(`invbench: warning: ${m}`));
  }

  /** Feature sets computed so far (misses + recomputed corrupt entries). */
  get computed(): number {
    return this.stats.misses + this.stats.recomputedCorrupt;
  }

  /** Resets every counter to 0. */
  resetStats(): void {
    Object.assign(this.stats, { hits: 0, misses: 0, recomputedCorrupt: 0, writes: 0, writeErrors: 0 });
  }

  /** Path of the entry file for a key. */
  entryPath(key: string): string {
    return `${this.dir}/${key}${ENTRY_EXT}`;
  }

  /**
   * Reads and verifies the entry of `key`. Returns null when absent; "corrupt" when the entry
   * was present but failed verification (it is then deleted and a warning reported).
   */
  async read(key: string): Promise<FeatureMatrix | null | "corrupt"> {
    if (!KEY_RE.test(key)) throw new RangeError(`cache key ${JSON.stringify(key)}: expected 64 hex digits`);
    const path = this.entryPath(key);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      // Absent, or the cache directory is not a directory (the write will fail with a warning).
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
      throw e;
    }
    const m = decodeEntry(bytes, key);
    if (typeof m !== "string") return m;
    this.#warn(`feature cache entry ${path} is corrupt (${m}); deleting it and recomputing`);
    await Deno.remove(path).catch(() => {});
    return "corrupt";
  }

  /**
   * Removes temp files of entry writes on this host whose process is gone (`alive` says which pids
   * still run), so writers killed half-way do not leave them behind for ever; other hosts' temp
   * files in a shared cache are left to them. Returns how many were removed.
   */
  async removeStaleTemps(alive: (pid: number) => boolean): Promise<number> {
    let removed = 0;
    try {
      for await (const e of Deno.readDir(this.dir)) {
        const m = e.isFile ? ENTRY_TEMP_RE.exec(e.name) : null;
        // Another node's temp file (a shared cache): its pid says nothing about this machine.
        if (m && (m[1] === undefined || m[1] === TEMP_HOST_TAG) && !alive(Number(m[2]))) {
          await Deno.remove(`${this.dir}/${e.name}`).then(() => removed++, () => {});
        }
      }
    } catch {
      // No cache directory (yet), or not a directory: nothing to clean.
    }
    return removed;
  }

  /** Writes an entry atomically. */
  async write(key: string, keyJson: string, m: FeatureMatrix): Promise<void> {
    await atomicWrite(this.dir, `${key}${ENTRY_EXT}`, encodeEntry(keyJson, m));
    this.stats.writes++;
  }

  /** Writes an entry atomically from a stream of row chunks, hashing the payload as it goes. */
  async writeStream(key: string, keyJson: string, stream: FeatureStream): Promise<void> {
    const { rows, cols } = stream;
    if (
      !Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0 || rows > 0xffffffff
    ) {
      throw new RangeError(`feature matrix shape [${rows}, ${cols}] is not a valid shape`);
    }
    const header = encodeHeader(keyJson, rows, cols, new Uint8Array(32));
    await atomicWriteWith(this.dir, `${key}${ENTRY_EXT}`, async (file) => {
      await writeAll(file, header);
      const hash = createHash("sha256");
      let values = 0;
      for await (const chunk of stream.chunks()) {
        const bytes = littleEndianBytes(chunk);
        hash.update(bytes);
        await writeAll(file, bytes);
        values += chunk.length;
      }
      if (values !== rows * cols) {
        throw new RangeError(`feature stream gave ${values} values, expected ${rows}×${cols}`);
      }
      await file.seek(24, Deno.SeekMode.Start);
      await writeAll(file, new Uint8Array(hash.digest()));
    });
    this.stats.writes++;
  }

  /**
   * The features for `fields` as rows read on demand from the verified cache entry, computed by
   * `compute` and streamed into the entry when absent or corrupt: memory holds a chunk of the
   * extraction, never the whole matrix. Without a cache the rows go to a private temp file
   * (`spillRows`); when the entry cannot be written they are held in memory.
   */
  async openRows(fields: FeatureKeyFields, compute: () => FeatureStream): Promise<FeatureRows> {
    const keyJson = featureKeyJson(fields);
    const key = sha256Hex(keyJson);
    if (!this.enabled) {
      this.stats.misses++;
      return await spillRows(compute());
    }
    let state = this.#inflightRows.get(key);
    if (state) this.stats.hits++;
    else {
      state = this.#ensureEntry(key, keyJson, compute).finally(() => this.#inflightRows.delete(key));
      this.#inflightRows.set(key, state);
    }
    const s = await state;
    if (s.kind === "memory") return memoryRows(s.data, s.cols);
    return fileRows(this.entryPath(key), s.payloadOffset, s.rows, s.cols);
  }

  async #ensureEntry(key: string, keyJson: string, compute: () => FeatureStream): Promise<EntryState> {
    const path = this.entryPath(key);
    const found = await verifyEntryFile(path, key);
    if (typeof found === "object") {
      this.stats.hits++;
      return { kind: "file", ...found };
    }
    if (found !== "absent") {
      this.#warn(`feature cache entry ${path} is corrupt (${found}); deleting it and recomputing`);
      await Deno.remove(path).catch(() => {});
      this.stats.recomputedCorrupt++;
    } else this.stats.misses++;
    let computing = false;
    const stream = compute();
    const tracked: FeatureStream = {
      rows: stream.rows,
      cols: stream.cols,
      chunks: async function* () {
        computing = true;
        for await (const chunk of stream.chunks()) {
          computing = false;
          yield chunk;
          computing = true;
        }
        computing = false;
      },
    };
    try {
      await this.writeStream(key, keyJson, tracked);
    } catch (e) {
      if (computing) throw e; // the extraction failed, not the write
      if (!this.stats.writeErrors++) {
        this.#warn(
          `could not write feature cache entry ${path}: ${(e as Error).message} ` +
            `(further failed writes to this cache are counted, not repeated)`,
        );
      }
      return { kind: "memory", data: await collect(compute()), cols: stream.cols };
    }
    const header = encodeHeader(keyJson, stream.rows, stream.cols, new Uint8Array(32));
    return { kind: "file", payloadOffset: header.length, rows: stream.rows, cols: stream.cols };
  }

  /**
   * The features for `fields`: from the cache when a verified entry exists, else from `compute`
   * (then written). Concurrent calls for the same key in this process share one computation.
   */
  getOrCompute(fields: FeatureKeyFields, compute: () => Promise<FeatureMatrix>): Promise<FeatureMatrix> {
    const keyJson = featureKeyJson(fields);
    const key = sha256Hex(keyJson);
    const pending = this.#inflight.get(key);
    if (pending) {
      this.stats.hits++;
      return pending;
    }
    const p = this.#getOrCompute(key, keyJson, compute).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #getOrCompute(
    key: string,
    keyJson: string,
    compute: () => Promise<FeatureMatrix>,
  ): Promise<FeatureMatrix> {
    if (!this.enabled) {
      this.stats.misses++;
      return checkMatrix(await compute());
    }
    const found = await this.read(key);
    if (found && found !== "corrupt") {
      this.stats.hits++;
      return found;
    }
    if (found === "corrupt") this.stats.recomputedCorrupt++;
    else this.stats.misses++;
    const m = checkMatrix(await compute());
    try {
      await this.write(key, keyJson, m);
    } catch (e) {
      // Once per cache: an unwritable directory fails every write the same way.
      if (!this.stats.writeErrors++) {
        this.#warn(
          `could not write feature cache entry ${this.entryPath(key)}: ${(e as Error).message} ` +
            `(further failed writes to this cache are counted, not repeated)`,
        );
      }
    }
    return m;
  }
}

/** Where `openRows` finds an entry's rows. */
type EntryState =
  | { kind: "file"; payloadOffset: number; rows: number; cols: number }
  | { kind: "memory"; data: Float32Array; cols: number };

/**
 * Verifies the entry file of `key` (header, size, payload sha256) reading it in 1 MiB pieces:
 * its shape and payload offset, "absent", or why it is corrupt.
 */
async function verifyEntryFile(
  path: string,
  key: string,
): Promise<{ payloadOffset: number; rows: number; cols: number } | string> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return "absent";
    throw e;
  }
  try {
    const size = (await file.stat()).size;
    const buf = new Uint8Array(1 << 20);
    let got = 0;
    const head = new Uint8Array(Math.min(size, 64 * 1024));
    while (got < head.length) {
      const r = await file.read(head.subarray(got));
      if (r === null) break;
      got += r;
    }
    const h = parseHeader(head.subarray(0, got), size, key);
    if (typeof h === "string") return h;
    const hash = createHash("sha256");
    await file.seek(h.payloadOffset, Deno.SeekMode.Start);
    for (let r = await file.read(buf); r !== null; r = await file.read(buf)) hash.update(buf.subarray(0, r));
    if (hash.digest("hex") !== h.payloadSha256) return "payload sha256 mismatch";
    return { payloadOffset: h.payloadOffset, rows: h.rows, cols: h.cols };
  } finally {
    file.close();
  }
}

function checkMatrix(m: FeatureMatrix): FeatureMatrix {
  if (!Number.isSafeInteger(m.rows) || !Number.isSafeInteger(m.cols) || m.rows < 0 || m.cols < 0) {
    throw new RangeError(`feature matrix shape [${m.rows}, ${m.cols}] is not a valid shape`);
  }
  if (m.rows > 0xffffffff || m.cols > 0xffffffff) {
    throw new RangeError(`feature matrix [${m.rows}, ${m.cols}] too large`);
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new RangeError(`feature matrix data has ${m.data.length} values, expected ${m.rows}×${m.cols}`);
  }
  return m;
}

/** One cache entry as listed by `invbench cache ls`. */
export interface CacheEntryInfo {
  key: string;
  path: string;
  bytes: number;
  modified: Date | null;
  /** "ok" (header checked; payload hash too when listed with verify), or "corrupt: reason". */
  status: string;
  rows?: number;
  cols?: number;
  /** The parsed key fields (backbone, dataset, split, augmentation, seed, view, …). */
  fields?: Record<string, unknown>;
}

export interface CacheListing {
  dir: string;
  entries: CacheEntryInfo[];
  /** Total bytes of the entries. */
  bytes: number;
  /** Temp files of interrupted writes (never used; `clearCache` removes them). */
  tempFiles: number;
}

/**
 * Lists the entries of a cache directory (sorted by key). Temp files of interrupted writes and
 * unrelated files are not entries. `verify: true` also re-hashes every payload.
 */
export async function listCache(
  dir = defaultCacheDir(),
  options: { verify?: boolean } = {},
): Promise<CacheListing> {
  const listing: CacheListing = { dir, entries: [], bytes: 0, tempFiles: 0 };
  let names: string[];
  try {
    names = [];
    for await (const e of Deno.readDir(dir)) if (e.isFile) names.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return listing;
    throw e;
  }
  for (const name of names.sort()) {
    if (ENTRY_TEMP_RE.test(name)) {
      listing.tempFiles++;
      continue;
    }
    const key = name.slice(0, -ENTRY_EXT.length);
    if (!name.endsWith(ENTRY_EXT) || !KEY_RE.test(key)) continue;
    const path = `${dir}/${name}`;
    const stat = await Deno.stat(path);
    const info: CacheEntryInfo = { key, path, bytes: stat.size, modified: stat.mtime, status: "ok" };
    let bytes: Uint8Array;
    if (options.verify) bytes = await Deno.readFile(path);
    else {
      const f = await Deno.open(path, { read: true });
      try {
        const head = new Uint8Array(Math.min(stat.size, 64 * 1024));
        let got = 0;
        while (got < head.length) {
          const r = await f.read(head.subarray(got));
          if (r === null) break;
          got += r;
        }
        bytes = head.subarray(0, got);
      } finally {
        f.close();
      }
    }
    const h = parseHeader(bytes, stat.size, key);
    if (typeof h === "string") info.status = `corrupt: ${h}`;
    else {
      info.rows = h.rows;
      info.cols = h.cols;
      try {
        info.fields = JSON.parse(h.keyJson);
      } catch { /* hashed correctly, so this cannot happen */ }
      if (options.verify && sha256Hex(bytes.subarray(h.payloadOffset)) !== h.payloadSha256) {
        info.status = "corrupt: payload sha256 mismatch";
      }
    }
    listing.entries.push(info);
    listing.bytes += info.bytes;
  }
  return listing;
}

/**
 * Removes every entry and every temp file from a cache directory (only files this cache wrote:
 * `<64 hex>.feat` and `.<…>.tmp`; anything else in the directory is left alone).
 */
export async function clearCache(
  dir = defaultCacheDir(),
): Promise<{ dir: string; removed: number; bytes: number }> {
  const result = { dir, removed: 0, bytes: 0 };
  let names: string[];
  try {
    names = [];
    for await (const e of Deno.readDir(dir)) if (e.isFile) names.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return result;
    throw e;
  }
  for (const name of names) {
    const isTemp = ENTRY_TEMP_RE.test(name);
    const isEntry = name.endsWith(ENTRY_EXT) && KEY_RE.test(name.slice(0, -ENTRY_EXT.length));
    if (!isTemp && !isEntry) continue;
    const path = `${dir}/${name}`;
    try {
      const { size } = await Deno.stat(path);
      await Deno.remove(path);
      result.removed++;
      result.bytes += size;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return result;
}
