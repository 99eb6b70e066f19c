/**
 * Writes the files a launcher generates (job scripts, manifests). Running the launcher again with
 * the same options rewrites the same bytes, which is allowed (re-submitting resumes the shards);
 * a file in the way with other content (another matrix, other options, or the user's own) is
 * refused before anything is written.
 */
import { dirname } from "node:path";
import { InputError } from "../errors.ts";
import { readTextIfExists } from "../run/run_dir.ts";

/** Writes every `[path, text]`, or none of them when one path holds other content. */
export async function writeGenerated(files: readonly (readonly [string, string])[]): Promise<void> {
  for (const [path, text] of files) {
    const existing = await readTextIfExists(path);
    if (existing !== null && existing !== text) {
      throw new InputError(`${path} exists with other content; use another --out directory`);
    }
  }
  for (const [path, text] of files) {
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, text);
  }
}
