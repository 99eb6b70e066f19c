/**
 * The checks every submission passes, at `submit` and again at every `leaderboard build`: a
 * JSON result document, signed (EdDSA) by a trusted key or, self-reported, by any key whose public
 * half the signature carries, valid against the result schema, whose summary is what its rows give,
 * which belongs to at least one track, and which has a row for every cell of each of its tracks'
 * groups (coverage.ts). A failure is a
 * `SubmissionError` whose `reason` names the check.
 */
import { InputError, ResultFormatError, SubmissionError, VerificationError } from "../errors.ts";
import { duplicateKeyProblem } from "../results/duplicate_keys.ts";
import { contentHash } from "../results/attestation.ts";
import { readResult, type ResultDocument } from "../results/schema.ts";
import { type Jwks, readJwks, type VerifyFailure, verifySigner } from "../results/signing.ts";
import { summarizeRows } from "../results/table.ts";
import { explainIncomplete } from "./coverage.ts";
import { explainNoTrack, matchTracks, type Track } from "./tracks.ts";

export type RefusalReason =
  | VerifyFailure
  | "unreadable"
  | "invalid-document"
  | "inconsistent-summary"
  | "no-track"
  | "incomplete"
  | "duplicate";

export interface CheckedSubmission {
  /** Where it was read from (a local path, never derived from the document). */
  file: string;
  /** The document exactly as parsed (what the signature covers). */
  raw: Record<string, unknown>;
  doc: ResultDocument;
  /** RFC 7638 thumbprint of the key that signed it (its author's identity). */
  kid: string;
  /** Signed by a trusted key; otherwise the result is self-reported. */
  trusted: boolean;
  /** sha256 of the signed content (RFC 8785 canonical JSON without `signature`): its name. */
  hash: string;
  tracks: Track[];
}

export { contentHash };

const SUMMARY_TOLERANCE = 1e-9;

/** Differences between the document's summary and the one its rows give (empty when none). */
export function summaryProblems(doc: ResultDocument): string[] {
  const key = (
    s: { dataset: string; backbone: string; augmentation: string; method: string; classifier: string },
  ) => JSON.stringify([s.dataset, s.backbone, s.augmentation, s.method, s.classifier]);
  const expected = new Map(summarizeRows(doc.rows).map((s) => [key(s), s]));
  const given = new Map(doc.summary.map((s) => [key(s), s]));
  const problems: string[] = [];
  for (const [k, e] of expected) {
    const g = given.get(k);
    const label = JSON.parse(k).join("/");
    if (!g) {
      problems.push(`summary lacks ${label}`);
      continue;
    }
    if (g.failed !== e.failed || g.seeds.join() !== e.seeds.join()) {
      problems.push(`summary ${label}: seeds or failed count differ from the rows`);
    }
    const names = new Set([...Object.keys(e.metrics), ...Object.keys(g.metrics)]);
    for (const name of names) {
      const a = e.metrics[name], b = g.metrics[name];
      const values = (s: typeof a) => (s ? [s.n, s.mean, s.sd, s.ci95[0], s.ci95[1]] : []);
      const va = values(a), vb = values(b);
      const same = va.length === vb.length &&
        va.every((v, i) => Math.abs(v - vb[i]) <= SUMMARY_TOLERANCE * Math.max(1, Math.abs(v)));
      if (!same) problems.push(`summary ${label}: ${name} is not what the rows give`);
    }
  }
  for (const k of given.keys()) {
    if (!expected.has(k)) problems.push(`summary has ${JSON.parse(k).join("/")}, which no row has`);
  }
  return problems;
}

/** Runs every check on the text of a submission read from `file`. */
export async function checkSubmission(
  text: string,
  file: string,
  trusted: Jwks,
  tracks: readonly Track[],
): Promise<CheckedSubmission> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SubmissionError("unreadable", file, `not JSON: ${(e as Error).message}`);
  }
  const duplicate = duplicateKeyProblem(text);
  if (duplicate) throw new SubmissionError("invalid-document", file, duplicate);
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new SubmissionError("unreadable", file, "not a JSON object");
  }
  let signer: { kid: string; trusted: boolean };
  try {
    signer = await verifySigner(raw, trusted);
  } catch (e) {
    if (e instanceof VerificationError) throw new SubmissionError(e.reason, file, e.message);
    throw e;
  }
  let doc: ResultDocument;
  try {
    doc = readResult(raw, file);
  } catch (e) {
    if (e instanceof ResultFormatError) {
      throw new SubmissionError("invalid-document", file, e.message.split("\n").slice(1).join("; ").trim());
    }
    throw e;
  }
  const problems = summaryProblems(doc);
  if (problems.length) {
    throw new SubmissionError(
      "inconsistent-summary",
      file,
      `${problems.slice(0, 3).join("; ")}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ""}`,
    );
  }
  const matched = matchTracks(doc, tracks);
  if (!matched.length) throw new SubmissionError("no-track", file, explainNoTrack(doc, tracks));
  // Every matched track's group must be complete: a shard or a cut-down result must not rank.
  // (Only for results of the track's own matrix: a matrix with methods added, matched by protocol, is
  // not held to it yet; docs/methods.md submits a one-seed first look of such a matrix.)
  const incomplete = matched.filter((t) => t.matrix.sha256 === doc.matrix.sha256)
    .map((t) => explainIncomplete(doc, t)).filter((p) => p !== null);
  if (incomplete.length) throw new SubmissionError("incomplete", file, incomplete.join("; "));
  return { file, raw, doc, ...signer, hash: contentHash(raw), tracks: matched };
}

/** Reads `file` and checks it; a missing or unreadable file is refused as "unreadable". */
export async function checkSubmissionFile(
  file: string,
  trusted: Jwks,
  tracks: readonly Track[],
): Promise<CheckedSubmission> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new SubmissionError("unreadable", file, `cannot read the file: ${(e as Error).message}`);
  }
  return checkSubmission(text, file, trusted, tracks);
}

/** Reads the trusted keys (a JWKS of public Ed25519 keys); any problem is a InputError. */
export async function readTrustedKeys(path: string): Promise<Jwks> {
  try {
    return await readJwks(path);
  } catch (e) {
    const message = (e as Error).message;
    throw new InputError(message.startsWith(path) ? message : `${path}: ${message}`);
  }
}
