/**
 * Writes a result document into a directory as `run` and `merge` leave it: result.json (signed
 * when a key is given), result.csv, result.md, and signer.jwks with the signer's public key, so
 * `verify --keys DIR/signer.jwks` works on it directly. Each file is written atomically.
 */
import { atomicWrite } from "../util/atomic_write.ts";
import type { ResultDocument } from "../results/schema.ts";
import { type KeyFile, signDocument } from "../results/signing.ts";
import { renderCsv, renderMarkdown } from "../results/table.ts";

/** The names written, in writing order (result.json last is not needed: each is atomic). */
export const RESULT_FILES = ["result.json", "result.csv", "result.md", "signer.jwks"] as const;

/** Signs (when `key` is given) and writes the document; returns what result.json holds. */
export async function writeResultFiles(
  out: string,
  document: ResultDocument,
  key?: KeyFile,
): Promise<ResultDocument> {
  const signed = key
    ? await signDocument(document as unknown as Record<string, unknown>, key) as unknown as ResultDocument
    : document;
  const text = (s: string) => new TextEncoder().encode(s);
  await atomicWrite(out, "result.json", text(JSON.stringify(signed, null, 2) + "\n"));
  await atomicWrite(out, "result.csv", text(renderCsv(document)));
  await atomicWrite(out, "result.md", text(renderMarkdown(document)));
  if (key) {
    await atomicWrite(out, "signer.jwks", text(JSON.stringify({ keys: [key.publicJwk] }, null, 2) + "\n"));
  }
  return signed;
}
