/**
 * Runs a matrix into a run directory, resumably:
 *
 *   OUT/run.json          the plan: matrix name, version, sha256, and the cell ids of this run
 *   OUT/cells/<id>.json   one finished row per cell, each written atomically before the next starts
 *   OUT/log.txt           what happened, appended
 *   OUT/result.json       the result document (signed when a key is given), plus .csv and .md
 *
 * Running again on the same directory skips finished cells, so a run killed at any point and
 * resumed ends with the same table as an uninterrupted one (timings aside).
 */
import { InputError, RunDirError } from "../errors.ts";
import type { Dataset, Split } from "../data/dataset.ts";
import { relative, resolve } from "node:path";
import { atomicWrite } from "../util/atomic_write.ts";
import { FeatureCache } from "../cache/feature_cache.ts";
import { type Cell, filterCells } from "../matrix/expand.ts";
import { selectShard } from "../matrix/shard.ts";
import { sha256Hex } from "../util/hash.ts";
import { expandMatrix, loadMatrix, parseMatrix } from "../catalogs.ts";
import { loadMethodFiles } from "../methods/user/method_files.ts";
import { type Provenance, RESULT_SCHEMA_ID, type ResultDocument, ResultRow } from "../results/schema.ts";
import type { KeyFile } from "../results/signing.ts";
import { summarizeRows } from "../results/table.ts";
import { selectBackend } from "../tensor/select.ts";
import {
  backbone,
  datasetSplits,
  newRunContext,
  prefetchCellFeatures,
  runCell,
  type RunContext,
} from "./cell.ts";
import { CellPool, defaultJobs, scheduleOrder } from "./cell_pool.ts";
import { manifestChange, recordDataset, writeManifests } from "./dataset_inputs.ts";
import { boundMallocArenas } from "../util/malloc_tuning.ts";
import { DEFAULT_EXECUTION_PROVIDER } from "../backbone/execution_provider.ts";
import { envFingerprint } from "./env.ts";
import { harnessInfo, PROJECT_ROOT } from "./harness.ts";
import { preflight } from "./preflight.ts";
import { processAlive } from "./process.ts";
import { checkRunDir, readTextIfExists, RunLock, type RunPlan } from "./run_dir.ts";
import { writeResultFiles } from "./result_files.ts";
import type { ResolvedShard } from "./scheduler_shard.ts";

export interface RunOptions {
  matrix: string;
  /**
   * The matrix's text, when there is no file at `matrix` (reproduce runs a result's embedded
   * spec); relative paths in it resolve from `matrix`'s directory.
   */
  matrixText?: string;
  out: string;
  backend?: string;
  /** onnxruntime execution provider for feature extraction (default "cpu"). */
  executionProvider?: string;
  /** Run one shard (`by` defaults to "cell", `source` to "flag"). */
  shard?: { index: number; count: number } & Partial<Pick<ResolvedShard, "by" | "source">>;
  filters?: string[];
  /** Run only these cell ids (reproduce). */
  cellIds?: ReadonlySet<string>;
  /** Signing key; `signer` describes it in the document. */
  key?: KeyFile;
  signer?: string;
  cacheDir?: string;
  /**
   * Cells computed at once (default: one per core, at most 4), each in its own worker; 1 runs them
   * in turn in this thread. Rows do not depend on it (every GEMM rounds as on GEMM_THREADS threads).
   */
  jobs?: number;
  /** Neither read nor write the feature cache (reproduce: a cache is as trusted as its machine). */
  noCache?: boolean;
  /**
   * Method-file sources by the `loss` value in the matrix (reproduce passes the ones a result
   * embeds); files are read only for the values missing here.
   */
  methodSources?: ReadonlyMap<string, string>;
  /** Progress lines: the run, each cell as it starts and ends, warnings (default: none). */
  progress?: (line: string) => void;
  /** A transient status line inside a cell (epochs, images, ETAs); "" clears it (default: none). */
  status?: (text: string) => void;
}

export interface RunSummary {
  out: string;
  cells: number;
  computed: number;
  resumed: number;
  document: ResultDocument;
  /** Feature cache counters of this run (extracted = misses + recomputed corrupt entries). */
  cache: { hits: number; extracted: number };
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m ? `${m}m${Math.round(s % 60).toString().padStart(2, "0")}s` : `${s.toFixed(1)}s`;
}

const UNPARSABLE = Symbol("unparsable");

/** A saved cell's JSON; null when absent, UNPARSABLE when truncated or not JSON. */
async function readSavedCell(path: string): Promise<unknown> {
  const text = await readTextIfExists(path);
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return UNPARSABLE;
  }
}

/** A project-relative path for result documents (absolute paths would differ across machines). */
function portablePath(path: string): string {
  const rel = relative(PROJECT_ROOT, path);
  return rel.startsWith("..") ? path : rel;
}

/** Runs (or resumes) the matrix; returns the assembled result document. */
export async function runMatrix(o: RunOptions): Promise<RunSummary> {
  const say = o.progress ?? (() => {});
  const parsed = o.matrixText === undefined
    ? await loadMatrix(o.matrix)
    : { ...parseMatrix(o.matrixText, o.matrix), file: resolve(o.matrix) };
  const matrixSha = sha256Hex(parsed.text);
  // Method files are loaded, checked and traced in the sandbox before anything is written.
  const methodFiles = await loadMethodFiles(parsed, { sources: o.methodSources });
  const all = expandMatrix(parsed.spec, methodFiles);
  let cells = all;
  if (o.filters?.length) cells = filterCells(cells, o.filters);
  const shard = o.shard &&
    {
      index: o.shard.index,
      count: o.shard.count,
      by: o.shard.by ?? "cell",
      source: o.shard.source ?? "flag",
    };
  if (shard) cells = selectShard(cells, shard);
  if (o.cellIds) cells = cells.filter((c) => o.cellIds!.has(c.id));
  const provenance: Provenance = {
    matrix_cells: all.length,
    ...(o.filters?.length ? { filters: [...o.filters] } : {}),
    ...(shard ? { shard } : {}),
    ...(o.cellIds ? { selected_cells: cells.length } : {}),
  };
  if (!cells.length) {
    const given = [o.filters?.length && "--filter", o.shard && "--shard", o.cellIds && "the cells asked for"]
      .filter(Boolean).join(" and ");
    throw new InputError(`${o.matrix}: no cells left after ${given}`);
  }

  const out = resolve(o.out);
  const cellsDir = `${out}/cells`;
  const plan: RunPlan = {
    matrix: { name: parsed.spec.name, version: parsed.spec.version, sha256: matrixSha },
    cells: cells.map((c) => c.id),
  };
  // Refused here, before any input is read, when OUT is another run's or not a run directory.
  await checkRunDir(out, plan);

  // Log lines wait in memory until the run directory exists (after the inputs are checked).
  const logSink: { file?: Deno.FsFile; pending: string[] } = { pending: [] };
  const log = (message: string) => {
    const line = `${new Date().toISOString()} ${message}\n`;
    if (logSink.file) logSink.file.writeSync(new TextEncoder().encode(line));
    else logSink.pending.push(line);
  };
  // What ran the cells, taken before any of them runs (the tree may change while a run goes on).
  const harness = await harnessInfo();
  const executionProvider = o.executionProvider ?? DEFAULT_EXECUTION_PROVIDER;
  const environment = {
    ...await envFingerprint(o.backend ?? "auto"),
    execution_provider: executionProvider,
  };
  const { backend, reason } = await selectBackend(o.backend ?? "auto");
  log(`run ${parsed.spec.name} ${parsed.spec.version} (${cells.length} cells) on ${reason}`);
  say(`invbench: ${parsed.spec.name} ${parsed.spec.version}: ${cells.length} cells; ${reason}`);
  const cache = new FeatureCache({
    dir: o.cacheDir,
    enabled: !o.noCache,
    onWarning: (m) => (log(`warning: ${m}`), say(`warning: ${m}`)),
  });
  const ctx: RunContext = newRunContext(
    backend,
    cache,
    parsed.file ? resolve(parsed.file, "..") : Deno.cwd(),
    log,
  );
  for (const f of methodFiles.values()) ctx.methodFiles.set(f.ref, f);
  ctx.executionProvider = executionProvider;

  // Every input is read and checked before anything is written (preflight.ts).
  let locked: RunLock | undefined, createdOut = false;
  try {
    plan.inputs = await preflight(parsed, cells, ctx);
    createdOut = !(await Deno.stat(out).catch(() => null));
    await Deno.mkdir(out, { recursive: true });
    locked = await RunLock.acquire(out);
    // Checked again under the lock (another run may have started here meanwhile), now with the
    // inputs' hashes: a resume never mixes cells of two models or data sets.
    const datasets = new Map<string, Record<Split, Dataset>>();
    for (const c of cells) datasets.set(c.dataset, await datasetSplits(ctx, c.spec.dataset));
    const previous = await checkRunDir(out, plan).catch(async (e) => {
      // A folder that changed since the cells were computed: its manifest names the first file.
      for (const [id, splits] of e instanceof RunDirError ? datasets : []) {
        const change = await manifestChange(out, id, splits);
        if (change) throw new RunDirError(`${e.message} (dataset ${id}: ${change})`);
      }
      throw e;
    });
    await Deno.mkdir(cellsDir, { recursive: true });
    if (!previous?.inputs) {
      await atomicWrite(out, "run.json", new TextEncoder().encode(JSON.stringify(plan, null, 2) + "\n"));
    }
    for (const [id, splits] of datasets) await writeManifests(out, id, splits);
  } catch (e) {
    await locked?.release();
    // A directory this run made and could not use is removed again (only when still empty).
    if (createdOut) {
      await Deno.remove(cellsDir).then(() => Deno.remove(out), () => Deno.remove(out)).catch(() => {});
    }
    for (const b of ctx.backbones.values()) await (await b.catch(() => null))?.close();
    throw e;
  }
  const lock = locked;
  if (cache.enabled) await cache.removeStaleTemps(processAlive);
  const logFile = await Deno.open(`${out}/log.txt`, { append: true, create: true });
  for (const line of logSink.pending.splice(0)) logFile.writeSync(new TextEncoder().encode(line));
  logSink.file = logFile;

  // Ctrl-C: every finished cell is already on disk; say how to resume and stop.
  const onInterrupt = () => {
    log("interrupted (SIGINT); finished cells are saved");
    say(`\ninterrupted: finished cells are saved in ${out}; run the same command again to resume`);
    lock.releaseSync();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);

  const rows = new Map<string, ResultRow>();
  let computed = 0, resumed = 0, spent = 0;
  // Seconds per finished cell by method: adapters cost far more than EC, so the overall ETA
  // estimates each remaining cell from cells of its own method where it can.
  const perMethod = new Map<string, { seconds: number; cells: number }>();
  const remainingSeconds = (left: readonly Cell[]): number => {
    const mean = computed ? spent / computed : NaN;
    let total = 0;
    for (const c of left) {
      const m = perMethod.get(c.method);
      total += m ? m.seconds / m.cells : mean;
    }
    return total / jobs;
  };
  const jobs = o.jobs ?? defaultJobs();
  // Workers need the cpu backend (one per worker), the cache (features are handed over through it)
  // and no method files (their sandboxes live in this process); otherwise cells run here in turn.
  const parallel = jobs > 1 && backend.name === "cpu" && cache.enabled && ctx.methodFiles.size === 0;
  let pool: CellPool | undefined;
  try {
    // Finished cells of an earlier run are read first; the rest are computed.
    const todo: { cell: Cell; index: number }[] = [];
    for (const [index, cell] of cells.entries()) {
      const file = `${cellsDir}/${cell.id}.json`;
      const saved = await readSavedCell(file);
      if (saved !== null) {
        const row = saved === UNPARSABLE ? null : ResultRow.safeParse(saved);
        if (row?.success && row.data.cell === cell.id) {
          rows.set(cell.id, row.data);
          resumed++;
          continue;
        }
        // Kept for inspection (a disk fault, a hand edit), never silently overwritten.
        await Deno.rename(file, `${file}.unreadable`);
        log(`cell ${cell.id}: ${file} is not a valid row; moved to ${file}.unreadable and recomputing`);
        say(`warning: ${file} is not a valid row; moved to ${file}.unreadable and recomputing`);
      }
      todo.push({ cell, index });
    }
    if (parallel && todo.length > 1) {
      todo.splice(0, todo.length, ...scheduleOrder(todo));
      log(`running ${Math.min(jobs, todo.length)} cells at once (--jobs ${jobs})`);
      boundMallocArenas();
      pool = new CellPool({
        jobs: Math.min(jobs, todo.length),
        cacheDir: cache.dir,
        baseDir: ctx.baseDir,
        executionProvider,
        checkedSplits: [...ctx.checkedSplits],
        log,
        warn: (m) => (log(`warning: ${m}`), say(`warning: ${m}`)),
      });
    }
    // The standard features of each cell go into the cache in cell order, ahead of the workers.
    const prefetched = new Set<string>();
    let prefetchChain: Promise<void> = Promise.resolve();
    const prefetch = pool
      ? todo.map(({ cell }) =>
        prefetchChain = prefetchChain.then(() => prefetchCellFeatures(cell, ctx, prefetched))
      )
      : [];
    prefetch.forEach((p) => p.catch(() => {})); // awaited (and thrown) by the cell that needs it
    // This thread extracts nothing after the last prefetch: its sessions' memory goes back.
    if (pool) {
      prefetchChain.then(async () => {
        for (const b of ctx.backbones.values()) await (await b).close();
      }).catch(() => {});
    }
    let next = 0;
    const lane = async () => {
      while (next < todo.length) {
        const at = next++;
        const { cell, index } = todo[at];
        const label =
          `${cell.dataset} ${cell.backbone} ${cell.augmentation} ${cell.method} ${cell.classifier} seed ${cell.seed}`;
        const status = o.status;
        const progress = status
          ? (done: number, total: number, what: string) => {
            const elapsed = (performance.now() - started) / 1000;
            const cellEta = (elapsed / done) * (total - done);
            status(
              `  ${done}/${total} ${what}: cell ETA ${formatSeconds(cellEta)}, overall ETA ${
                formatSeconds(cellEta + remainingSeconds(todo.slice(next).map((t) => t.cell)))
              }`,
            );
          }
          : undefined;
        let started = performance.now();
        let row: ResultRow;
        if (pool) {
          await prefetch[at];
          started = performance.now();
          say(`[${index + 1}/${cells.length}] ${label} …`);
          row = await pool.run(cell, { progress });
        } else {
          say(`[${index + 1}/${cells.length}] ${label} …`);
          ctx.progress = progress;
          row = await runCell(cell, ctx);
        }
        o.status?.("");
        await atomicWrite(cellsDir, `${cell.id}.json`, new TextEncoder().encode(JSON.stringify(row) + "\n"));
        rows.set(cell.id, row);
        computed++;
        const seconds = (performance.now() - started) / 1000;
        spent += seconds;
        const m = perMethod.get(cell.method) ?? { seconds: 0, cells: 0 };
        perMethod.set(cell.method, { seconds: m.seconds + seconds, cells: m.cells + 1 });
        const eta = remainingSeconds(todo.slice(next).map((t) => t.cell));
        const pct = (v: number | null) => (v === null ? "–" : `${(100 * v).toFixed(2)}%`);
        const accs = row.metrics.acc_clean === null && row.metrics.acc_aug === null
          ? row.reason ?? "no metrics"
          : `clean ${pct(row.metrics.acc_clean)}, aug ${pct(row.metrics.acc_aug)}`;
        log(`cell ${cell.id} ${label}: ${row.status} ${accs} in ${seconds.toFixed(1)}s`);
        say(
          `[${index + 1}/${cells.length}] ${label}: ${row.status}, ${accs} (${formatSeconds(seconds)}, ETA ${
            formatSeconds(eta)
          })`,
        );
      }
    };
    // The first failure stops the run (finished cells are on disk; the others are recomputed
    // when it is resumed).
    await Promise.all(Array.from({ length: pool ? Math.min(jobs, todo.length) : 1 }, lane));
  } catch (e) {
    pool?.close();
    await lock.release();
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  pool?.close();
  log(`${computed} cells computed, ${resumed} resumed from earlier runs in ${cellsDir}`);
  const cacheCounts = {
    hits: cache.stats.hits + (pool?.cache.hits ?? 0),
    extracted: cache.computed + (pool?.cache.extracted ?? 0),
  };
  log(
    `feature cache ${cache.dir}: ${cacheCounts.extracted} feature sets extracted, ${cacheCounts.hits} hits`,
  );

  const document = await assemble(
    parsed.spec as unknown as Record<string, unknown>,
    parsed.file,
    plan,
    cells,
    rows,
    ctx,
    {
      harness,
      environment: environment as unknown as Record<string, unknown>,
      provenance,
      ...(o.key ? { signer: o.signer ?? `key ${o.key.kid}` } : {}),
    },
  );
  let signed: ResultDocument;
  try {
    signed = await writeResultFiles(out, document, o.key);
  } finally {
    await lock.release();
  }
  log(`wrote result.json (${o.key ? `signed by ${o.key.kid}` : "unsigned"}), result.csv, result.md`);
  logFile.close();
  for (const b of ctx.backbones.values()) await (await b).close();
  return {
    out,
    cells: cells.length,
    computed,
    resumed,
    document: signed as ResultDocument,
    cache: cacheCounts,
  };
}

async function assemble(
  spec: Record<string, unknown>,
  matrixFile: string,
  plan: RunPlan,
  cells: readonly Cell[],
  rowsById: Map<string, ResultRow>,
  ctx: RunContext,
  meta: Pick<ResultDocument, "harness" | "environment" | "signer" | "provenance">,
): Promise<ResultDocument> {
  const rows = cells.map((c) => rowsById.get(c.id)!);
  const datasets: ResultDocument["inputs"]["datasets"] = {};
  const backbones: ResultDocument["inputs"]["backbones"] = {};
  for (const c of cells) {
    if (!datasets[c.dataset]) {
      const splits = await datasetSplits(ctx, c.spec.dataset);
      datasets[c.dataset] = recordDataset(c.dataset, splits, portablePath);
    }
    if (!backbones[c.backbone]) {
      const b = await backbone(ctx, c.spec.backbone);
      backbones[c.backbone] = {
        path: portablePath(b.path),
        sha256: b.sha256,
        ...(b.externalData.length
          ? { external_data: b.externalData.map((f) => ({ path: portablePath(f.path), sha256: f.sha256 })) }
          : {}),
      };
    }
  }
  // Each method file the cells ran, so the document alone can be verified and re-run.
  const used = new Set(cells.map((c) => c.spec.method.kind === "adapter" ? c.spec.method.loss : ""));
  const methodFiles = [...ctx.methodFiles.values()].filter((f) => used.has(f.ref)).map((f) => f.method);
  return {
    schema: RESULT_SCHEMA_ID,
    matrix: { ...plan.matrix, path: portablePath(matrixFile), spec },
    ...(methodFiles.length ? { method_files: methodFiles } : {}),
    harness: meta.harness,
    environment: meta.environment,
    inputs: { datasets, backbones },
    provenance: meta.provenance,
    ...(meta.signer ? { signer: meta.signer } : {}),
    rows,
    summary: summarizeRows(rows),
  };
}
