/**
 * The CPU backend: every primitive as a tight loop over typed arrays (no per-element closures or
 * allocations), float64 scalars inside reductions, and GEMM through onnxruntime's MLAS kernels
 * (`ort_gemm.ts`) for all but tiny products. Deterministic: every loop has a fixed order, and the
 * ORT GEMM never splits the reduction dimension across threads.
 */
import type { AdamWStep, Axis, Backend, BinaryOp, Shape, Storage, UnaryOp } from "../backend.ts";
import { cpus } from "node:os";
import { ortAvailable, ortGemm, ortLoadError } from "./ort_gemm.ts";

/**
 * Products with fewer multiply-adds than this (m·n·k) run in JS; larger ones through onnxruntime.
 * Measured on a 2-core AVX-512 VM: the native call costs ~6 µs however small the product, which
 * the JS loops (~1.2 G multiply-adds/s) match at about 6-8k multiply-adds (16³: JS 3-4 µs,
 * ORT 6 µs; 24³: JS 10-11 µs, ORT 7 µs). The choice depends only on the shape, so it is
 * deterministic.
 */
export const ORT_MIN_MACS = 8192;

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

/**
 * The CPU model: from /proc/cpuinfo where readable (Deno asks for --allow-all there), else from
 * node:os where --allow-sys grants it; null otherwise. Never prompts.
 */
function cpuModel(): string | null {
  try {
    if (Deno.permissions.querySync({ name: "read", path: "/proc/cpuinfo" }).state === "granted") {
      const text = Deno.readTextFileSync("/proc/cpuinfo");
      const m = /^(?:model name|Hardware|cpu model)\s*:\s*(.+)$/m.exec(text);
      if (m) return m[1].trim();
    }
  } catch {
    // not readable under these permissions; try node:os
  }
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "cpus" }).state === "granted") {
      return cpus()[0]?.model?.trim() || null;
    }
  } catch {
    // no model string
  }
  return null;
}

// ---- matmul ------------------------------------------------------------------------------

/** Row-major transposed copy of an [r, c] array into `out` ([c, r]), in 32×32 tiles. */
function transposeInto(a: Float32Array, r: number, c: number, out: Float32Array): void {
  if (r === 1 || c === 1) {
    out.set(a.subarray(0, r * c));
    return;
  }
  // 32×32 tiles; inside a tile, write output rows contiguously and read down input columns.
  const T = 32;
  for (let i0 = 0; i0 < r; i0 += T) {
    const i1 = Math.min(r, i0 + T);
    for (let j0 = 0; j0 < c; j0 += T) {
      const j1 = Math.min(c, j0 + T);
      for (let j = j0; j < j1; j++) {
        let o = j * r + i0, s = i0 * c + j;
        for (let i = i0; i < i1; i++, s += c) out[o++] = a[s];
      }
    }
  }
}

/** out = op(a) · op(b) in JS with float64 accumulation; for small products and as a fallback. */
function jsMatmul(
  a: Float32Array,
  aShape: Shape,
  b: Float32Array,
  bShape: Shape,
  transA: boolean,
  transB: boolean,
  out: Float32Array,
): void {
  const m = transA ? aShape[1] : aShape[0];
  const k = transA ? aShape[0] : aShape[1];
  const n = transB ? bShape[0] : bShape[1];
  let A = a;
  if (transA) {
    A = new Float32Array(m * k);
    transposeInto(a, aShape[0], aShape[1], A);
  }
  if (transB) {
    // b is [n, k]: every output is a dot product of two contiguous rows.
    for (let i = 0; i < m; i++) {
      const ai = i * k;
      for (let j = 0; j < n; j++) {
        const bj = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += A[ai + p] * b[bj + p];
        out[i * n + j] = s;
      }
    }
    return;
  }
  if (n < 16) {
    // Few columns: one float64 dot product per output, striding down b's columns.
    for (let i = 0; i < m; i++) {
      const ai = i * k;
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[ai + p] * b[p * n + j];
        out[i * n + j] = s;
      }
    }
    return;
  }
  // b is [k, n]: accumulate scaled rows of b into a float64 row of the output (streams b).
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    const ai = i * k;
    for (let p = 0; p < k; p++) {
      const x = A[ai + p];
      const bp = p * n;
      for (let j = 0; j < n; j++) acc[j] += x * b[bp + j];
    }
    out.set(acc, i * n);
  }
}

// ---- elementwise -------------------------------------------------------------------------

const ADD = 0, SUB = 1, MUL = 2, DIV = 3, MAX = 4, MIN = 5;
const BINARY_CODES: Record<BinaryOp, number> = { add: ADD, sub: SUB, mul: MUL, div: DIV, max: MAX, min: MIN };

/**
 * out[o + j] = a[ai + j·sa] ∘ b[bi + j·sb] for j < n, where sa, sb ∈ {0, 1} (0: the operand is
 * one value broadcast over the run). One loop per (op, sa, sb); no per-element dispatch.
 */
function binaryRun(
  op: number,
  out: Float32Array,
  o: number,
  a: Float32Array,
  ai: number,
  sa: number,
  b: Float32Array,
  bi: number,
  sb: number,
  n: number,
): void {
  const x = a[ai], y = b[bi];
  switch (op) {
    case ADD:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] + b[bi + j]; }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] + y; }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = x + b[bi + j]; }
      else out.fill(x + y, o, o + n);
      return;
    case SUB:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] - b[bi + j]; }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] - y; }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = x - b[bi + j]; }
      else out.fill(x - y, o, o + n);
      return;
    case MUL:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] * b[bi + j]; }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] * y; }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = x * b[bi + j]; }
      else out.fill(x * y, o, o + n);
      return;
    case DIV:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] / b[bi + j]; }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] / y; }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = x / b[bi + j]; }
      else out.fill(x / y, o, o + n);
      return;
    case MAX:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = Math.max(a[ai + j], b[bi + j]); }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = Math.max(a[ai + j], y); }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = Math.max(x, b[bi + j]); }
      else out.fill(Math.max(x, y), o, o + n);
      return;
    case MIN:
      if (sa && sb) { for (let j = 0; j < n; j++) out[o + j] = Math.min(a[ai + j], b[bi + j]); }
      else if (sa) { for (let j = 0; j < n; j++) out[o + j] = Math.min(a[ai + j], y); }
      else if (sb) { for (let j = 0; j < n; j++) out[o + j] = Math.min(x, b[bi + j]); }
      else out.fill(Math.min(x, y), o, o + n);
      return;
  }
}

/** The raw bits of a float array, as int32. */
function bitsOf(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** x^e for an integer e by binary exponentiation in float64 (exact signs: (-2)^3 = -8). */
function intPow(x: number, e: number): number {
  let n = e < 0 ? -e : e;
  let r = 1, base = x;
  while (n > 0) {
    if (n & 1) r *= base;
    n >>>= 1;
    if (n > 0) base *= base;
  }
  return e < 0 ? 1 / r : r;
}

function unaryInto(op: UnaryOp, a: Float32Array, out: Float32Array, n: number, param: number): void {
  switch (op) {
    case "neg":
      for (let i = 0; i < n; i++) out[i] = -a[i];
      return;
    case "relu": {
      // Branch-free on the bits (a data-dependent branch mispredicts half the time on signed
      // data, ~6× slower): keep x when the sign is clear or x is NaN, else +0.
      const ab = bitsOf(a), ob = bitsOf(out);
      for (let i = 0; i < n; i++) {
        const u = ab[i];
        const nan = ~(((u & 0x7fffffff) - 0x7f800001) >> 31);
        ob[i] = u & (~(u >> 31) | nan);
      }
      return;
    }
    case "exp":
      for (let i = 0; i < n; i++) out[i] = Math.exp(a[i]);
      return;
    case "log":
      for (let i = 0; i < n; i++) out[i] = Math.log(a[i]);
      return;
    case "sqrt":
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(a[i]);
      return;
    case "abs":
      for (let i = 0; i < n; i++) out[i] = Math.abs(a[i]);
      return;
    case "sign": {
      // Branch-free: ±1 carrying x's sign bit, +0 for ±0, NaN kept.
      const ab = bitsOf(a), ob = bitsOf(out);
      for (let i = 0; i < n; i++) {
        const u = ab[i], mag = u & 0x7fffffff;
        const nan = ~((mag - 0x7f800001) >> 31), nonzero = ~((mag - 1) >> 31);
        ob[i] = (u & nan) | (~nan & nonzero & (0x3f800000 | (u & -0x80000000)));
      }
      return;
    }
    case "step": {
      // Branch-free: 1 exactly when 0 < bits ≤ +Inf's bits (positive, not ±0, not NaN).
      const ab = bitsOf(a);
      for (let i = 0; i < n; i++) {
        const u = ab[i];
        out[i] = 1 - (((u - 1) | (0x7f800000 - u)) >>> 31);
      }
      return;
    }
    case "scale":
      for (let i = 0; i < n; i++) out[i] = a[i] * param;
      return;
    case "shift":
      for (let i = 0; i < n; i++) out[i] = a[i] + param;
      return;
    case "pow":
      if (param === 1) out.set(a.subarray(0, n));
      else if (param === 2) {
        for (let i = 0; i < n; i++) {
          const v = a[i];
          out[i] = v * v;
        }
      } else if (Number.isInteger(param) && Math.abs(param) <= 1024) {
        for (let i = 0; i < n; i++) out[i] = intPow(a[i], param);
      } else {
        // Math.pow already gives NaN for a negative base and a non-integer exponent.
        for (let i = 0; i < n; i++) out[i] = Math.pow(a[i], param);
      }
      return;
    default:
      throw new Error(`cpu.unary: unknown op "${op satisfies never}"`);
  }
}

// ---- sorting -----------------------------------------------------------------------------

/** Rows this short sort by insertion (cheaper than four 256-bucket radix passes). */
const INSERTION_MAX = 24;

/**
 * Order-preserving int32 key of a float's bits (read as int32): non-negative floats keep their
 * bits, negative ones flip all but the sign bit, so signed int32 order is float order. -0 maps to
 * +0's key (0) and every NaN to 0x7FFFFFFF, after +Infinity (0x7F800000). Signed int32 (not
 * uint32) keeps every value a small integer for V8 (uint32 ≥ 2³¹ would be boxed as doubles).
 */
function sortKey(u: number): number {
  const m = u & 0x7fffffff;
  if (m === 0) return 0;
  if (m > 0x7f800000) return 0x7fffffff;
  return u ^ ((u >> 31) & 0x7fffffff);
}

/** Byte `pass` (0: lowest) of a key, as the unsigned digit that orders signed keys. */
function digit(key: number, pass: number): number {
  return pass === 3 ? (key >> 24) + 128 : (key >> (pass * 8)) & 255;
}

/** Stable insertion sort of one short row; writes the sorted indices and value bits. */
function insertionSortRow(
  bits: Int32Array,
  base: number,
  c: number,
  keys: Int32Array,
  idx: Int32Array,
  outIdx: Int32Array,
  outBits: Int32Array,
): void {
  for (let j = 0; j < c; j++) {
    const key = sortKey(bits[base + j]);
    let p = j - 1;
    // Strict > keeps equal keys in source order.
    while (p >= 0 && keys[p] > key) {
      keys[p + 1] = keys[p];
      idx[p + 1] = idx[p];
      p--;
    }
    keys[p + 1] = key;
    idx[p + 1] = j;
  }
  for (let j = 0; j < c; j++) {
    const src = idx[j];
    outIdx[base + j] = src;
    outBits[base + j] = bits[base + src];
  }
}

/** Keys of one row plus the four byte histograms (hist[pass * 256 + digit]). */
function keysAndHistograms(
  bits: Int32Array,
  base: number,
  c: number,
  keys: Int32Array,
  hist: Int32Array,
): void {
  hist.fill(0);
  for (let j = 0; j < c; j++) {
    const key = sortKey(bits[base + j]);
    keys[j] = key;
    hist[key & 255]++;
    hist[256 + ((key >> 8) & 255)]++;
    hist[512 + ((key >> 16) & 255)]++;
    hist[896 + (key >> 24)]++;
  }
}

/** Turns histogram `pass` into exclusive prefix sums (bucket start offsets). */
function prefixSums(hist: Int32Array, h: number): void {
  let sum = 0;
  for (let d = h; d < h + 256; d++) {
    const t = hist[d];
    hist[d] = sum;
    sum += t;
  }
}

/** One counting-sort pass moving indices `src` → `dst` by byte `pass` of their keys. */
function scatterPass(
  keys: Int32Array,
  src: Int32Array | null,
  dst: Int32Array,
  c: number,
  hist: Int32Array,
  pass: number,
): void {
  const h = pass * 256;
  if (pass === 3) {
    if (src) { for (let j = 0; j < c; j++) dst[hist[896 + (keys[src[j]] >> 24)]++] = src[j]; }
    else for (let i = 0; i < c; i++) dst[hist[896 + (keys[i] >> 24)]++] = i;
  } else {
    const shift = pass * 8;
    if (src) { for (let j = 0; j < c; j++) dst[hist[h + ((keys[src[j]] >> shift) & 255)]++] = src[j]; }
    else for (let i = 0; i < c; i++) dst[hist[h + ((keys[i] >> shift) & 255)]++] = i;
  }
}

/**
 * The last counting-sort pass, writing the output row directly: the source column of each
 * position and the value bits it points at.
 */
function emitPass(
  keys: Int32Array,
  src: Int32Array | null,
  c: number,
  hist: Int32Array,
  pass: number,
  bits: Int32Array,
  base: number,
  outIdx: Int32Array,
  outBits: Int32Array,
): void {
  if (src && pass === 3) {
    // The usual case: a top-byte pass after earlier ones.
    for (let j = 0; j < c; j++) {
      const i = src[j];
      const pos = base + hist[896 + (keys[i] >> 24)]++;
      outIdx[pos] = i;
      outBits[pos] = bits[base + i];
    }
    return;
  }
  for (let j = 0; j < c; j++) {
    const i = src ? src[j] : j;
    const pos = base + hist[pass * 256 + digit(keys[i], pass)]++;
    outIdx[pos] = i;
    outBits[pos] = bits[base + i];
  }
}

let sortScratch: { keys: Int32Array; idx: Int32Array; idx2: Int32Array } | null = null;
const hist = new Int32Array(4 * 256);

function scratch(c: number): NonNullable<typeof sortScratch> {
  if (!sortScratch || sortScratch.keys.length < c) {
    sortScratch = { keys: new Int32Array(c), idx: new Int32Array(c), idx2: new Int32Array(c) };
  }
  return sortScratch;
}

/**
 * Sorts each row of `a` ([r, c]) ascending, stable, NaN after +Infinity, writing the sorted values
 * and source columns. Floats map to order-preserving int32 keys (`sortKey`), and an LSD radix sort
 * over the four key bytes orders the column indices: each pass is a stable counting sort, so ties
 * keep their source order. Only indices move (keys are looked up by index), and a pass where
 * every key shares the digit is skipped. Values are copied as bits, so NaN payloads and -0
 * survive. Rows of at most INSERTION_MAX use insertion sort.
 */
function sortRowsInto(
  a: Float32Array,
  r: number,
  c: number,
  outVals: Float32Array,
  outIdx: Int32Array,
): void {
  if (c === 0) return;
  const bits = new Int32Array(a.buffer, a.byteOffset, a.length);
  const outBits = new Int32Array(outVals.buffer, outVals.byteOffset, outVals.length);
  const { keys, idx, idx2 } = scratch(c);
  for (let row = 0; row < r; row++) {
    const base = row * c;
    if (c <= INSERTION_MAX) {
      insertionSortRow(bits, base, c, keys, idx, outIdx, outBits);
      continue;
    }
    keysAndHistograms(bits, base, c, keys, hist);
    let last = -1;
    for (let pass = 0; pass < 4; pass++) {
      if (hist[pass * 256 + digit(keys[0], pass)] !== c) last = pass; // else every key has this digit
    }
    if (last < 0) {
      // All keys equal: the stable order is the source order.
      for (let j = 0; j < c; j++) outIdx[base + j] = j;
      outBits.set(bits.subarray(base, base + c), base);
      continue;
    }
    let src: Int32Array | null = null, dst = idx;
    for (let pass = 0; pass < last; pass++) {
      if (hist[pass * 256 + digit(keys[0], pass)] === c) continue;
      prefixSums(hist, pass * 256);
      scatterPass(keys, src, dst, c, hist, pass);
      src = dst;
      dst = dst === idx ? idx2 : idx;
    }
    prefixSums(hist, last * 256);
    emitPass(keys, src, c, hist, last, bits, base, outIdx, outBits);
  }
}

// ---- the backend -------------------------------------------------------------------------

export class CpuBackend implements Backend {
  readonly name = "cpu" as const;
  readonly device: string;

  constructor() {
    const cores = navigator.hardwareConcurrency;
    const model = cpuModel();
    this.device = model ? `${model}, ${cores} cores` : `${cores} CPU cores`;
  }

  /** Which GEMM the large matmuls use: onnxruntime (MLAS), or the JS fallback and why. */
  get gemm(): string {
    return ortAvailable() ? "onnxruntime (MLAS)" : `js (onnxruntime unavailable: ${ortLoadError()})`;
  }

  // ---- memory ----------------------------------------------------------------------------

  upload(data: Float32Array): Storage {
    return new CpuStorage(data.slice());
  }

  uploadIndex(data: Int32Array): Storage {
    return new CpuStorage(data.slice());
  }

  zeros(length: number): Storage {
    return new CpuStorage(new Float32Array(length));
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

  dispose(s: Storage): void {
    if (!(s instanceof CpuStorage)) {
      throw new Error("cpu.dispose: the storage does not belong to the cpu backend");
    }
    s.dispose();
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  // ---- compute ---------------------------------------------------------------------------

  matmul(a: Storage, aShape: Shape, b: Storage, bShape: Shape, transA: boolean, transB: boolean): Storage {
    const A = f32(a, "matmul"), B = f32(b, "matmul");
    const m = transA ? aShape[1] : aShape[0];
    const k = transA ? aShape[0] : aShape[1];
    const n = transB ? bShape[0] : bShape[1];
    const out = new Float32Array(m * n);
    if (m === 0 || n === 0 || k === 0) return new CpuStorage(out);
    if (m * n * k >= ORT_MIN_MACS && ortAvailable()) ortGemm(A, aShape, B, bShape, transA, transB, out);
    else jsMatmul(A, aShape, B, bShape, transA, transB, out);
    return new CpuStorage(out);
  }

  unary(op: UnaryOp, a: Storage, length: number, param?: number): Storage {
    const A = f32(a, "unary");
    const out = new Float32Array(length);
    unaryInto(op, A, out, length, param ?? 0);
    return new CpuStorage(out);
  }

  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const A = f32(a, "binary"), B = f32(b, "binary");
    const code = BINARY_CODES[op];
    if (code === undefined) throw new Error(`cpu.binary: unknown op "${op}"`);
    const [R, C] = outShape;
    const out = new Float32Array(R * C);
    if (R * C === 0) return new CpuStorage(out);
    const aFull = aShape[0] === R && aShape[1] === C, bFull = bShape[0] === R && bShape[1] === C;
    const aScalar = aShape[0] === 1 && aShape[1] === 1, bScalar = bShape[0] === 1 && bShape[1] === 1;
    if ((aFull || aScalar) && (bFull || bScalar)) {
      // One flat run: full with full, or full with a scalar.
      binaryRun(code, out, 0, A, 0, aFull && !aScalar ? 1 : 0, B, 0, bFull && !bScalar ? 1 : 0, R * C);
      return new CpuStorage(out);
    }
    // A row vector [1, C] repeats per row (row stride 0); a column vector [R, 1] gives one value
    // per row (column step 0).
    const aRow = aShape[0] === 1 ? 0 : aShape[1], aCol = aShape[1] === 1 ? 0 : 1;
    const bRow = bShape[0] === 1 ? 0 : bShape[1], bCol = bShape[1] === 1 ? 0 : 1;
    for (let i = 0; i < R; i++) binaryRun(code, out, i * C, A, i * aRow, aCol, B, i * bRow, bCol, C);
    return new CpuStorage(out);
  }

  sum(a: Storage, shape: Shape, axis: Axis): Storage {
    const A = f32(a, "sum");
    const [r, c] = shape;
    if (axis === 0) {
      // Accumulate row by row (streaming through memory) into a float64 row.
      const acc = new Float64Array(c);
      for (let i = 0; i < r; i++) {
        const base = i * c;
        for (let j = 0; j < c; j++) acc[j] += A[base + j];
      }
      const out = new Float32Array(c);
      out.set(acc);
      return new CpuStorage(out);
    }
    const out = new Float32Array(r);
    for (let i = 0; i < r; i++) {
      const base = i * c;
      let s = 0;
      for (let j = 0; j < c; j++) s += A[base + j];
      out[i] = s;
    }
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
    const A = f32(a, "logsumexp");
    const [r, c] = shape;
    const out = new Float32Array(r);
    for (let i = 0; i < r; i++) {
      const base = i * c;
      let mx = -Infinity, nan = false;
      for (let j = 0; j < c; j++) {
        const v = A[base + j];
        if (v > mx) mx = v;
        else if (v !== v) nan = true;
      }
      if (nan) out[i] = NaN;
      else if (mx === -Infinity || mx === Infinity) out[i] = mx; // all -inf (or c = 0), or some +inf
      else {
        let s = 0;
        for (let j = 0; j < c; j++) s += Math.exp(A[base + j] - mx);
        out[i] = mx + Math.log(s);
      }
    }
    return new CpuStorage(out);
  }

  sortRows(a: Storage, shape: Shape): { values: Storage; indices: Storage } {
    const A = f32(a, "sortRows");
    const [r, c] = shape;
    const values = new Float32Array(r * c), indices = new Int32Array(r * c);
    sortRowsInto(A, r, c, values, indices);
    return { values: new CpuStorage(values), indices: new CpuStorage(indices) };
  }

  gatherRows(a: Storage, shape: Shape, idx: Storage, n: number): Storage {
    const A = f32(a, "gatherRows"), I = i32(idx, "gatherRows");
    const c = shape[1];
    const out = new Float32Array(n * c);
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
    const out = new Float32Array(rows * c);
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
    const out = new Float32Array(r * k);
    for (let i = 0; i < r; i++) {
      const base = i * c, o = i * k;
      for (let j = 0; j < k; j++) out[o + j] = A[base + I[o + j]];
    }
    return new CpuStorage(out);
  }

  scatterAddElems(src: Storage, shape: Shape, idx: Storage, cols: number): Storage {
    const S = f32(src, "scatterAddElems"), I = i32(idx, "scatterAddElems");
    const [r, k] = shape;
    const out = new Float32Array(r * cols);
    for (let i = 0; i < r; i++) {
      const base = i * cols, s = i * k;
      for (let j = 0; j < k; j++) out[base + I[s + j]] += S[s + j];
    }
    return new CpuStorage(out);
  }

  transpose(a: Storage, shape: Shape): Storage {
    const A = f32(a, "transpose");
    const out = new Float32Array(shape[0] * shape[1]);
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

  adamw(param: Storage, grad: Storage, m: Storage, v: Storage, length: number, h: AdamWStep): void {
    const P = f32(param, "adamw"), G = f32(grad, "adamw"), M = f32(m, "adamw"), V = f32(v, "adamw");
    const { lr, beta1, beta2, eps, weightDecay, step } = h;
    const b1c = 1 - beta1, b2c = 1 - beta2;
    const bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
    const decay = lr * weightDecay;
    // The documented formula term by term, in float64; m and v are stored rounded to float32,
    // the parameter update uses their float64 values.
    for (let i = 0; i < length; i++) {
      const g = G[i], p = P[i];
      const mi = beta1 * M[i] + b1c * g;
      const vi = beta2 * V[i] + b2c * g * g;
      M[i] = mi;
      V[i] = vi;
      P[i] = p - decay * p - lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
    }
  }
}
