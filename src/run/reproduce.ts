/**
 * Re-runs a sample of a result's cells here and compares them with the result: the maintainer's
 * "does this reproduce on another machine" check. The matrix file must be the one the result
 * ran (same sha256); the cells are chosen by a fixed Philox stream, so two maintainers asked
 * for N cells re-run the same N.
 */
import { InputError } from "../errors.ts";
import { resolve } from "node:path";
import { sha256Hex } from "../util/hash.ts";
import { compareResults, type Comparison, type Tolerance } from "../results/compare.ts";
import type { ResultDocument } from "../results/schema.ts";
import { CounterRng } from "../rng/philox.ts";
import { PROJECT_ROOT } from "./harness.ts";
import { runMatrix } from "./runner.ts";

export interface ReproduceOptions {
  cells: number;
  /** Matrix file; default the path recorded in the result (relative to the project root). */
  matrix?: string;
  out: string;
  backend?: string;
  tolerance: Tolerance;
  /** Progress lines and the transient status line of the re-run (runMatrix's; default: none). */
  progress?: (line: string) => void;
  status?: (text: string) => void;
  /**
   * Feature cache to use; default none. A cache entry is checked against accidental corruption
   * only, and anyone who can write the cache can rewrite an entry with a matching header, so a
   * reproduction recomputes every feature unless it is asked to trust a cache.
   */
  cacheDir?: string;
}

/** The ids of the `n` cells to re-run. */
export function sampleCells(doc: ResultDocument, n: number): string[] {
  const ids = doc.rows.map((r) => r.cell);
  const order = new CounterRng(0, "reproduce").permutation(ids.length);
  return Array.from(order.subarray(0, Math.min(n, ids.length)), (i) => ids[i]);
}

export async function reproduce(doc: ResultDocument, o: ReproduceOptions): Promise<Comparison> {
  if (!Number.isInteger(o.cells) || o.cells < 1) {
    throw new InputError(`--cells ${o.cells}: expected a positive integer`);
  }
  const matrix = o.matrix ?? resolve(PROJECT_ROOT, doc.matrix.path);
  const sha = sha256Hex(await Deno.readTextFile(matrix));
  if (sha !== doc.matrix.sha256) {
    throw new InputError(
      `${matrix}: sha256 ${sha.slice(0, 12)}… differs from the result's matrix (${
        doc.matrix.sha256.slice(0, 12)
      }…); ` +
        `pass --matrix with the file the result ran`,
    );
  }
  const chosen = sampleCells(doc, o.cells);
  const rerun = await runMatrix({
    matrix,
    out: o.out,
    backend: o.backend,
    cellIds: new Set(chosen),
    progress: o.progress,
    status: o.status,
    cacheDir: o.cacheDir,
    noCache: o.cacheDir === undefined,
  });
  return compareResults(doc, rerun.document, o.tolerance, new Set(chosen));
}
