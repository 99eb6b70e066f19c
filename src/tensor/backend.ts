/**
 * The primitive op set every compute backend implements (tinygrad-style: a small set of
 * primitives; autograd, losses and optimisers are written once on top, in `ops.ts`).
 *
 * All tensors are 2-D, row-major. Float data is float32; index data is int32. A backend never
 * validates shapes: `ops.ts` does that once, before calling it, and names the op in its errors.
 * Every primitive allocates a fresh output, except `adamw` (documented in-place update).
 *
 * Determinism contract: for the same inputs a backend returns bit-identical outputs on every
 * call (no atomics-order or thread-count dependence within one machine). Backends are held to
 * each other within tolerance by tests, not bit-for-bit.
 */

/** Shape of a 2-D tensor: [rows, cols]. */
export type Shape = readonly [rows: number, cols: number];

/** [m, k, n] of op(a) · op(b) ([m, k] · [k, n]) for operands stored as `aShape` and `bShape`. */
export function productDims(
  aShape: Shape,
  bShape: Shape,
  transA: boolean,
  transB: boolean,
): [number, number, number] {
  return [transA ? aShape[1] : aShape[0], transA ? aShape[0] : aShape[1], transB ? bShape[0] : bShape[1]];
}

/** An opaque handle to device memory owned by one backend. */
export interface Storage {
  /** Number of 4-byte elements. */
  readonly length: number;
}

export type UnaryOp =
  | "neg"
  | "relu"
  | "exp"
  | "log"
  | "sqrt"
  | "abs"
  /** sign(x) in {-1, 0, 1}. */
  | "sign"
  /** 1 where x > 0, else 0 (relu derivative). */
  | "step"
  /** x ** param (param a scalar; for non-integer param and x < 0 the result is NaN). */
  | "pow"
  /** x * param. */
  | "scale"
  /** x + param. */
  | "shift";

/**
 * Elementwise binary ops with broadcasting: each operand is [r, c], [1, c] (row vector),
 * [r, 1] (column vector) or [1, 1] (scalar); the output shape is the broadcast of the two.
 */
export type BinaryOp = "add" | "sub" | "mul" | "div" | "max" | "min";

/** Axis 0 reduces over rows (result [1, c]); axis 1 reduces over columns (result [r, 1]). */
export type Axis = 0 | 1;

/** Hyper-parameters of one AdamW step (decoupled weight decay, Loshchilov & Hutter). */
export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

export interface Backend {
  /** "cpu" or "webgpu". */
  readonly name: "cpu" | "webgpu";
  /** Human-readable device description, e.g. the WebGPU adapter or the CPU model. */
  readonly device: string;

  // ---- memory -------------------------------------------------------------------------
  /** Copies host floats to a new storage. */
  upload(data: Float32Array): Storage;
  /** Copies host int32 indices to a new storage. */
  uploadIndex(data: Int32Array): Storage;
  /** A new storage of `length` zeros. */
  zeros(length: number): Storage;
  /** Reads a float storage back to the host (waits for pending work). */
  read(s: Storage): Promise<Float32Array>;
  /** Reads an index storage back to the host. */
  readIndex(s: Storage): Promise<Int32Array>;
  /** Synchronous read, only where the backend can (cpu); undefined otherwise. */
  readSync?(s: Storage): Float32Array;
  /** The storage's own host array, no copy: read it, never write it, nor keep it past a dispose (cpu). */
  viewSync?(s: Storage): Float32Array;
  /** A new storage of `length` floats and its host array, for the caller to fill (cpu). */
  hostAlloc?(length: number): { storage: Storage; data: Float32Array };
  /** Releases the storage; using it afterwards is an error. Idempotent. */
  dispose(s: Storage): void;
  /** Waits until all submitted work is done. */
  sync(): Promise<void>;

  // ---- compute ------------------------------------------------------------------------
  /**
   * C = op(A) · op(B) where op transposes when the flag is set. `a` is stored as `aShape`
   * (before transposition), `b` as `bShape`. Result shape [rows(op(A)), cols(op(B))].
   */
  matmul(a: Storage, aShape: Shape, b: Storage, bShape: Shape, transA: boolean, transB: boolean): Storage;
  unary(op: UnaryOp, a: Storage, length: number, param?: number): Storage;
  /** Broadcasting binary op; `outShape` is the broadcast shape (validated by the caller). */
  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage;
  /** Sum over an axis. */
  sum(a: Storage, shape: Shape, axis: Axis): Storage;
  /** Max over an axis, with the index of the first maximum (int32) along that axis. */
  max(a: Storage, shape: Shape, axis: Axis): { values: Storage; indices: Storage };
  /** Row-wise log Σ exp, computed stably (max-shifted); result [r, 1]. */
  logsumexp(a: Storage, shape: Shape): Storage;
  /**
   * Sorts every row ascending. Ties keep their original order (stable), so the result is
   * deterministic. Returns sorted values [r, c] and the source column of each (int32 [r, c]).
   * NaN sorts after +Infinity.
   */
  sortRows(a: Storage, shape: Shape): { values: Storage; indices: Storage };
  /** out[i, :] = a[idx[i], :] for i < n; idx is int32 [n]; result [n, cols]. */
  gatherRows(a: Storage, shape: Shape, idx: Storage, n: number): Storage;
  /**
   * out[r, :] = Σ_{i : idx[i] = r} src[i, :] (repeats allowed, summed in increasing i);
   * src is [n, cols]; result [rows, cols].
   */
  scatterAddRows(src: Storage, shape: Shape, idx: Storage, rows: number): Storage;
  /** out[i, j] = a[i, idx[i, j]]; a is [r, c], idx int32 [r, k]; result [r, k]. */
  gatherElems(a: Storage, shape: Shape, idx: Storage, k: number): Storage;
  /**
   * out[i, idx[i, j]] += src[i, j] over j ascending (repeats allowed); src is [r, k];
   * result [r, cols], zeros where nothing lands.
   */
  scatterAddElems(src: Storage, shape: Shape, idx: Storage, cols: number): Storage;
  /** Transposed copy of an [r, c] tensor: result [c, r]. */
  transpose(a: Storage, shape: Shape): Storage;
  /**
   * Copies a `rows × cols` block of `src` (stored as srcShape) starting at (srcRow, srcCol)
   * into `dst` (stored as dstShape) at (dstRow, dstCol), in place on `dst`. Used by slice,
   * concat and their gradients; `dst` is always a storage the caller has just allocated.
   */
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
  ): void;
  /**
   * In-place AdamW on `param`, `m`, `v` (all `length` elements) given `grad`:
   *   m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
   *   p ← p − lr·wd·p − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps).
   */
  adamw(param: Storage, grad: Storage, m: Storage, v: Storage, length: number, h: AdamWStep): void;

  // ---- optional fused primitives: `ops.ts` composes the plain ones where a backend has none ----
  /**
   * relu(a + bias) for a [r, c] and bias [1, c], in one pass: bit for bit what `binary` add
   * followed by `unary` relu returns.
   */
  biasRelu?(a: Storage, shape: Shape, bias: Storage): Storage;
  /**
   * transpose(op(a) · op(b)) ([n, m]), bit for bit what `matmul` followed by `transpose` returns
   * (e.g. as op(b)ᵀ · op(a)ᵀ where that product rounds alike), without the [m, n] intermediate.
   */
  matmulTransposed?(
    a: Storage,
    aShape: Shape,
    b: Storage,
    bShape: Shape,
    transA: boolean,
    transB: boolean,
  ): Storage;
  /**
   * Whether `matmul` rounds op(a)·op(b) ([m, n], inner k) alike with the flags (transA, transB)
   * and (transA2, transB2), an operand stored transposed in the second: lets a gradient that is
   * the transpose of the one a formula names be passed as it is stored. Absent: never assumed.
   */
  matmulFlagsRoundAlike?(
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    transA2: boolean,
    transB2: boolean,
  ): boolean;
  /** g · step(t) elementwise (relu's gradient), bit for bit what `unary` step then `binary` mul return. */
  reluGrad?(g: Storage, t: Storage, length: number): Storage;
  /**
   * exp(x − y) · g for x [r, c], y and g [r, 1] (logsumexp's gradient), in one pass: bit for bit
   * what `binary` sub, `unary` exp and `binary` mul return.
   */
  logsumexpGrad?(x: Storage, shape: Shape, y: Storage, g: Storage): Storage;
  /** x + (value on the diagonal, 0 elsewhere) for a square x [n, n], as `binary` add of that mask. */
  addDiagonal?(x: Storage, n: number, value: number): Storage;
  /** exp(−(d2 / t)) for t [1, 1], bit for bit what `binary` div, `unary` neg and exp return. */
  gaussian?(d2: Storage, shape: Shape, t: Storage): Storage;
  /**
   * The values at ranks k1 ≤ k2 (0-based) of the upper triangle i < j of the [n, n] matrix `a`,
   * as [1, 2]: exactly what a stable sort of the triangle holds there (NaN after +Infinity; a
   * zero may come back as +0 where the sort has −0). HSIC's median bandwidth, without the sort.
   */
  upperTriangleRanks?(a: Storage, n: number, k1: number, k2: number): Storage;
}
