/**
 * `invbench merge SHARD_DIR... --out DIR`: joins the run directories of a matrix's shards into one
 * result, as if one process had run them all.
 *
 * Every check runs before anything is written; the first failure is a MergeError (exit 2) naming
 * the shard directory and, where one is at fault, the cell:
 * - each shard finished (its result.json exists and is a valid result document);
 * - all shards ran the same matrix (name, version, sha256), the same harness commit and the same
 *   `--filter`s;
 * - every cell file a shard's result lists exists, is a valid row of that cell, equals the row in
 *   the shard's result.json, and is a cell of the matrix (re-expanded from the recorded spec);
 * - no cell comes from two shards, and together they cover every cell of the (filtered) matrix;
 * - the shards read the same inputs (same sha256 for a dataset or backbone id).
 *
 * The merged document keeps each shard's harness and environment (`provenance.merged_from`), its
 * rows are in matrix order with the summary recomputed from them, so it equals a one-process run
 * of the matrix (timings aside). The merging machine needs no dataset or backbone.
 */
import { basename, resolve } from "node:path";
import { expandMatrix, MatrixSpec } from "../catalogs.ts";
import { MergeError, ResultFormatError } from "../errors.ts";
import { type Cell, filterCells } from "../matrix/expand.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { splitIntoShards } from "../matrix/shard.ts";
import { readResult, type ResultDocument, ResultRow } from "../results/schema.ts";
import type { KeyFile } from "../results/signing.ts";
import { summarizeRows } from "../results/table.ts";
import { copyManifests, MANIFESTS_DIR } from "./dataset_inputs.ts";
import { RESULT_FILES, writeResultFiles } from "./result_files.ts";
import { readTextIfExists } from "./run_dir.ts";

export interface MergeOptions {
  /** The shards' run directories. */
  shards: readonly string[];
  out: string;
  key?: KeyFile;
  signer?: string;
}

export interface MergeSummary {
  out: string;
  shards: number;
  cells: number;
  document: ResultDocument;
}

interface LoadedShard {
  dir: string;
  doc: ResultDocument;
}

async function loadShard(dir: string): Promise<LoadedShard> {
  const text = await readTextIfExists(`${dir}/result.json`);
  if (text === null) {
    throw new MergeError(
      dir,
      undefined,
      "no result.json: the shard has not finished (run it again to resume it)",
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new MergeError(dir, undefined, `result.json is not JSON: ${(e as Error).message}`);
  }
  try {
    return { dir, doc: readResult(raw, `${dir}/result.json`) };
  } catch (e) {
    if (e instanceof ResultFormatError) {
      throw new MergeError(dir, undefined, e.message.replace(/\n\s*/g, " "));
    }
    throw e;
  }
}

const label = (c: Pick<Cell, "dataset" | "backbone" | "augmentation" | "method" | "classifier" | "seed">) =>
  `${c.dataset}/${c.backbone}/${c.augmentation}/${c.method}/${c.classifier} seed ${c.seed}`;

/** Reads and checks one cell file of a shard against its result row and the matrix's cell. */
async function checkCellFile(shard: LoadedShard, row: ResultRow, cell: Cell | undefined): Promise<void> {
  const dir = shard.dir;
  if (!cell) {
    throw new MergeError(
      dir,
      row.cell,
      `is not a cell of matrix ${shard.doc.matrix.name} (after its filters)`,
    );
  }
  const path = `${dir}/cells/${row.cell}.json`;
  const text = await readTextIfExists(path);
  if (text === null) throw new MergeError(dir, row.cell, `${path} is missing`);
  let saved: ResultRow;
  try {
    const parsed = ResultRow.safeParse(JSON.parse(text));
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new Error(`${first.path.map(String).join(".") || "(top level)"}: ${first.message}`);
    }
    saved = parsed.data;
  } catch (e) {
    throw new MergeError(dir, row.cell, `${path} is not a valid cell row (${(e as Error).message})`);
  }
  if (saved.cell !== row.cell) throw new MergeError(dir, row.cell, `${path} holds cell ${saved.cell}`);
  for (const f of ["dataset", "backbone", "augmentation", "method", "classifier", "seed"] as const) {
    if (saved[f] !== cell[f]) {
      throw new MergeError(
        dir,
        row.cell,
        `${path}: ${f} is ${saved[f]}, but the matrix's cell has ${cell[f]}`,
      );
    }
  }
  if (canonicalJson(saved) !== canonicalJson(row)) {
    throw new MergeError(dir, row.cell, `${path} differs from the row in ${dir}/result.json`);
  }
}

/** The output directory must be new, empty, or hold only an earlier merge's files. */
async function checkOut(out: string): Promise<void> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(out)) names.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const foreign = names.filter((n) =>
    !(RESULT_FILES as readonly string[]).includes(n) && n !== MANIFESTS_DIR
  );
  let earlierMerge = false;
  if (names.includes("result.json")) {
    try {
      earlierMerge = !!JSON.parse(await Deno.readTextFile(`${out}/result.json`))?.provenance?.merged_from;
    } catch { /* not a merge's result */ }
  }
  if (foreign.length || (names.length && !earlierMerge)) {
    throw new MergeError(
      out,
      undefined,
      `--out ${out} holds files that are not an earlier merge's (${names.slice(0, 5).join(", ")}); ` +
        "choose a new or empty directory",
    );
  }
}

/** Checks the shards and writes the merged result into `o.out`. */
export async function mergeShards(o: MergeOptions): Promise<MergeSummary> {
  if (!o.shards.length) throw new MergeError("merge", undefined, "no shard directories given");
  const out = resolve(o.out);
  await checkOut(out);
  const shards: LoadedShard[] = [];
  for (const dir of o.shards) shards.push(await loadShard(dir));

  // Same matrix, harness commit and filters as the first shard.
  const ref = shards[0];
  const m = ref.doc.matrix;
  const filters = ref.doc.provenance?.filters ?? [];
  for (const s of shards.slice(1)) {
    const sm = s.doc.matrix;
    if (sm.sha256 !== m.sha256 || sm.name !== m.name || sm.version !== m.version) {
      throw new MergeError(
        s.dir,
        undefined,
        `ran matrix ${sm.name} ${sm.version} (sha256 ${
          sm.sha256.slice(0, 12)
        }…), not ${m.name} ${m.version} ` +
          `(sha256 ${m.sha256.slice(0, 12)}…) like ${ref.dir}`,
      );
    }
    if (s.doc.harness.commit !== ref.doc.harness.commit) {
      throw new MergeError(
        s.dir,
        undefined,
        `ran harness commit ${s.doc.harness.commit}, not ${ref.doc.harness.commit} like ${ref.dir}`,
      );
    }
    const f = s.doc.provenance?.filters ?? [];
    if (canonicalJson(f) !== canonicalJson(filters)) {
      throw new MergeError(
        s.dir,
        undefined,
        `ran --filter ${JSON.stringify(f)}, not ${JSON.stringify(filters)}`,
      );
    }
  }

  // Not yet: re-expanding a matrix of method files needs them loaded in the sandbox.
  const withFiles = shards.find((s) => s.doc.method_files?.length);
  if (withFiles) {
    throw new MergeError(
      withFiles.dir,
      undefined,
      "ran method files; merging such shards is not supported yet",
    );
  }

  // The cells the merge must cover, from the matrix as the shards recorded it.
  const spec = MatrixSpec.safeParse(m.spec);
  if (!spec.success) {
    throw new MergeError(ref.dir, undefined, "result.json records a matrix spec that does not parse");
  }
  const all = expandMatrix(spec.data);
  const expected = filters.length ? filterCells(all, filters) : all;
  const byId = new Map(expected.map((c) => [c.id, c]));

  const owner = new Map<string, string>();
  const rows = new Map<string, ResultRow>();
  for (const s of shards) {
    for (const row of s.doc.rows) {
      const first = owner.get(row.cell);
      if (first) throw new MergeError(s.dir, row.cell, `is also in shard ${first} (the shards overlap)`);
      await checkCellFile(s, row, byId.get(row.cell));
      owner.set(row.cell, s.dir);
      rows.set(row.cell, row);
    }
  }
  const missing = expected.filter((c) => !rows.has(c.id));
  if (missing.length) {
    // Name the shard that should have held the first missing cell when the shards agree on a split.
    const splits = new Set(shards.map((s) =>
      canonicalJson(
        s.doc.provenance?.shard && {
          count: s.doc.provenance.shard.count,
          by: s.doc.provenance.shard.by,
        },
      )
    ));
    let where = "no shard given holds it";
    const sh = ref.doc.provenance?.shard;
    if (splits.size === 1 && sh) {
      const index = splitIntoShards(expected, sh.count, sh.by).findIndex((cs) =>
        cs.some((c) => c.id === missing[0].id)
      );
      where =
        `it belongs to shard ${index}/${sh.count} (--shard-by ${sh.by}), which is not among the shards given`;
    }
    throw new MergeError(
      shards.map((s) => s.dir).join(", "),
      missing[0].id,
      `is missing (${label(missing[0])}): ${where}; ${missing.length} of ${expected.length} cells missing`,
    );
  }

  // Inputs: the union, and one sha256 per id.
  const inputs: ResultDocument["inputs"] = { datasets: {}, backbones: {} };
  for (const s of shards) {
    for (const kind of ["datasets", "backbones"] as const) {
      for (const [id, value] of Object.entries(s.doc.inputs[kind])) {
        const known = (inputs[kind] as Record<string, unknown>)[id];
        if (known && canonicalJson(known) !== canonicalJson(value)) {
          throw new MergeError(
            s.dir,
            undefined,
            `read ${kind} "${id}" with other content than the shards before it`,
          );
        }
        (inputs[kind] as Record<string, unknown>)[id] = value;
      }
    }
  }

  const ordered = [...shards].sort((a, b) =>
    (a.doc.provenance?.shard?.index ?? 0) - (b.doc.provenance?.shard?.index ?? 0)
  );
  const environments = new Set(shards.map((s) => canonicalJson(s.doc.environment)));
  const mergedRows = expected.map((c) => rows.get(c.id)!);
  const document: ResultDocument = {
    schema: ref.doc.schema,
    matrix: m,
    harness: { ...ref.doc.harness, dirty: shards.some((s) => s.doc.harness.dirty) },
    // One environment when the shards agree; otherwise the first shard's (each is in merged_from).
    environment: environments.size === 1 ? ref.doc.environment : ordered[0].doc.environment,
    inputs,
    provenance: {
      matrix_cells: all.length,
      ...(filters.length ? { filters } : {}),
      merged_from: ordered.map((s) => ({
        directory: basename(resolve(s.dir)),
        ...(s.doc.provenance?.shard ? { shard: s.doc.provenance.shard } : {}),
        harness: s.doc.harness,
        environment: s.doc.environment,
        cells: s.doc.rows.map((r) => r.cell),
      })),
    },
    ...(o.key ? { signer: o.signer ?? `key ${o.key.kid}` } : {}),
    rows: mergedRows,
    summary: summarizeRows(mergedRows),
  };
  // The datasets' manifests, the same in every shard that read them (`inputs` agree).
  for (const s of shards) await copyManifests(s.dir, out, s.doc);
  const written = await writeResultFiles(out, document, o.key);
  return { out, shards: shards.length, cells: mergedRows.length, document: written };
}
