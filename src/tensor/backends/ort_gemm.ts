/**
 * float32 GEMM through onnxruntime's CPU execution provider (MLAS), called through its C API
 * (`ort_capi.ts`): one session per (threads, transA, transB) holds a single `Gemm` node with
 * symbolic dims, and a run reads the operands and writes the caller's output array in place.
 *
 * Session options, measured on a 2-core AVX-512 VM: sequential, optimisation "all", inter-op 1,
 * and `session.intra_op.allow_spinning = "0"`: with ORT's default spinning, the worker threads of
 * one session keep spinning after a run and steal the cores from the next session (forward NN,
 * backward NT/TN alternate) and from the JS elementwise ops in between; a realistic MLP step ran
 * 2-3.5× slower with spinning on. `Gemm` and `MatMul` (+ `Transpose`) ran equally fast; `Gemm`
 * takes the transposes as attributes, so it is the one used.
 *
 * Determinism: MLAS splits a GEMM over the output (M/N tiles) and never over K, so identical
 * inputs give bit-identical outputs for a given split; but the split depends on the pool size. A
 * product with n > m is split over columns, and a slice of at most 64 columns (with k > 128 and A
 * not transposed) gets twice the K block (MLAS_SGEMM_STRIDEK), so e.g. 10×1024·1024×128 rounds
 * differently on 1 and 2 threads. Every product therefore rounds as MLAS does on a pool of
 * GEMM_THREADS (2: every reference result was computed so), whatever the machine: with
 * `setGemmThreads(2)` it runs on such a pool; with 1 (each worker of a parallel run, one per core)
 * it runs on one thread where `roundsAlike` shows the single-threaded product is the same
 * computation (most shapes: MLAS's per-slice K blocks equal the whole product's), and on the
 * 2-thread pool otherwise.
 */
import { productDims, type Shape } from "../backend.ts";
import { gemmModel } from "./onnx_model.ts";
import { nameList, ortCApi, ortCApiError, type Ptr } from "./ort_capi.ts";

/** Whether onnxruntime loads here (loads it on first call). */
export function ortAvailable(): boolean {
  return ortCApi() !== null;
}

/** Why onnxruntime did not load, or null when it did (or was not tried yet). */
export function ortLoadError(): string | null {
  return ortCApiError();
}

/** The pool size every product rounds as (see Determinism above: rows depend on it). */
export const GEMM_THREADS = 2;

/** MLAS: products below this many multiply-adds per thread run on fewer threads. */
const MLAS_THREAD_COMPLEXITY = 64 * 1024;
/** MLAS: column slices of a split product are multiples of this. */
const MLAS_STRIDEN_ALIGN = 16;
/** MLAS's default N and K blocks of one thread's slice (x86). */
const MLAS_STRIDEN = 128, MLAS_STRIDEK = 128;

/**
 * Which code path, and which K blocks, MLAS's single-threaded SGEMM takes for an m×n slice with
 * inner size k (MlasSgemmOperation): the 1-row and 1-column kernels, or the K block size after
 * the N/K stride rebalancing (one block when it covers k). Two slices with the same key round
 * every output element alike.
 */
function sliceRounding(m: number, n: number, k: number, transA: boolean, ldb: number, ldc: number): string {
  if (m === 1 && !transA) return "m1";
  if (n === 1 && ldb === 1 && ldc === 1) return "n1";
  let strideN = MLAS_STRIDEN, strideK = MLAS_STRIDEK;
  if (n >= k) {
    while (strideK / 2 >= k) {
      strideN *= 2;
      strideK /= 2;
    }
  } else if (!transA) {
    while (strideN > 16 && strideN / 2 >= n) {
      strideK *= 2;
      strideN /= 2;
    }
  }
  return strideK >= k ? "k:1" : `k:${strideK}`;
}

/**
 * Whether op(A)·op(B) (m×k · k×n) computed on one thread rounds exactly as MLAS computes it on a
 * pool of GEMM_THREADS: true when MLAS would not split it, or when every slice of its split
 * (MlasGemmBatch: over columns in 16-aligned parts when n > m, else over rows) takes the same path
 * and K blocks as the whole product.
 */
export function roundsAlike(m: number, n: number, k: number, transA: boolean, transB: boolean): boolean {
  const ldb = transB ? k : n, ldc = n;
  let threads = Math.min(Math.floor((m * n * k) / MLAS_THREAD_COMPLEXITY) + 1, GEMM_THREADS);
  const whole = sliceRounding(m, n, k, transA, ldb, ldc);
  // The 1-row and 1-column kernels handle leftover rows or columns apart, so where a slice
  // starts changes how an element is summed (measured: 300×1024·1024×1 differs on 1 and 2
  // threads); a split product that takes them is never run on one thread.
  const special = whole === "m1" || whole === "n1";
  const alike = (sm: number, sn: number) => sliceRounding(sm, sn, k, transA, ldb, ldc) === whole;
  if (n > m) {
    const blocks = Math.ceil(n / MLAS_STRIDEN_ALIGN);
    threads = Math.min(threads, blocks);
    if (threads <= 1) return true;
    if (special) return false;
    for (let t = 0, start = 0; t < threads; t++) {
      const width = Math.min(n - start, partition(blocks, threads, t) * MLAS_STRIDEN_ALIGN);
      if (!alike(m, width)) return false;
      start += width;
    }
    return true;
  }
  threads = Math.min(threads, m);
  if (threads <= 1) return true;
  if (special) return false;
  for (let t = 0; t < threads; t++) if (!alike(partition(m, threads, t), n)) return false;
  return true;
}

/**
 * The K blocks op(A)·op(B) is summed in when it rounds as one whole single-threaded product, or
 * null where it does not (`roundsAlike` fails, or the 1-row or 1-column kernel takes it). Two
 * products with the same key compute every element as the same fused multiply-adds in the same
 * k order, however their operands are stored.
 */
function wholeRounding(m: number, n: number, k: number, transA: boolean, transB: boolean): string | null {
  if (!roundsAlike(m, n, k, transA, transB)) return null;
  const key = sliceRounding(m, n, k, transA, transB ? k : n, n);
  return key === "m1" || key === "n1" ? null : key;
}

/**
 * Whether transpose(op(A)·op(B)) (m×n, inner size k) can be computed as op(B)ᵀ·op(A)ᵀ with the same
 * bits (the factors of each product swapped; SW projections skip a transpose).
 */
export function transposedRoundsAlike(
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): boolean {
  const direct = wholeRounding(m, n, k, transA, transB);
  return direct !== null && direct === wholeRounding(n, m, k, !transB, !transA);
}

/**
 * Whether op(A)·op(B) rounds alike with the flags (transA, transB) and (transA2, transB2), an
 * operand stored transposed in the second (a gradient passed as it is stored).
 */
export function flagsRoundAlike(
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  transA2: boolean,
  transB2: boolean,
): boolean {
  const one = wholeRounding(m, n, k, transA, transB);
  return one !== null && one === wholeRounding(m, n, k, transA2, transB2);
}

/** MlasPartitionWork: the share of `total` items of part `t` of `parts` (the first ones get one more). */
function partition(total: number, parts: number, t: number): number {
  return Math.floor(total / parts) + (t < total % parts ? 1 : 0);
}

/** Threads a product runs on where its rounding allows (1 or GEMM_THREADS); see `setGemmThreads`. */
let runThreads = GEMM_THREADS;

/**
 * Runs products on `threads` threads (1 or GEMM_THREADS) from now on. One is for each worker of a
 * parallel run, which has a core to itself; the values are the same either way.
 */
export function setGemmThreads(threads: number): void {
  runThreads = threads;
}

const sessions = new Map<string, NonNullable<Ptr>>();
let names: { inputs: BigUint64Array; outputs: BigUint64Array } | undefined;
const inputs = new BigUint64Array(2), outputs = new BigUint64Array(1);

/**
 * The tensor values wrapping each array, by shape: creating and releasing three values cost as
 * much as running a small product (8 µs against 8 µs for 256×128·128×10), and the arrays are the
 * pool's and the weights, the same ones step after step. A value is released when its array is
 * collected; it only points into the array, which cannot move or be freed while it is reachable.
 */
const wrapped = new WeakMap<Float32Array, { byShape: Map<number, bigint> }>();
const unwrapped = new FinalizationRegistry<{ byShape: Map<number, bigint> }>((held) => {
  const api = ortCApi();
  for (const v of held.byShape.values()) api?.releaseValue(Deno.UnsafePointer.create(v));
});

/** The value of `data`'s first rows·cols floats as a [rows, cols] tensor (made once, then reused). */
function valueOf(data: Float32Array, rows: number, cols: number): bigint {
  // A detached array (its memory handed to another thread) has no elements left to point at.
  if (data.length < rows * cols) {
    throw new Error(`ort_gemm: an array of ${data.length} floats for [${rows}, ${cols}]`);
  }
  let held = wrapped.get(data);
  if (!held) {
    held = { byShape: new Map() };
    wrapped.set(data, held);
    unwrapped.register(data, held);
  }
  // rows·2³² + cols is exact for any shape an array can hold.
  const key = rows * 4294967296 + cols;
  let v = held.byShape.get(key);
  if (v === undefined) {
    const p = ortCApi()!.tensor(
      data.subarray(0, rows * cols),
      BigInt64Array.from([BigInt(rows), BigInt(cols)]),
    );
    v = BigInt(Deno.UnsafePointer.value(p));
    held.byShape.set(key, v);
  }
  return v;
}

function session(threads: number, transA: boolean, transB: boolean): NonNullable<Ptr> {
  const key = `${threads}${+transA}${+transB}`;
  let s = sessions.get(key);
  if (s) return s;
  const api = ortCApi();
  if (!api) throw new Error(`ort_gemm: onnxruntime is unavailable: ${ortCApiError()}`);
  s = api.session(gemmModel(transA, transB), threads);
  sessions.set(key, s);
  return s;
}

/**
 * out = op(a) · op(b) with onnxruntime, where `a` is stored as `aShape` and `b` as `bShape`
 * (before transposition). `out` must hold rows(op(a)) × cols(op(b)) floats; it is overwritten.
 * All of m, n, k must be positive (the caller handles empty products). Throws when onnxruntime
 * is unavailable (check `ortAvailable()` first). Rounds as MLAS on GEMM_THREADS threads.
 */
export function ortGemm(
  a: Float32Array,
  aShape: Shape,
  b: Float32Array,
  bShape: Shape,
  transA: boolean,
  transB: boolean,
  out: Float32Array,
): void {
  const [m, k, n] = productDims(aShape, bShape, transA, transB);
  const alone = runThreads < GEMM_THREADS && roundsAlike(m, n, k, transA, transB);
  gemmOnThreads(alone ? runThreads : GEMM_THREADS, a, aShape, b, bShape, transA, transB, out);
}

/** `ortGemm` on a pool of exactly `threads` threads, whatever the rounding (tests compare them). */
export function gemmOnThreads(
  threads: number,
  a: Float32Array,
  aShape: Shape,
  b: Float32Array,
  bShape: Shape,
  transA: boolean,
  transB: boolean,
  out: Float32Array,
): void {
  const [m, , n] = productDims(aShape, bShape, transA, transB);
  const s = session(threads, transA, transB);
  inputs[0] = valueOf(a, aShape[0], aShape[1]);
  inputs[1] = valueOf(b, bShape[0], bShape[1]);
  outputs[0] = valueOf(out, m, n);
  names ??= { inputs: nameList(["A", "B"]), outputs: nameList(["Y"]) };
  ortCApi()!.run(s, names.inputs, inputs, names.outputs, outputs);
}

/** Releases the cached sessions (they are re-created on the next call). */
export function disposeOrtSessions(): void {
  const api = ortCApi();
  for (const s of sessions.values()) api?.releaseSession(s);
  sessions.clear();
}
