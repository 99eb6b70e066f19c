/**
 * WebGPU compute backend: every primitive of `Backend` as WGSL kernels (kernels/*.wgsl). This file
 * holds the ops; ./kernel_sources.ts reads the WGSL, ./dispatcher.ts records and submits the ops,
 * ./buffer_pool.ts recycles device buffers, ./composite.ts holds the multi-pass ops and
 * ./kernels.ts declares each kernel's bindings and named uniforms.
 *
 * Loop trip-count bound: Mesa llvmpipe silently ends every shader loop once an invocation has run
 * 65,535 loop iterations in total (all loops of the invocation share the budget). Every kernel
 * therefore keeps its total per-invocation trip count within `maxTripsPerInvocation`
 * (MAX_TRIPS_PER_INVOCATION by default) by splitting work across dispatches or passes, and the
 * host asserts the bound before each dispatch, so a violation throws instead of truncating.
 *
 * Determinism: no float atomics; every summation order is a function of the shapes only (the
 * rank selection's histograms count with integer atomics, whose totals do not depend on order).
 *
 * Compile time: llvmpipe's shader compile time grows roughly quadratically with the element count
 * of each `var<workgroup>` array (through its zero-initialisation): a 2048-element scalar array
 * took ~2 minutes. Kernels therefore keep workgroup arrays at ≤ 256 elements, packing into vec4.
 */
import { requestWebGpuAdapter } from "../../request_adapter.ts";
import { describeAdapter } from "../../adapter_info.ts";
import type { AdamWStep, Axis, Backend, BinaryOp, Shape, Storage, UnaryOp } from "../../backend.ts";
import { productDims } from "../../backend.ts";
import { reduce, scatterAdd, selectUpperRanks, sortKeys, sortParams } from "./composite.ts";
import { Dispatcher } from "./dispatcher.ts";
import { BINARY_CODES, ceilDiv, FUSED_CODES, MATMUL_BK, MATMUL_TILE, UNARY_CODES, WG } from "./kernels.ts";
import { kernelSources } from "./kernel_sources.ts";

/** Default bound on the loop iterations one shader invocation may run (llvmpipe stops at 65,535). */
export const MAX_TRIPS_PER_INVOCATION = 16384;

/** Options for `createWebGpuBackend`. */
export interface WebGpuBackendOptions {
  /**
   * Per-invocation loop trip budget, 128 .. 65535 (default MAX_TRIPS_PER_INVOCATION). Tests lower it
   * to drive the split/multi-pass paths at small sizes.
   */
  maxTripsPerInvocation?: number;
  /** WGSL sources by file name, replacing those read from kernels/ (tests of the Params check). */
  sources?: ReadonlyMap<string, string>;
}

/** A device buffer of `length` 4-byte elements owned by one WebGpuBackend. */
export class WebGpuStorage implements Storage {
  disposed = false;
  constructor(readonly buffer: GPUBuffer, readonly length: number, readonly owner: WebGpuBackend) {}
}

/**
 * Creates the WebGPU backend on `adapter` (default: the high-performance adapter of
 * `navigator.gpu`), loading the WGSL kernels from kernels/.
 */
export async function createWebGpuBackend(
  adapter?: GPUAdapter,
  options: WebGpuBackendOptions = {},
): Promise<WebGpuBackend> {
  if (!adapter) {
    const found = await requestWebGpuAdapter();
    if (!found) throw new Error("webgpu: no WebGPU adapter is available");
    adapter = found;
  }
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
    },
  });
  const sources = new Map([...await kernelSources(), ...(options.sources ?? [])]);
  return new WebGpuBackend(device, describeAdapter(adapter).description, sources, options);
}

export class WebGpuBackend implements Backend {
  readonly name = "webgpu" as const;
  readonly device: string;
  /** The per-invocation loop trip budget every dispatch is checked against. */
  readonly maxTripsPerInvocation: number;
  readonly #d: Dispatcher;
  readonly #alloc = (length: number, op: string) =>
    new WebGpuStorage(this.#d.acquire(length * 4, op), length, this);

  constructor(
    gpu: GPUDevice,
    description: string,
    sources: ReadonlyMap<string, string>,
    options: WebGpuBackendOptions = {},
  ) {
    const trips = options.maxTripsPerInvocation ?? MAX_TRIPS_PER_INVOCATION;
    if (!Number.isInteger(trips) || trips < 128 || trips > 65535) {
      throw new Error(`webgpu: maxTripsPerInvocation must be an integer in [128, 65535], got ${trips}`);
    }
    this.maxTripsPerInvocation = trips;
    this.device = description;
    this.#d = new Dispatcher(gpu, sources, trips);
  }

  /** The underlying GPUDevice (benchmarks, interop). */
  get gpuDevice(): GPUDevice {
    return this.#d.gpu;
  }

  /** Dispatches, batches submitted, reads and bytes uploaded since the backend was made. */
  get counts(): Readonly<Dispatcher["counts"]> {
    return { ...this.#d.counts };
  }

  /** Destroys the device; the backend is unusable afterwards. */
  destroy(): void {
    this.#d.destroy();
  }

  #buf(s: Storage, op: string): GPUBuffer {
    if (!(s instanceof WebGpuStorage) || s.owner !== this) {
      throw new Error(`webgpu ${op}: storage does not belong to this backend`);
    }
    if (s.disposed) throw new Error(`webgpu ${op}: storage was disposed and cannot be used any more`);
    return s.buffer;
  }

  // ---- memory -------------------------------------------------------------------------------

  upload(data: Float32Array): Storage {
    return this.#upload(data, "upload");
  }

  uploadIndex(data: Int32Array): Storage {
    return this.#upload(data, "uploadIndex");
  }

  #upload(data: Float32Array | Int32Array, op: string): Storage {
    const s = this.#alloc(data.length, op);
    if (data.length > 0) {
      this.#d.gpu.queue.writeBuffer(s.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      this.#d.counts.uploadBytes += data.byteLength;
    }
    return s;
  }

  zeros(length: number): Storage {
    const s = this.#alloc(length, "zeros");
    this.#d.clear(s.buffer);
    return s;
  }

  async read(s: Storage): Promise<Float32Array> {
    return new Float32Array(await this.#d.read(this.#buf(s, "read"), s.length * 4));
  }

  async readIndex(s: Storage): Promise<Int32Array> {
    return new Int32Array(await this.#d.read(this.#buf(s, "readIndex"), s.length * 4));
  }

  dispose(s: Storage): void {
    if (!(s instanceof WebGpuStorage) || s.owner !== this) {
      throw new Error("webgpu dispose: storage does not belong to this backend");
    }
    if (s.disposed) return;
    s.disposed = true;
    this.#d.release(s.buffer);
  }

  sync(): Promise<void> {
    return this.#d.sync("sync");
  }

  // ---- compute ------------------------------------------------------------------------------

  matmul(a: Storage, aShape: Shape, b: Storage, bShape: Shape, transA: boolean, transB: boolean): Storage {
    const ab = this.#buf(a, "matmul");
    const bb = this.#buf(b, "matmul");
    const [m, k, n] = productDims(aShape, bShape, transA, transB);
    const out = this.#alloc(m * n, "matmul");
    if (m * n === 0) return out;
    const tilesN = ceilDiv(n, MATMUL_TILE);
    const numTiles = ceilDiv(m, MATMUL_TILE) * tilesN;
    const chunk = this.maxTripsPerInvocation * MATMUL_BK;
    const constants = { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0 };
    let k0 = 0;
    do {
      const kEnd = Math.min(k, k0 + chunk);
      this.#d.dispatch(
        "matmul",
        constants,
        [ab, bb, out.buffer],
        {
          m,
          n,
          k,
          k_start: k0,
          k_end: kEnd,
          accumulate: k0 > 0 ? 1 : 0,
          tiles_n: tilesN,
          num_tiles: numTiles,
        },
        numTiles,
        ceilDiv(kEnd - k0, MATMUL_BK),
      );
      k0 = kEnd;
    } while (k0 < k);
    return out;
  }

  unary(op: UnaryOp, a: Storage, length: number, param?: number): Storage {
    const ab = this.#buf(a, "unary");
    const code = UNARY_CODES[op];
    if (code === undefined) throw new Error(`webgpu unary: unknown op "${op}"`);
    const out = this.#alloc(length, "unary");
    const p = param ?? 0;
    // pow modes (see unary.wgsl): 0 small integer, 1 non-integer, 2 large integer, 3 NaN exponent.
    let mode = 1, exp = 0, neg = 0, odd = 0;
    if (op === "pow") {
      if (Number.isNaN(p)) mode = 3;
      else if (Number.isInteger(p) && Math.abs(p) <= 64) [mode, exp, neg] = [0, Math.abs(p), p < 0 ? 1 : 0];
      else if (Number.isInteger(p)) [mode, odd] = [2, Math.abs(p % 2) === 1 ? 1 : 0];
    }
    const trips = op === "pow" && mode === 0 ? 7 : 0;
    const params = { n: length, pow_mode: mode, pow_exp: exp, pow_neg: neg, pow_odd: odd, param: p };
    this.#d.dispatch("unary", { OP: code }, [ab, out.buffer], params, ceilDiv(length, WG), trips);
    return out;
  }

  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const code = BINARY_CODES[op];
    if (code === undefined) throw new Error(`webgpu binary: unknown op "${op}"`);
    return this.#binary(code, a, aShape, b, bShape, outShape);
  }

  biasRelu(a: Storage, shape: Shape, bias: Storage): Storage {
    return this.#binary(FUSED_CODES.addRelu, a, shape, bias, [1, shape[1]], shape);
  }

  reluGrad(g: Storage, t: Storage, length: number): Storage {
    return this.#binary(FUSED_CODES.mulStep, g, [1, length], t, [1, length], [1, length]);
  }

  addDiagonal(x: Storage, n: number, value: number): Storage {
    const v = this.upload(new Float32Array([value]));
    const out = this.#binary(FUSED_CODES.addDiagonal, x, [n, n], v, [1, 1], [n, n]);
    this.dispose(v);
    return out;
  }

  gaussian(d2: Storage, shape: Shape, t: Storage): Storage {
    return this.#binary(FUSED_CODES.gaussian, d2, shape, t, [1, 1], shape);
  }

  logsumexpGrad(x: Storage, shape: Shape, y: Storage, g: Storage): Storage {
    const e = this.#binary(FUSED_CODES.expDiff, x, shape, y, [shape[0], 1], shape);
    const out = this.#binary(BINARY_CODES.mul, e, shape, g, [shape[0], 1], shape);
    this.dispose(e);
    return out;
  }

  #binary(code: number, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const ab = this.#buf(a, "binary"), bb = this.#buf(b, "binary");
    const [rows, cols] = outShape;
    const n = rows * cols;
    const out = this.#alloc(n, "binary");
    const rs = (s: Shape) => (s[0] === 1 ? 0 : s[1]), cs = (s: Shape) => (s[1] === 1 ? 0 : 1);
    const params = { n, cols, a_rs: rs(aShape), a_cs: cs(aShape), b_rs: rs(bShape), b_cs: cs(bShape) };
    this.#d.dispatch("binary", { OP: code }, [ab, bb, out.buffer], params, ceilDiv(n, WG), 0);
    return out;
  }

  sum(a: Storage, shape: Shape, axis: Axis): Storage {
    return reduce(this.#d, this.#alloc, "sum", this.#buf(a, "sum"), shape, axis).values;
  }

  max(a: Storage, shape: Shape, axis: Axis): { values: Storage; indices: Storage } {
    const r = reduce(this.#d, this.#alloc, "max", this.#buf(a, "max"), shape, axis);
    return { values: r.values, indices: r.indices! };
  }

  logsumexp(a: Storage, shape: Shape): Storage {
    return reduce(this.#d, this.#alloc, "lse", this.#buf(a, "logsumexp"), shape, 1).values;
  }

  sortRows(a: Storage, shape: Shape): { values: Storage; indices: Storage } {
    const ab = this.#buf(a, "sortRows");
    const [rows, cols] = shape;
    const values = this.#alloc(rows * cols, "sortRows");
    const indices = this.#alloc(rows * cols, "sortRows");
    if (rows * cols === 0) return { values, indices };
    const { scratch, p } = sortKeys(this.#d, ab, rows, cols, false);
    const params = sortParams(rows, cols, p, 0, 0, 0, false, 0);
    this.#d.dispatch(
      "sortEmit",
      null,
      [ab, scratch, values.buffer, indices.buffer],
      params,
      ceilDiv(rows * cols, WG),
      0,
    );
    this.#d.release(scratch);
    return { values, indices };
  }

  gatherRows(a: Storage, shape: Shape, idx: Storage, n: number): Storage {
    const ab = this.#buf(a, "gatherRows");
    const ib = this.#buf(idx, "gatherRows");
    const [rows, cols] = shape;
    const out = this.#alloc(n * cols, "gatherRows");
    const params = { total: n * cols, cols, src_rows: rows, src_cols: cols };
    this.#d.dispatch("gatherRows", null, [ab, ib, out.buffer], params, ceilDiv(n * cols, WG), 0);
    return out;
  }

  scatterAddRows(src: Storage, shape: Shape, idx: Storage, rows: number): Storage {
    const sb = this.#buf(src, "scatterAddRows");
    const ib = this.#buf(idx, "scatterAddRows");
    const [n, cols] = shape;
    return scatterAdd(this.#d, this.#alloc, sb, ib, 1, n, rows, cols, false, "scatterAddRows");
  }

  gatherElems(a: Storage, shape: Shape, idx: Storage, k: number): Storage {
    const ab = this.#buf(a, "gatherElems");
    const ib = this.#buf(idx, "gatherElems");
    const [rows, cols] = shape;
    const out = this.#alloc(rows * k, "gatherElems");
    const params = { total: rows * k, cols: k, src_rows: rows, src_cols: cols };
    this.#d.dispatch("gatherElems", null, [ab, ib, out.buffer], params, ceilDiv(rows * k, WG), 0);
    return out;
  }

  scatterAddElems(src: Storage, shape: Shape, idx: Storage, cols: number): Storage {
    const sb = this.#buf(src, "scatterAddElems");
    const ib = this.#buf(idx, "scatterAddElems");
    const [rows, k] = shape;
    return scatterAdd(this.#d, this.#alloc, sb, ib, rows, k, rows, cols, true, "scatterAddElems");
  }

  transpose(a: Storage, shape: Shape): Storage {
    const ab = this.#buf(a, "transpose");
    const [rows, cols] = shape;
    const out = this.#alloc(rows * cols, "transpose");
    const tilesC = ceilDiv(cols, 16);
    const numTiles = ceilDiv(rows, 16) * tilesC;
    const params = { rows, cols, tiles_c: tilesC, num_tiles: numTiles };
    this.#d.dispatch("transpose", null, [ab, out.buffer], params, numTiles, 0);
    return out;
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
    const sb = this.#buf(src, "copyBlock");
    const db = this.#buf(dst, "copyBlock");
    if (sb === db) throw new Error("webgpu copyBlock: src and dst must be different storages");
    const params = {
      total: rows * cols,
      cols,
      src_cols: srcShape[1],
      src_row: srcRow,
      src_col: srcCol,
      dst_cols: dstShape[1],
      dst_row: dstRow,
      dst_col: dstCol,
    };
    this.#d.dispatch("copyBlock", null, [sb, db], params, ceilDiv(rows * cols, WG), 0);
  }

  adamw(param: Storage, grad: Storage, m: Storage, v: Storage, length: number, h: AdamWStep): void {
    const pb = this.#buf(param, "adamw");
    const gb = this.#buf(grad, "adamw");
    const mb = this.#buf(m, "adamw");
    const vb = this.#buf(v, "adamw");
    if (new Set([pb, gb, mb, vb]).size !== 4) {
      throw new Error("webgpu adamw: param, grad, m and v must be distinct");
    }
    const params = {
      n: length,
      lr: h.lr,
      lr_wd: h.lr * h.weightDecay,
      beta1: h.beta1,
      one_minus_beta1: 1 - h.beta1,
      beta2: h.beta2,
      one_minus_beta2: 1 - h.beta2,
      eps: h.eps,
      bc1: 1 - h.beta1 ** h.step,
      bc2: 1 - h.beta2 ** h.step,
    };
    this.#d.dispatch("adamw", null, [gb, pb, mb, vb], params, ceilDiv(length, WG), 0);
  }

  upperTriangleRanks(a: Storage, n: number, k1: number, k2: number): Storage {
    const out = this.#alloc(2, "upperTriangleRanks");
    selectUpperRanks(this.#d, this.#buf(a, "upperTriangleRanks"), n, k1, k2, out.buffer);
    return out;
  }
}
