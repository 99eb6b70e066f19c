/**
 * The files a dataset split was read from under one folder (an image folder's images), held
 * compactly and recorded by one hash: per file a name relative to the folder, its sha256 (32 bytes
 * in one array, not a hex string per file) and its size. A result records the folder by the
 * manifest's sha256, count and total size, and the run writes the manifest itself beside the
 * result as JSON lines, one per file in read order:
 *
 *   {"path":"train/3/00012.png","sha256":"<64 hex digits>","bytes":251}
 *
 * The manifest's sha256 is that of those lines as written (UTF-8), so a verifier hashes the file
 * and, when a folder no longer matches, `manifestDifference` names the first file that differs.
 * Names are relative ("/"-separated), so moving the folder keeps the hash; a changed, added,
 * removed or renamed file changes it.
 */
import { createHash } from "node:crypto";
import { DataError } from "../errors.ts";
import { atomicWriteWith, writeAll } from "../util/atomic_write.ts";

/** Plain data (it crosses to the cell workers by structured clone). */
export interface FileManifest {
  /** The folder the names are relative to (not hashed). */
  root: string;
  /** Each file's path relative to `root`, "/"-separated, in read order. */
  names: string[];
  /** sha256 of each file, 32 bytes per file. */
  sha256: Uint8Array;
  /** Size of each file in bytes. */
  bytes: Float64Array;
}

/** What a result records of a manifest. */
export interface ManifestSummary {
  sha256: string;
  files: number;
  bytes: number;
}

/** An empty manifest of `n` files under `root` (names, hashes and sizes filled in by the reader). */
export function newManifest(root: string, names: string[]): FileManifest {
  return { root, names, sha256: new Uint8Array(32 * names.length), bytes: new Float64Array(names.length) };
}

/** File i's sha256 as 64 hex digits. */
export function fileSha256(m: FileManifest, i: number): string {
  let hex = "";
  for (let k = 32 * i; k < 32 * (i + 1); k++) hex += m.sha256[k].toString(16).padStart(2, "0");
  return hex;
}

/** File i's manifest line (with its newline). */
function line(m: FileManifest, i: number): string {
  return JSON.stringify({ path: m.names[i], sha256: fileSha256(m, i), bytes: m.bytes[i] }) + "\n";
}

/** Lines per piece when hashing or writing (a piece is held as one string). */
const PIECE = 4096;

function* pieces(m: FileManifest): Generator<string> {
  for (let i = 0; i < m.names.length; i += PIECE) {
    let text = "";
    for (let j = i; j < Math.min(i + PIECE, m.names.length); j++) text += line(m, j);
    yield text;
  }
}

/** The manifest's sha256 (of its lines as written), count and total size. */
export function manifestSummary(m: FileManifest): ManifestSummary {
  const h = createHash("sha256");
  for (const piece of pieces(m)) h.update(piece);
  return { sha256: h.digest("hex"), files: m.names.length, bytes: m.bytes.reduce((a, b) => a + b, 0) };
}

/** Writes the manifest to `dir/name` atomically, piece by piece. */
export async function writeManifest(m: FileManifest, dir: string, name: string): Promise<void> {
  const encoder = new TextEncoder();
  await atomicWriteWith(dir, name, async (file) => {
    for (const piece of pieces(m)) await writeAll(file, encoder.encode(piece));
  });
}

/** One line of a manifest file, as read back. */
export interface ManifestEntry {
  path: string;
  sha256: string;
  bytes: number;
}

/** Reads a manifest file's lines; a line that is not an entry is an error naming its line. */
export function parseManifest(text: string, file: string): ManifestEntry[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((l, i) => {
    let e: Partial<ManifestEntry> | null = null;
    try {
      e = JSON.parse(l);
    } catch { /* reported below */ }
    if (
      typeof e?.path !== "string" || typeof e.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(e.sha256) ||
      typeof e.bytes !== "number"
    ) {
      throw new DataError(
        file,
        { field: `line ${i + 1}` },
        '{"path", "sha256", "bytes"} of one file',
        l.slice(0, 80),
      );
    }
    return { path: e.path, sha256: e.sha256, bytes: e.bytes };
  });
}

/**
 * The first difference between a recorded manifest and the files now read, naming the file:
 * "train/3/00012.png: changed (sha256 …)", "…: removed", "…: added"; null when they are equal.
 */
export function manifestDifference(recorded: readonly ManifestEntry[], now: FileManifest): string | null {
  const nowIndex = new Map(now.names.map((name, i) => [name, i]));
  for (const e of recorded) {
    const i = nowIndex.get(e.path);
    if (i === undefined) return `${e.path}: removed (or renamed)`;
    const sha = fileSha256(now, i);
    if (sha !== e.sha256) {
      return `${e.path}: changed (sha256 ${e.sha256.slice(0, 12)}… recorded, ${sha.slice(0, 12)}… now)`;
    }
  }
  const recordedNames = new Set(recorded.map((e) => e.path));
  const added = now.names.find((name) => !recordedNames.has(name));
  if (added !== undefined) return `${added}: added (or renamed)`;
  if (recorded.some((e, i) => e.path !== now.names[i])) return "the same files in another order";
  return null;
}
