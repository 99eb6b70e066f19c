/**
 * The CPU backend: every primitive as a tight loop over typed arrays (no per-element closures or
 * allocations), float64 scalars inside reductions, and GEMM through onnxruntime's MLAS kernels
 * (`ort_gemm.ts`) for all but tiny products. Deterministic: every loop has a fixed order, and every
 * ORT product rounds as on GEMM_THREADS threads.
 */
import type { AdamWStep, Axis, Backend, BinaryOp, Shape, Storage, UnaryOp } from "../backend.ts";
import { productDims } from "../backend.ts";
import { cpuModel } from "../adapter_info.ts";
import { ortAvailable, ortGemm, ortLoadError } from "./ort_gemm.ts";
import { matmulInto, productFlagsRoundAlike, transposeInto, transposesDirectly } from "./cpu_matmul.ts";
import { BINARY_CODES } from "./cpu_elementwise.ts";
import { CpuBufferPool } from "./cpu_buffer_pool.ts";
import { runSplit } from "./cpu_threads.ts";

/** A CPU tensor buffer: a Float32Array (float data) or an Int32Array (indices). */
export class CpuStorage implements Storage {
  #data: Float32Array | Int32Array | null;
  readonly length: number;

  constructor(data: Float32Array | Int32Array) {
    this.#data = data;
    this.length = data.length;
  }

  get disposed(): boolean {
    return this.#data === null;
  }

  /** The backing array, or null once disposed. */
  get raw(): Float32Array | Int32Array | null {
    return this.#data;
  }

  dispose(): void {
    this.#data = null;
  }
}

function storageOf(s: Storage, op: string): Float32Array | Int32Array {
  if (!(s instanceof CpuStorage)) {
    throw new Error(`cpu.${op}: the storage does not belong to the cpu backend`);
  }
  const d = s.raw;
  if (d === null) throw new Error(`cpu.${op}: the storage was disposed; it cannot be used any more`);
  return d;
}

function f32(s: Storage, op: string): Float32Array {
  const d = storageOf(s, op);
  if (!(d instanceof Float32Array)) {
    throw new Error(`cpu.${op}: expected a float storage, got an index storage`);
  }
  return d;
}

function i32(s: Storage, op: string): Int32Array {
  const d = storageOf(s, op);
  if (!(d instanceof Int32Array)) {
    throw new Error(`cpu.${op}: expected an index storage, got a float storage`);
  }
  return d;
}

// ---- the backend -------------------------------------------------------------------------

export class CpuBackend implements Backend {
  readonly name = "cpu" as const;
  readonly device: string;
  /** Freed buffers reused by later outputs of the same kind and length (at most `poolBytes`). */
  readonly pool: CpuBufferPool;

  constructor(o: { poolBytes?: number } = {}) {
    this.pool = new CpuBufferPool(o.poolBytes);
    const cores = navigator.hardwareConcurrency, model = cpuModel();
    this.device = model ? `${model}, ${cores} cores` : `${cores} CPU cores`;
  }

  /** Which GEMM the large matmuls use: onnxruntime (MLAS), or the JS fallback and why. */
  get gemm(): string {
    return ortAvailable() ? "onnxruntime (MLAS)" : `js (onnxruntime unavailable: ${ortLoadError()})`;
  }

  // ---- memory ----------------------------------------------------------------------------

  upload(data: Float32Array): Storage {
    const out = this.pool.take(data.length);
    out.set(data);
    return new CpuStorage(out);
  }

  uploadIndex(data: Int32Array): Storage {
    const out = this.pool.takeIndex(data.length);
    out.set(data);
    return new CpuStorage(out);
  }

  zeros(length: number): Storage {
    return new CpuStorage(this.pool.takeZeroed(length));
  }

  read(s: Storage): Promise<Float32Array> {
    try {
      return Promise.resolve(f32(s, "read").slice());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  readIndex(s: Storage): Promise<Int32Array> {
    try {
      return Promise.resolve(i32(s, "readIndex").slice());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  readSync(s: Storage): Float32Array {
    return f32(s, "readSync").slice();
  }
  viewSync = (s: Storage): Float32Array => f32(s, "viewSync");
  hostAlloc(length: number): { storage: Storage; data: Float32Array } {
    const data = this.pool.take(length);
    return { storage: new CpuStorage(data), data };
  }

  dispose(s: Storage): void {
    if (!(s instanceof CpuStorage)) {
      throw new Error("cpu.dispose: the storage does not belong to the cpu backend");
    }
    const data = s.raw;
    s.dispose();
    if (data) this.pool.release(data);
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  // ---- compute ---------------------------------------------------------------------------

  matmul(a: Storage, aShape: Shape, b: Storage, bShape: Shape, transA: boolean, transB: boolean): Storage {
    const [m, , n] = productDims(aShape, bShape, transA, transB);
    const out = this.pool.take(m * n);
    matmulInto(f32(a, "matmul"), aShape, f32(b, "matmul"), bShape, transA, transB, out);
    return new CpuStorage(out);
  }

  /** transpose(op(a) · op(b)): one product with the factors swapped where that rounds alike (`transposesDirectly`). */
  matmulTransposed(
    a: Storage,
    aShape: Shape,
    b: Storage,
    bShape: Shape,
    transA: boolean,
    transB: boolean,
  ): Storage {
    const [m, k, n] = productDims(aShape, bShape, transA, transB);
    if (transposesDirectly(m, n, k, transA, transB)) {
      const out = this.pool.take(n * m);
      ortGemm(f32(b, "matmulTransposed"), bShape, f32(a, "matmulTransposed"), aShape, !transB, !transA, out);
      return new CpuStorage(out);
    }
    const product = this.matmul(a, aShape, b, bShape, transA, transB);
    try {
      return this.transpose(product, [m, n]);
    } finally {
      this.dispose(product);
    }
  }

  /** Whether a product rounds alike with an operand stored transposed (`cpu_matmul.ts`). */
  matmulFlagsRoundAlike = productFlagsRoundAlike;

  unary(op: UnaryOp, a: Storage, length: number, param?: number): Storage {
    const A = f32(a, "unary");
    const out = this.pool.take(length);
    runSplit("unary", length, length, op, A, out, param ?? 0);
    return new CpuStorage(out);
  }

  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const A = f32(a, "binary"), B = f32(b, "binary");
    const code = BINARY_CODES[op];
    if (code === undefined) throw new Error(`cpu.binary: unknown op "${op}"`);
    const [R, C] = outShape;
    const out = this.pool.take(R * C);
    if (R * C === 0) return new CpuStorage(out);
    const aFull = aShape[0] === R && aShape[1] === C, bFull = bShape[0] === R && bShape[1] === C;
    const aScalar = aShape[0] === 1 && aShape[1] === 1, bScalar = bShape[0] === 1 && bShape[1] === 1;
    if ((aFull || aScalar) && (bFull || bScalar)) {
      // One flat run: full with full, or full with a scalar.
      const sa = aFull && !aScalar ? 1 : 0, sb = bFull && !bScalar ? 1 : 0;
      runSplit("binaryFlat", R * C, R * C, code, out, A, sa, B, sb);
      return new CpuStorage(out);
    }
    // A row vector [1, C] repeats per row (row stride 0); a column vector [R, 1] gives one value
    // per row (column step 0).
    const aRow = aShape[0] === 1 ? 0 : aShape[1], aCol = aShape[1] === 1 ? 0 : 1;
    const bRow = bShape[0] === 1 ? 0 : bShape[1], bCol = bShape[1] === 1 ? 0 : 1;
    runSplit("binaryRows", R, R * C, code, out, C, A, aRow, aCol, B, bRow, bCol);
    return new CpuStorage(out);
  }

  sum(a: Storage, shape: Shape, axis: Axis): Storage {
    const A = f32(a, "sum");
    const [r, c] = shape;
    if (axis === 0) {
      const out = this.pool.take(c);
      runSplit("sumColumns", c, r * c, A, r, c, out);
      return new CpuStorage(out);
    }
    const out = this.pool.take(r);
    runSplit("sumRows", r, r * c, A, c, out);
    return new CpuStorage(out);
  }

  max(a: Storage, shape: Shape, axis: Axis): { values: Storage; indices: Storage } {
    const A = f32(a, "max");
    const [r, c] = shape;
    // NaN counts as the maximum (the first NaN wins), as in torch.max.
    if (axis === 1) {
      const values = new Float32Array(r), indices = new Int32Array(r);
      for (let i = 0; i < r; i++) {
        const base = i * c;
        let best = c > 0 ? A[base] : -Infinity, at = c > 0 ? 0 : -1;
        if (best === best) {
          for (let j = 1; j < c; j++) {
            const v = A[base + j];
            if (v > best) {
              best = v;
              at = j;
            } else if (v !== v) {
              best = v;
              at = j;
              break;
            }
          }
        }
        values[i] = best;
        indices[i] = at;
      }
      return { values: new CpuStorage(values), indices: new CpuStorage(indices) };
    }
    const values = new Float32Array(c), indices = new Int32Array(c);
    if (r === 0) {
      values.fill(-Infinity);
      indices.fill(-1);
    } else values.set(A.subarray(0, c));
    for (let i = 1; i < r; i++) {
      const base = i * c;
      for (let j = 0; j < c; j++) {
        const v = A[base + j], best = values[j];
        if (v > best || (v !== v && best === best)) {
          values[j] = v;
          indices[j] = i;
        }
      }
    }
    return { values: new CpuStorage(values), indices: new CpuStorage(indices) };
  }

  logsumexp(a: Storage, shape: Shape): Storage {
    const out = this.pool.take(shape[0]);
    runSplit("logsumexp", shape[0], shape[0] * shape[1], f32(a, "logsumexp"), shape[1], out);
    return new CpuStorage(out);
  }

  sortRows(a: Storage, shape: Shape): { values: Storage; indices: Storage } {
    const A = f32(a, "sortRows");
    const [r, c] = shape;
    const values = this.pool.take(r * c), indices = this.pool.takeIndex(r * c);
    runSplit("sortRows", r, r * c, A, c, values, indices);
    return { values: new CpuStorage(values), indices: new CpuStorage(indices) };
  }

  gatherRows(a: Storage, shape: Shape, idx: Storage, n: number): Storage {
    const A = f32(a, "gatherRows"), I = i32(idx, "gatherRows");
    const c = shape[1];
    const out = this.pool.take(n * c);
    for (let i = 0; i < n; i++) {
      const src = I[i] * c, dst = i * c;
      if (c >= 32) out.set(A.subarray(src, src + c), dst);
      else for (let j = 0; j < c; j++) out[dst + j] = A[src + j];
    }
    return new CpuStorage(out);
  }

  scatterAddRows(src: Storage, shape: Shape, idx: Storage, rows: number): Storage {
    const S = f32(src, "scatterAddRows"), I = i32(idx, "scatterAddRows");
    const [n, c] = shape;
    const out = this.pool.takeZeroed(rows * c);
    // float32 accumulation in increasing i: exactly the documented sum.
    for (let i = 0; i < n; i++) {
      const s = i * c, d = I[i] * c;
      for (let j = 0; j < c; j++) out[d + j] += S[s + j];
    }
    return new CpuStorage(out);
  }

  gatherElems(a: Storage, shape: Shape, idx: Storage, k: number): Storage {
    const A = f32(a, "gatherElems"), I = i32(idx, "gatherElems");
    const [r, c] = shape;
    const out = this.pool.take(r * k);
    for (let i = 0; i < r; i++) {
      const base = i * c, o = i * k;
      for (let j = 0; j < k; j++) out[o + j] = A[base + I[o + j]];
    }
    return new CpuStorage(out);
  }

  scatterAddElems(src: Storage, shape: Shape, idx: Storage, cols: number): Storage {
    const S = f32(src, "scatterAddElems"), I = i32(idx, "scatterAddElems");
    const [r, k] = shape;
    const out = this.pool.takeZeroed(r * cols);
    for (let i = 0; i < r; i++) {
      const base = i * cols, s = i * k;
      for (let j = 0; j < k; j++) out[base + I[s + j]] += S[s + j];
    }
    return new CpuStorage(out);
  }

  transpose(a: Storage, shape: Shape): Storage {
    const A = f32(a, "transpose");
    const out = this.pool.take(shape[0] * shape[1]);
    transposeInto(A, shape[0], shape[1], out);
    return new CpuStorage(out);
  }

  copyBlock(
    src: Storage,
    srcShape: Shape,
    srcRow: number,
    srcCol: number,
    dst: Storage,
    dstShape: Shape,
    dstRow: number,
    dstCol: number,
    rows: number,
    cols: number,
  ): void {
    const S = storageOf(src, "copyBlock"), D = storageOf(dst, "copyBlock");
    if (S.constructor !== D.constructor) {
      throw new Error("cpu.copyBlock: source and destination differ in kind (float vs index)");
    }
    if (rows === 0 || cols === 0) return;
    const sc = srcShape[1], dc = dstShape[1];
    let s = srcRow * sc + srcCol, d = dstRow * dc + dstCol;
    if (cols === sc && cols === dc) {
      // Whole rows: one contiguous run.
      D.set(S.subarray(s, s + rows * cols), d);
      return;
    }
    for (let i = 0; i < rows; i++, s += sc, d += dc) {
      if (cols >= 32) D.set(S.subarray(s, s + cols), d);
      else for (let j = 0; j < cols; j++) D[d + j] = S[s + j];
    }
  }

  biasRelu(a: Storage, shape: Shape, bias: Storage): Storage {
    const A = f32(a, "biasRelu"), B = f32(bias, "biasRelu");
    const out = this.pool.take(shape[0] * shape[1]);
    runSplit("biasRelu", shape[0], shape[0] * shape[1], A, shape[1], B, out);
    return new CpuStorage(out);
  }

  reluGrad(g: Storage, t: Storage, length: number): Storage {
    const G = f32(g, "reluGrad"), T = f32(t, "reluGrad");
    const out = this.pool.take(length);
    runSplit("reluGrad", length, length, G, T, out);
    return new CpuStorage(out);
  }

  adamw(param: Storage, grad: Storage, m: Storage, v: Storage, length: number, h: AdamWStep): void {
    const [P, G, M, V] = [param, grad, m, v].map((s) => f32(s, "adamw"));
    runSplit("adamw", length, length, P, G, M, V, h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.step);
  }

  logsumexpGrad(x: Storage, shape: Shape, y: Storage, g: Storage): Storage {
    const out = this.pool.take(shape[0] * shape[1]);
    const [X, Y, G] = [x, y, g].map((s) => f32(s, "logsumexpGrad"));
    runSplit("logsumexpGrad", shape[0], shape[0] * shape[1], X, shape[1], Y, G, out);
    return new CpuStorage(out);
  }
}
