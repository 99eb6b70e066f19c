/**
 * float32 GEMM through onnxruntime's CPU execution provider (MLAS), called through the
 * synchronous native binding of onnxruntime-node: the public `InferenceSession.run` is async (it
 * defers to `setImmediate`), but `binding.InferenceSession.run` computes in the calling thread
 * (plus ORT's intra-op pool) and returns the result. One session per (transA, transB) holds a
 * single `Gemm` node with symbolic dims; the output buffer is preallocated by the caller and
 * passed in `fetches`, so ORT writes straight into it.
 *
 * Session options, measured on a 2-core AVX-512 VM (see the CPU backend's report):
 *   - intra-op threads = GEMM_THREADS (2, whatever the machine: see Determinism), inter-op 1,
 *     sequential, optimisation "all"; a run uses more cores by computing cells at once (--jobs);
 *   - `session.intra_op.allow_spinning = "0"`: with ORT's default spinning, the worker threads of
 *     one session keep spinning after a run and steal the cores from the next session (forward NN,
 *     backward NT/TN alternate) and from the JS elementwise ops in between; a realistic MLP step
 *     ran 2-3.5× slower with spinning on (six GEMMs of a 1024×384×4096 MLP step: 60-73 ms vs
 *     130-260 ms). Single-call throughput is the same within noise.
 *   - `Gemm` and `MatMul` (+ `Transpose`, which the optimiser fuses) ran equally fast; `Gemm`
 *     takes the transposes as attributes directly, so it is the one used.
 *
 * Determinism: MLAS splits a GEMM over the output (M/N tiles) and never over K, and the split
 * depends only on the shape and the pool size, so identical inputs give bit-identical outputs.
 * The pool size matters: MLAS splits a product with n > m over columns, and a thread's K block
 * (MLAS_SGEMM_STRIDEK) grows when its share of the columns is narrow, so a product with n > m,
 * n / threads < 128 and k > 128 rounds differently with another thread count (measured:
 * 10×1024·1024×128). The thread count is therefore fixed, not taken from the machine: every
 * reference result was computed with 2 threads (2-core machines), and a 16-core machine or a
 * worker of a parallel run multiplies exactly as they did.
 */
import { createRequire } from "node:module";
import type { Shape } from "../backend.ts";
import { gemmModel } from "./onnx_model.ts";

/** The part of onnxruntime's tensor object the native binding reads. */
interface OrtTensorLike {
  type: "float32";
  dims: number[];
  data: Float32Array;
  location: "cpu";
}

interface NativeSession {
  loadModel(
    buffer: ArrayBuffer,
    byteOffset: number,
    byteLength: number,
    options: Record<string, unknown>,
  ): void;
  run(
    feeds: Record<string, OrtTensorLike>,
    fetches: Record<string, OrtTensorLike>,
    options: Record<string, unknown>,
  ): Record<string, unknown>;
  dispose(): void;
}

interface NativeBinding {
  InferenceSession: new () => NativeSession;
}

interface BindingModule {
  binding: NativeBinding;
  initOrt(): void;
}

let binding: NativeBinding | null = null;
let loadError: string | null = null;
/** Sessions indexed by transA * 2 + transB. */
const sessions: (NativeSession | undefined)[] = [];

function load(): NativeBinding | null {
  if (binding || loadError !== null) return binding;
  try {
    // Loading a native addon needs --allow-ffi; check first so that Deno never prompts.
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      loadError = "loading the native binding needs --allow-ffi";
      return null;
    }
    const require = createRequire(import.meta.url);
    const mod = require(require.resolve("onnxruntime-node/dist/binding.js")) as BindingModule;
    mod.initOrt();
    binding = mod.binding;
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
  }
  return binding;
}

/** Whether onnxruntime-node's native binding loads here (loads it on first call). */
export function ortAvailable(): boolean {
  return load() !== null;
}

/** Why the binding did not load, or null when it did (or was not tried yet). */
export function ortLoadError(): string | null {
  load();
  return loadError;
}

/** Intra-op threads of every GEMM session (see Determinism above: rows depend on it). */
export const GEMM_THREADS = 2;

/** The session options used for every GEMM session. */
export function ortSessionOptions(): Record<string, unknown> {
  return {
    intraOpNumThreads: GEMM_THREADS,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };
}

function session(transA: boolean, transB: boolean): NativeSession {
  const key = (transA ? 2 : 0) + (transB ? 1 : 0);
  let s = sessions[key];
  if (s) return s;
  const b = load();
  if (!b) throw new Error(`ort_gemm: onnxruntime-node is unavailable: ${loadError}`);
  const bytes = gemmModel(transA, transB);
  s = new b.InferenceSession();
  s.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, ortSessionOptions());
  sessions[key] = s;
  return s;
}

/**
 * out = op(a) · op(b) with onnxruntime, where `a` is stored as `aShape` and `b` as `bShape`
 * (before transposition). `out` must hold rows(op(a)) × cols(op(b)) floats; it is overwritten.
 * All of m, n, k must be positive (the caller handles empty products). Throws when the binding
 * is unavailable (check `ortAvailable()` first).
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
  const m = transA ? aShape[1] : aShape[0];
  const n = transB ? bShape[0] : bShape[1];
  session(transA, transB).run(
    {
      A: { type: "float32", dims: [aShape[0], aShape[1]], data: a, location: "cpu" },
      B: { type: "float32", dims: [bShape[0], bShape[1]], data: b, location: "cpu" },
    },
    { Y: { type: "float32", dims: [m, n], data: out, location: "cpu" } },
    {},
  );
}

/** Releases the cached sessions (they are re-created on the next call). */
export function disposeOrtSessions(): void {
  for (let i = 0; i < sessions.length; i++) {
    sessions[i]?.dispose();
    sessions[i] = undefined;
  }
}
