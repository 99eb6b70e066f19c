/**
 * Re-runs a sample of a result's cells here and compares them with the result: the maintainer's
 * "does this reproduce on another machine" check. The result's embedded spec is run (same cells,
 * whatever defaults this harness has), or with `matrix` that file, which must be the one the
 * result ran (same sha256); method files always come from the result itself. The cells are chosen by a
 * fixed Philox stream, so two maintainers asked for N cells re-run the same N.
 */
import { InputError } from "../errors.ts";
import { resolve } from "node:path";
import { sha256Hex } from "../util/hash.ts";
import { compareResults, type Comparison, type Tolerance } from "../results/compare.ts";
import type { ResultDocument } from "../results/schema.ts";
import { CounterRng } from "../rng/philox.ts";
import { PROJECT_ROOT } from "./harness.ts";
import { exactnessCaveat } from "./numeric_platform.ts";
import { runMatrix } from "./runner.ts";

export interface ReproduceOptions {
  cells: number;
  /** Matrix file; default the path recorded in the result (relative to the project root). */
  matrix?: string;
  out: string;
  backend?: string;
  /** onnxruntime execution provider for feature extraction (default "cpu"). */
  executionProvider?: string;
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

/** A comparison of the re-run cells, with which cells they were and the re-run's document. */
export interface Reproduction extends Comparison {
  cells: string[];
  rerun: ResultDocument;
  /** Why bit-for-bit agreement is not to be expected here, or null where it is. */
  caveat: string | null;
}

export async function reproduce(doc: ResultDocument, o: ReproduceOptions): Promise<Reproduction> {
  if (!Number.isInteger(o.cells) || o.cells < 1) {
    throw new InputError(`--cells ${o.cells}: expected a positive integer`);
  }
  const matrix = o.matrix ?? resolve(PROJECT_ROOT, doc.matrix.path);
  if (o.matrix) {
    const sha = sha256Hex(await Deno.readTextFile(matrix));
    if (sha !== doc.matrix.sha256) {
      throw new InputError(
        `${matrix}: sha256 ${sha.slice(0, 12)}… differs from the result's matrix (${
          doc.matrix.sha256.slice(0, 12)
        }…); ` +
          `pass --matrix with the file the result ran`,
      );
    }
  }
  // The document's own parsed spec (every default it ran with written out), read as if it sat
  // where the file did (its relative paths resolve from there), gives the cells it ran even after
  // a default changed (e.g. view_pool) or where the file is not here (an outside submission);
  // with --matrix, the file itself.
  const text = o.matrix ? undefined : JSON.stringify(doc.matrix.spec, null, 2);
  const chosen = sampleCells(doc, o.cells);
  // Method files come from the document itself (their sha256 is checked on reading it), never
  // from whatever files with those names this checkout holds.
  const methodSources = new Map((doc.method_files ?? []).map((m) => [m.path, m.source]));
  const rerun = await runMatrix({
    matrix,
    ...(text === undefined ? {} : { matrixText: text }),
    out: o.out,
    backend: o.backend,
    executionProvider: o.executionProvider,
    cellIds: new Set(chosen),
    methodSources,
    progress: o.progress,
    status: o.status,
    cacheDir: o.cacheDir,
    noCache: o.cacheDir === undefined,
  });
  const comparison = compareResults(doc, rerun.document, o.tolerance, new Set(chosen));
  const caveat = exactnessCaveat(doc.environment, rerun.document.environment);
  return { ...comparison, cells: chosen, rerun: rerun.document, caveat };
}
