/**
 * Cells on several cores at once: `jobs` workers (Deno Workers, one V8 isolate each in this
 * process), each running `runCell` with its own CPU backend and its own RunContext over the shared
 * feature cache. A cell's row is a function of its spec alone, never of which worker ran it or
 * when: randomness is keyed by purpose, every worker's GEMM rounds as on the same thread
 * count (ort_gemm.ts's GEMM_THREADS), and the runner writes rows by cell id and assembles them in matrix order.
 *
 * What a cell computes stays in `runCell` (cell.ts); this file only moves cells and rows between
 * threads. The runner puts each cell's standard features in the cache before handing it over
 * (`prefetchCellFeatures`), so two workers never extract the same features at once.
 */
import { InvbenchError } from "../errors.ts";
import { cellTrainingCost, groupKey } from "../matrix/cost.ts";
import type { CheckedSplit } from "../data/source.ts";
import type { Cell } from "../matrix/expand.ts";
import type { ResultRow } from "../results/schema.ts";

/** Default number of cells run at once: one per core, at most this many (memory grows per worker). */
export const MAX_DEFAULT_JOBS = 4;

/** The default `--jobs`: the cores, at most MAX_DEFAULT_JOBS. */
export function defaultJobs(): number {
  return Math.max(1, Math.min(MAX_DEFAULT_JOBS, navigator.hardwareConcurrency | 0));
}

/**
 * The order cells are handed to workers: costliest first (adapters before the rest, so cheap cells
 * fill the last gaps instead of one long cell running alone at the end), and among equals by
 * feature group and seed, so the first cells share the first features extracted and the
 * extraction runs ahead of the workers. Rows do not depend on it.
 */
export function scheduleOrder<T extends { cell: Cell }>(items: readonly T[]): T[] {
  const groups = new Map<string, number>();
  const keyed = items.map((item, at) => {
    const g = `${groupKey(item.cell)}/${item.cell.seed}`;
    if (!groups.has(g)) groups.set(g, groups.size);
    return { item, at, cost: cellTrainingCost(item.cell), group: groups.get(g)! };
  });
  keyed.sort((a, b) => b.cost - a.cost || a.group - b.group || a.at - b.at);
  return keyed.map((k) => k.item);
}

/** What a worker needs to build its RunContext. */
export interface WorkerInit {
  type: "init";
  cacheDir: string;
  baseDir: string;
  /** Workers in the pool (each holds its share of the buffers a one-thread run would). */
  jobs: number;
  /** onnxruntime execution provider of the backbones (features the cache does not hold yet). */
  executionProvider?: string;
  /** The splits the run has read and checked (RunContext.checkedSplits), not read again. */
  checkedSplits: [string, CheckedSplit][];
}

export type WorkerRequest = WorkerInit | { type: "cell"; cell: Cell };

/** An error as it crosses the thread boundary: enough to rebuild its exit code and stack. */
export interface SentError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  invbench: boolean;
}

export type WorkerReply =
  | { type: "row"; row: ResultRow; cache: { hits: number; extracted: number } }
  | { type: "error"; error: SentError }
  | { type: "log"; message: string }
  | { type: "warning"; message: string }
  | { type: "progress"; done: number; total: number; what: string };

export function sendableError(e: unknown): SentError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return {
      name: e.name,
      message: e.message,
      stack: e.stack,
      ...(typeof code === "string" ? { code } : {}),
      invbench: e instanceof InvbenchError,
    };
  }
  return { name: "Error", message: String(e), invbench: false };
}

/** The error a worker sent, rebuilt so that `exitCodeOf` gives what the original would have. */
export function receivedError(s: SentError): Error {
  const e = s.invbench ? new InvbenchError(s.message) : new Error(s.message);
  e.name = s.name;
  if (s.stack) e.stack = s.stack;
  if (s.code !== undefined) Object.defineProperty(e, "code", { value: s.code });
  return e;
}

export interface CellPoolOptions extends Omit<WorkerInit, "type"> {
  log: (message: string) => void;
  warn: (message: string) => void;
}

/** Per-cell callbacks: the cell's progress inside it (epochs, images). */
export interface CellCallbacks {
  progress?: (done: number, total: number, what: string) => void;
}

interface Lane {
  worker: Worker;
  busy: boolean;
  current?: {
    resolve: (row: ResultRow) => void;
    reject: (e: Error) => void;
    callbacks: CellCallbacks;
  };
}

/** `jobs` workers; `run` hands a cell to a free one (callers keep at most `jobs` cells in flight). */
export class CellPool {
  readonly #lanes: Lane[] = [];
  /** Feature cache counters summed over the workers' cells. */
  readonly cache = { hits: 0, extracted: 0 };

  constructor(o: CellPoolOptions) {
    for (let i = 0; i < o.jobs; i++) {
      const worker = new Worker(new URL("./cell_worker.ts", import.meta.url), { type: "module" });
      const lane: Lane = { worker, busy: false };
      worker.onmessage = (e: MessageEvent<WorkerReply>) => {
        const m = e.data;
        if (m.type === "log") o.log(m.message);
        else if (m.type === "warning") o.warn(m.message);
        else if (m.type === "progress") lane.current?.callbacks.progress?.(m.done, m.total, m.what);
        else {
          const current = lane.current;
          lane.current = undefined;
          lane.busy = false;
          if (m.type === "row") {
            this.cache.hits += m.cache.hits;
            this.cache.extracted += m.cache.extracted;
            current?.resolve(m.row);
          } else current?.reject(receivedError(m.error));
        }
      };
      // An uncaught failure inside the worker (not a cell's error, which is sent as a reply).
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        const current = lane.current;
        lane.current = undefined;
        lane.busy = false;
        current?.reject(new Error(`cell worker ${i}: ${e.message}`));
      };
      worker.postMessage(
        {
          type: "init",
          cacheDir: o.cacheDir,
          baseDir: o.baseDir,
          jobs: o.jobs,
          executionProvider: o.executionProvider,
          checkedSplits: o.checkedSplits,
        } satisfies WorkerRequest,
      );
      this.#lanes.push(lane);
    }
  }

  /** Runs `cell` on a free worker; throws when none is free (a caller bug). */
  run(cell: Cell, callbacks: CellCallbacks = {}): Promise<ResultRow> {
    const lane = this.#lanes.find((l) => !l.busy);
    if (!lane) throw new Error("CellPool.run: every worker is busy");
    lane.busy = true;
    return new Promise<ResultRow>((resolve, reject) => {
      lane.current = { resolve, reject, callbacks };
      lane.worker.postMessage({ type: "cell", cell } satisfies WorkerRequest);
    });
  }

  /** Stops every worker (cells still running are abandoned; finished ones are on disk). */
  close(): void {
    for (const l of this.#lanes) {
      l.worker.terminate();
      l.current?.reject(new Error("the cell pool was closed"));
      l.current = undefined;
    }
    this.#lanes.length = 0;
  }
}
