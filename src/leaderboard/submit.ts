/**
 * `invbench submit`: checks a signed result (check.ts) and files it as `DIR/<content hash>.json`.
 * The file name comes only from the hash of the signed content, never from anything the
 * submission says; the same content submitted again (even re-signed by another trusted key) is
 * a duplicate and is reported, not filed twice.
 */
import { join } from "node:path";
import type { Jwks } from "../results/signing.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { checkSubmissionFile } from "./check.ts";
import type { Track } from "./tracks.ts";

export interface SubmitOptions {
  /** The submissions directory (created when missing). */
  to: string;
  trusted: Jwks;
  tracks: readonly Track[];
}

export interface SubmitOutcome {
  status: "filed" | "duplicate";
  hash: string;
  /** The filed document (for a duplicate: the one already there). */
  path: string;
  kid: string;
  /** Signed by a trusted key; otherwise self-reported. */
  trusted: boolean;
  tracks: string[];
}

/** Whether anything (a file, directory or link) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Checks `file` and files it; throws a SubmissionError (with its reason) when refused. */
export async function submitResult(file: string, o: SubmitOptions): Promise<SubmitOutcome> {
  const s = await checkSubmissionFile(file, o.trusted, o.tracks);
  await Deno.mkdir(o.to, { recursive: true });
  const path = join(o.to, `${s.hash}.json`);
  const outcome = { hash: s.hash, path, kid: s.kid, trusted: s.trusted, tracks: s.tracks.map((t) => t.id) };
  if (await exists(path)) return { status: "duplicate", ...outcome };
  // Atomic: a reader of the directory sees the whole document or none.
  await atomicWrite(o.to, `${s.hash}.json`, JSON.stringify(s.raw, null, 2) + "\n");
  return { status: "filed", ...outcome };
}

/** The one-line report of a submission's outcome. */
export function describeOutcome(file: string, o: SubmitOutcome): string {
  return o.status === "filed"
    ? `${file}: accepted${o.trusted ? "" : " as self-reported"} (signed by ${o.kid}${
      o.trusted ? ", a trusted key" : ""
    }; tracks ${o.tracks.join(", ")}) → ${o.path}`
    : `${file}: duplicate: the same content is already filed as ${o.path}; nothing written`;
}
