/**
 * One worker of a CellPool (cell_pool.ts): builds a RunContext on its own CPU backend over the
 * shared feature cache, then runs the cells it is sent, one at a time, and replies with each row
 * or error. Its buffer pool holds the worker's share of the memory a one-thread run's would, and
 * is emptied after each cell (the next cell's shapes differ).
 */
import { FeatureCache } from "../cache/feature_cache.ts";
import { CpuBackend } from "../tensor/backends/cpu.ts";
import { MAX_POOLED_BYTES } from "../tensor/backends/cpu_buffer_pool.ts";
import { GEMM_THREADS, setGemmThreads } from "../tensor/backends/ort_gemm.ts";
import { setElementwiseThreads } from "../tensor/backends/cpu_threads.ts";
import { releaseFreeMemory } from "../util/malloc_tuning.ts";
import { newRunContext, runCell, type RunContext } from "./cell.ts";
import { sendableError, type WorkerReply, type WorkerRequest } from "./cell_pool.ts";

const post = (m: WorkerReply) => (self as unknown as { postMessage(m: WorkerReply): void }).postMessage(m);

let ctx: RunContext | null = null;
let backend: CpuBackend | null = null;

self.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  const m = e.data;
  if (m.type === "init") {
    const cache = new FeatureCache({
      dir: m.cacheDir,
      onWarning: (message) => post({ type: "warning", message }),
    });
    backend = new CpuBackend({ poolBytes: Math.floor(MAX_POOLED_BYTES / m.jobs) });
    // A worker without spare cores multiplies, and runs its element-wise kernels, on its own
    // thread (the same values: see ort_gemm.ts, cpu_threads.ts).
    const threads = navigator.hardwareConcurrency >= GEMM_THREADS * m.jobs ? GEMM_THREADS : 1;
    setGemmThreads(threads);
    setElementwiseThreads(threads);
    ctx = newRunContext(backend, cache, m.baseDir, (message) => post({ type: "log", message }));
    ctx.progress = (done, total, what) => post({ type: "progress", done, total, what });
    ctx.executionProvider = m.executionProvider;
    ctx.checkedSplits = new Map(m.checkedSplits);
    return;
  }
  const context = ctx!;
  const before = { hits: context.cache.stats.hits, extracted: context.cache.computed };
  try {
    const row = await runCell(m.cell, context).finally(() => {
      backend!.pool.clear();
      releaseFreeMemory();
    });
    post({
      type: "row",
      row,
      cache: {
        hits: context.cache.stats.hits - before.hits,
        extracted: context.cache.computed - before.extracted,
      },
    });
  } catch (err) {
    post({ type: "error", error: sendableError(err) });
  }
};
