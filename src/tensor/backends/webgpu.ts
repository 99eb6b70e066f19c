/**
 * WebGPU compute backend: every primitive of `Backend` as WGSL kernels (kernels/*.wgsl).
 *
 * Execution model: storages stay on the device; ops record dispatches into one command encoder that
 * is submitted lazily (before reads and `sync`, or when the batch reaches UNIFORM_SLOTS dispatches).
 * Every dispatch gets its own 256-byte slot in a shared uniform buffer, written with one
 * `queue.writeBuffer` right before the batch is submitted (queue order makes the reuse of that
 * buffer by the next batch safe). Disposed buffers return to a size-bucketed pool only once the
 * batch that last referenced them has been submitted, so `writeBuffer` into a recycled buffer can
 * never overtake pending work.
 *
 * Loop trip-count bound: Mesa llvmpipe silently ends every shader loop once an invocation has run
 * 65,535 loop iterations in total (all loops of the invocation share the budget). Every kernel
 * therefore keeps its total per-invocation trip count within `maxTripsPerInvocation`
 * (MAX_TRIPS_PER_INVOCATION by default) by splitting work across dispatches or passes, and the
 * host asserts the bound before each dispatch, so a violation throws instead of truncating.
 *
 * Determinism: no atomics anywhere; every summation order is a function of the shapes only.
 *
 * Compile time: llvmpipe's shader compile time grows roughly quadratically with the element count
 * of each `var<workgroup>` array (through its zero-initialisation): a 2048-element scalar array
 * took ~2 minutes. Kernels therefore keep workgroup arrays at ≤ 256 elements, packing into vec4.
 */
import { describeAdapter } from "../adapter_info.ts";
import type { AdamWStep, Axis, Backend, BinaryOp, Shape, Storage, UnaryOp } from "../backend.ts";

/** Default bound on the loop iterations one shader invocation may run (llvmpipe stops at 65,535). */
export const MAX_TRIPS_PER_INVOCATION = 16384;

/** Options for `createWebGpuBackend`. */
export interface WebGpuBackendOptions {
  /**
   * Per-invocation loop trip budget, 128 .. 65535 (default MAX_TRIPS_PER_INVOCATION). Tests lower it
   * to drive the split/multi-pass paths at small sizes.
   */
  maxTripsPerInvocation?: number;
}

const WG = 256;
const UNIFORM_SLOT_BYTES = 256;
const UNIFORM_SLOTS = 512;
const SORT_CHUNK = 1024;
const MATMUL_TILE = 64;
const MATMUL_BK = 16;
/** The coop reductions use a 256-wide tree: 8 levels. */
const TREE_TRIPS = 8;
/** Reductions: serial chunk cap (accuracy of the sequential f32 sum), per-thread cap for coop. */
const SERIAL_CHUNK_CAP = 1024;
const COOP_PER_THREAD_CAP = 64;
const COOP_MIN_LEN = 512;
/** Bytes of disposed buffers kept for reuse before further ones are destroyed. */
const POOL_LIMIT_BYTES = 512 * 1024 * 1024;

type Access = "r" | "w" | null;
interface KernelDef {
  readonly file: string;
  readonly entry: string;
  /** Storage bindings 1, 2, ...: read-only, read-write, or unused by this entry point. */
  readonly bindings: readonly Access[];
}

const KERNELS = {
  matmul: { file: "matmul.wgsl", entry: "main", bindings: ["r", "r", "w"] },
  unary: { file: "unary.wgsl", entry: "main", bindings: ["r", "w"] },
  binary: { file: "binary.wgsl", entry: "main", bindings: ["r", "r", "w"] },
  sumSerial: { file: "reduce_sum.wgsl", entry: "serial", bindings: ["r", "w"] },
  sumCoop: { file: "reduce_sum.wgsl", entry: "coop", bindings: ["r", "w"] },
  maxSerial: { file: "reduce_max.wgsl", entry: "serial", bindings: ["r", "r", "w", "w"] },
  maxCoop: { file: "reduce_max.wgsl", entry: "coop", bindings: ["r", "r", "w", "w"] },
  lseSerial: { file: "logsumexp.wgsl", entry: "serial", bindings: ["r", "w"] },
  lseCoop: { file: "logsumexp.wgsl", entry: "coop", bindings: ["r", "w"] },
  sortInit: { file: "sort_rows.wgsl", entry: "local_init", bindings: ["r", "w"] },
  sortMerge: { file: "sort_rows.wgsl", entry: "local_merge", bindings: [null, "w"] },
  sortGlobal: { file: "sort_rows.wgsl", entry: "global_step", bindings: [null, "w"] },
  sortEmit: { file: "sort_rows.wgsl", entry: "emit", bindings: ["r", "w", "w", "w"] },
  gatherRows: { file: "gather.wgsl", entry: "gather_rows", bindings: ["r", "r", "w"] },
  gatherElems: { file: "gather.wgsl", entry: "gather_elems", bindings: ["r", "r", "w"] },
  scatterAdd: { file: "scatter_add.wgsl", entry: "main", bindings: ["r", "r", "w"] },
  transpose: { file: "transpose.wgsl", entry: "main", bindings: ["r", "w"] },
  copyBlock: { file: "copy_block.wgsl", entry: "main", bindings: ["r", "w"] },
  adamw: { file: "adamw.wgsl", entry: "main", bindings: ["r", "w", "w", "w"] },
} as const satisfies Record<string, KernelDef>;

type KernelName = keyof typeof KERNELS;

const UNARY_CODES: Record<UnaryOp, number> = {
  neg: 0,
  relu: 1,
  exp: 2,
  log: 3,
  sqrt: 4,
  abs: 5,
  sign: 6,
  step: 7,
  pow: 8,
  scale: 9,
  shift: 10,
};
const BINARY_CODES: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 };

/** A device buffer of `length` 4-byte elements owned by one WebGpuBackend. */
export class WebGpuStorage implements Storage {
  disposed = false;
  constructor(readonly buffer: GPUBuffer, readonly length: number, readonly owner: WebGpuBackend) {}
}

/** Pool bucket for a byte size: 256 B minimum, then powers of two and 1.5 × powers of two. */
function bucketBytes(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.ceil(Math.log2(bytes));
  return p * 0.75 >= bytes ? p * 0.75 : p;
}

function nextPow2(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** Loop trips of one binary search over `len` sorted entries (while lo < hi). */
function searchTrips(len: number): number {
  return Math.ceil(Math.log2(len + 1)) + 1;
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
    if (typeof navigator === "undefined" || !navigator.gpu) {
      throw new Error("webgpu: navigator.gpu is not available in this runtime");
    }
    const found = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
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
  const files = [...new Set(Object.values(KERNELS).map((k) => k.file))];
  const sources = new Map<string, string>();
  await Promise.all(files.map(async (file) => {
    sources.set(file, await Deno.readTextFile(new URL(`../../../kernels/${file}`, import.meta.url)));
  }));
  return new WebGpuBackend(device, describeAdapter(adapter).description, sources, options);
}

interface Pipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

type ReduceKind = "sum" | "max" | "lse";

export class WebGpuBackend implements Backend {
  readonly name = "webgpu" as const;
  readonly device: string;
  /** The per-invocation loop trip budget every dispatch is checked against. */
  readonly maxTripsPerInvocation: number;

  readonly #gpu: GPUDevice;
  readonly #sources: Map<string, string>;
  readonly #modules = new Map<string, GPUShaderModule>();
  readonly #pipelines = new Map<string, Pipeline>();
  readonly #uniformHost = new ArrayBuffer(UNIFORM_SLOTS * UNIFORM_SLOT_BYTES);
  readonly #uniformU32 = new Uint32Array(this.#uniformHost);
  readonly #uniformF32 = new Float32Array(this.#uniformHost);
  readonly #uniformBuffer: GPUBuffer;
  readonly #maxGroupsPerDim: number;
  readonly #maxBindingBytes: number;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #slots = 0;
  readonly #pool = new Map<number, GPUBuffer[]>();
  #pooledBytes = 0;
  #pendingRelease: GPUBuffer[] = [];
  readonly #stagingPool = new Map<number, GPUBuffer[]>();
  #errors: string[] = [];
  #lost: string | null = null;
  #destroyed = false;

  constructor(
    gpu: GPUDevice,
    description: string,
    sources: Map<string, string>,
    options: WebGpuBackendOptions = {},
  ) {
    const trips = options.maxTripsPerInvocation ?? MAX_TRIPS_PER_INVOCATION;
    if (!Number.isInteger(trips) || trips < 128 || trips > 65535) {
      throw new Error(`webgpu: maxTripsPerInvocation must be an integer in [128, 65535], got ${trips}`);
    }
    this.maxTripsPerInvocation = trips;
    this.#gpu = gpu;
    this.device = description;
    this.#sources = sources;
    this.#maxGroupsPerDim = gpu.limits.maxComputeWorkgroupsPerDimension;
    this.#maxBindingBytes = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
    this.#uniformBuffer = gpu.createBuffer({
      size: UNIFORM_SLOTS * UNIFORM_SLOT_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    gpu.addEventListener("uncapturederror", (event) => {
      this.#errors.push((event as GPUUncapturedErrorEvent).error.message);
    });
    gpu.lost.then((info) => {
      if (!this.#destroyed) this.#lost = `${info.reason}: ${info.message}`;
    });
  }

  /** The underlying GPUDevice (benchmarks, interop). */
  get gpuDevice(): GPUDevice {
    return this.#gpu;
  }

  /** Destroys the device; the backend is unusable afterwards. */
  destroy(): void {
    this.#destroyed = true;
    this.#encoder = null;
    this.#pass = null;
    this.#gpu.destroy();
  }

  // ---- memory -------------------------------------------------------------------------------

  upload(data: Float32Array): Storage {
    const s = this.#alloc(data.length, "upload");
    if (data.length > 0) {
      this.#gpu.queue.writeBuffer(s.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    }
    return s;
  }

  uploadIndex(data: Int32Array): Storage {
    const s = this.#alloc(data.length, "uploadIndex");
    if (data.length > 0) {
      this.#gpu.queue.writeBuffer(s.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    }
    return s;
  }

  zeros(length: number): Storage {
    const s = this.#alloc(length, "zeros");
    this.#clear(s.buffer);
    return s;
  }

  async read(s: Storage): Promise<Float32Array> {
    const buffer = this.#buf(s, "read");
    return new Float32Array(await this.#readBytes(buffer, s.length * 4));
  }

  async readIndex(s: Storage): Promise<Int32Array> {
    const buffer = this.#buf(s, "readIndex");
    return new Int32Array(await this.#readBytes(buffer, s.length * 4));
  }

  dispose(s: Storage): void {
    if (!(s instanceof WebGpuStorage) || s.owner !== this) {
      throw new Error("webgpu dispose: storage does not belong to this backend");
    }
    if (s.disposed) return;
    s.disposed = true;
    this.#release(s.buffer);
  }

  async sync(): Promise<void> {
    this.#checkUsable("sync");
    this.#flush();
    await this.#gpu.queue.onSubmittedWorkDone();
    this.#throwErrors("sync");
  }

  // ---- compute ------------------------------------------------------------------------------

  matmul(a: Storage, aShape: Shape, b: Storage, bShape: Shape, transA: boolean, transB: boolean): Storage {
    const ab = this.#buf(a, "matmul");
    const bb = this.#buf(b, "matmul");
    const m = transA ? aShape[1] : aShape[0];
    const k = transA ? aShape[0] : aShape[1];
    const n = transB ? bShape[0] : bShape[1];
    const out = this.#alloc(m * n, "matmul");
    if (m * n === 0) return out;
    const tilesN = ceilDiv(n, MATMUL_TILE);
    const numTiles = ceilDiv(m, MATMUL_TILE) * tilesN;
    const chunk = this.maxTripsPerInvocation * MATMUL_BK;
    const constants = { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0 };
    let k0 = 0;
    do {
      const kEnd = Math.min(k, k0 + chunk);
      this.#dispatch(
        "matmul",
        constants,
        [ab, bb, out.buffer],
        [m, n, k, k0, kEnd, k0 > 0 ? 1 : 0, tilesN, numTiles],
        [],
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
    this.#dispatch(
      "unary",
      { OP: code },
      [ab, out.buffer],
      [length, mode, exp, neg, odd],
      [p],
      ceilDiv(length, WG),
      trips,
    );
    return out;
  }

  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const ab = this.#buf(a, "binary");
    const bb = this.#buf(b, "binary");
    const code = BINARY_CODES[op];
    if (code === undefined) throw new Error(`webgpu binary: unknown op "${op}"`);
    const [rows, cols] = outShape;
    const n = rows * cols;
    const out = this.#alloc(n, "binary");
    const strides = (s: Shape) => [s[0] === 1 ? 0 : s[1], s[1] === 1 ? 0 : 1];
    this.#dispatch(
      "binary",
      { OP: code },
      [ab, bb, out.buffer],
      [n, cols, ...strides(aShape), ...strides(bShape)],
      [],
      ceilDiv(n, WG),
      0,
    );
    return out;
  }

  sum(a: Storage, shape: Shape, axis: Axis): Storage {
    return this.#reduce("sum", this.#buf(a, "sum"), shape, axis).values;
  }

  max(a: Storage, shape: Shape, axis: Axis): { values: Storage; indices: Storage } {
    const r = this.#reduce("max", this.#buf(a, "max"), shape, axis);
    return { values: r.values, indices: r.indices! };
  }

  logsumexp(a: Storage, shape: Shape): Storage {
    return this.#reduce("lse", this.#buf(a, "logsumexp"), shape, 1).values;
  }

  sortRows(a: Storage, shape: Shape): { values: Storage; indices: Storage } {
    const ab = this.#buf(a, "sortRows");
    const [rows, cols] = shape;
    const values = this.#alloc(rows * cols, "sortRows");
    const indices = this.#alloc(rows * cols, "sortRows");
    if (rows * cols === 0) return { values, indices };
    const { scratch, p } = this.#sortKeys(ab, rows, cols, false);
    this.#dispatch(
      "sortEmit",
      null,
      [ab, scratch, values.buffer, indices.buffer],
      this.#sortParams(rows, cols, p, 0, 0, 0, false, 0),
      [],
      ceilDiv(rows * cols, WG),
      0,
    );
    this.#release(scratch);
    return { values, indices };
  }

  gatherRows(a: Storage, shape: Shape, idx: Storage, n: number): Storage {
    const ab = this.#buf(a, "gatherRows");
    const ib = this.#buf(idx, "gatherRows");
    const [rows, cols] = shape;
    const out = this.#alloc(n * cols, "gatherRows");
    this.#dispatch(
      "gatherRows",
      null,
      [ab, ib, out.buffer],
      [n * cols, cols, rows, cols],
      [],
      ceilDiv(n * cols, WG),
      0,
    );
    return out;
  }

  scatterAddRows(src: Storage, shape: Shape, idx: Storage, rows: number): Storage {
    const sb = this.#buf(src, "scatterAddRows");
    const ib = this.#buf(idx, "scatterAddRows");
    const [n, cols] = shape;
    return this.#scatterAdd(sb, ib, 1, n, rows, cols, false, "scatterAddRows");
  }

  gatherElems(a: Storage, shape: Shape, idx: Storage, k: number): Storage {
    const ab = this.#buf(a, "gatherElems");
    const ib = this.#buf(idx, "gatherElems");
    const [rows, cols] = shape;
    const out = this.#alloc(rows * k, "gatherElems");
    this.#dispatch(
      "gatherElems",
      null,
      [ab, ib, out.buffer],
      [rows * k, k, rows, cols],
      [],
      ceilDiv(rows * k, WG),
      0,
    );
    return out;
  }

  scatterAddElems(src: Storage, shape: Shape, idx: Storage, cols: number): Storage {
    const sb = this.#buf(src, "scatterAddElems");
    const ib = this.#buf(idx, "scatterAddElems");
    const [rows, k] = shape;
    return this.#scatterAdd(sb, ib, rows, k, rows, cols, true, "scatterAddElems");
  }

  transpose(a: Storage, shape: Shape): Storage {
    const ab = this.#buf(a, "transpose");
    const [rows, cols] = shape;
    const out = this.#alloc(rows * cols, "transpose");
    const tilesC = ceilDiv(cols, 16);
    const numTiles = ceilDiv(rows, 16) * tilesC;
    this.#dispatch("transpose", null, [ab, out.buffer], [rows, cols, tilesC, numTiles], [], numTiles, 0);
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
    this.#dispatch(
      "copyBlock",
      null,
      [sb, db],
      [rows * cols, cols, srcShape[1], srcRow, srcCol, dstShape[1], dstRow, dstCol],
      [],
      ceilDiv(rows * cols, WG),
      0,
    );
  }

  adamw(param: Storage, grad: Storage, m: Storage, v: Storage, length: number, h: AdamWStep): void {
    const pb = this.#buf(param, "adamw");
    const gb = this.#buf(grad, "adamw");
    const mb = this.#buf(m, "adamw");
    const vb = this.#buf(v, "adamw");
    if (new Set([pb, gb, mb, vb]).size !== 4) {
      throw new Error("webgpu adamw: param, grad, m and v must be distinct");
    }
    const f = [
      h.lr,
      h.lr * h.weightDecay,
      h.beta1,
      1 - h.beta1,
      h.beta2,
      1 - h.beta2,
      h.eps,
      1 - h.beta1 ** h.step,
      1 - h.beta2 ** h.step,
    ];
    this.#dispatch("adamw", null, [gb, pb, mb, vb], [length], f, ceilDiv(length, WG), 0);
  }

  // ---- composite kernels --------------------------------------------------------------------

  /**
   * Multi-pass reduction along `axis`. Each pass splits the reduced dimension into chunks that keep
   * every invocation within the trip budget and writes one partial per chunk; passes repeat until
   * one chunk is left. Partials of axis 0 are [nChunks, nOut], of axis 1 [nOut, nChunks].
   */
  #reduce(
    kind: ReduceKind,
    input: GPUBuffer,
    shape: Shape,
    axis: Axis,
  ): { values: WebGpuStorage; indices?: WebGpuStorage } {
    const [rows, cols] = shape;
    const nOut = axis === 0 ? cols : rows;
    let len = axis === 0 ? rows : cols;
    const op = kind === "sum" ? "reduce" : kind;
    let x = input;
    let xi: GPUBuffer | null = null;
    let firstPass = true;
    for (;;) {
      const coop = axis === 1 && len >= COOP_MIN_LEN;
      const { chunk, nChunks } = coop ? this.#coopChunk(len, nOut) : this.#serialChunk(len, nOut);
      const final = nChunks === 1;
      const partials = nOut * nChunks;
      let values: WebGpuStorage | null = null;
      let indices: WebGpuStorage | null = null;
      let y: GPUBuffer;
      let yi: GPUBuffer | null = null;
      if (final) {
        values = this.#alloc(nOut, op);
        y = values.buffer;
        if (kind === "max") {
          indices = this.#alloc(nOut, op);
          yi = indices.buffer;
        }
      } else {
        y = this.#acquire((kind === "lse" ? 2 : 1) * partials * 4, op);
        if (kind === "max") yi = this.#acquire(partials * 4, op);
      }
      const inOuter = axis === 0 ? 1 : len;
      const inStep = axis === 0 ? nOut : 1;
      const outOuter = axis === 0 ? 1 : nChunks;
      const outChunk = axis === 0 ? nOut : 1;
      const u = [nOut, nChunks, len, chunk, inOuter, inStep, outOuter, outChunk];
      const groups = coop ? partials : ceilDiv(partials, WG);
      const trips = coop ? ceilDiv(chunk, WG) + TREE_TRIPS : chunk;
      const mode = coop ? "Coop" : "Serial";
      if (kind === "sum") {
        this.#dispatch(`sum${mode}`, null, [x, y], u, [], groups, trips);
      } else if (kind === "max") {
        this.#dispatch(`max${mode}`, null, [x, xi ?? x, y, yi], [...u, firstPass ? 0 : 1], [], groups, trips);
      } else {
        this.#dispatch(
          `lse${mode}`,
          null,
          [x, y],
          [...u, firstPass ? 0 : 1, final ? 1 : 0],
          [],
          groups,
          trips,
        );
      }
      if (!firstPass) {
        this.#release(x);
        if (xi) this.#release(xi);
      }
      if (final) return { values: values!, indices: indices ?? undefined };
      x = y;
      xi = yi;
      len = nChunks;
      firstPass = false;
    }
  }

  /** Chunking for the one-invocation-per-(output, chunk) reduction: `chunk` trips each. */
  #serialChunk(len: number, nOut: number): { chunk: number; nChunks: number } {
    const cap = Math.min(SERIAL_CHUNK_CAP, this.maxTripsPerInvocation);
    let chunk: number;
    if (len <= Math.min(256, cap)) chunk = Math.max(1, len);
    else chunk = Math.min(cap, Math.max(64, ceilDiv(len * nOut, 16384)));
    return { chunk, nChunks: Math.max(1, ceilDiv(len, chunk)) };
  }

  /** Chunking for the one-workgroup-per-(row, chunk) reduction: ceil(chunk / 256) + 8 trips. */
  #coopChunk(len: number, nOut: number): { chunk: number; nChunks: number } {
    const perThread = Math.min(COOP_PER_THREAD_CAP, this.maxTripsPerInvocation - TREE_TRIPS);
    const maxChunk = WG * perThread;
    // Enough workgroups to fill a GPU when there are few rows, but at least 2048 elements each.
    const wanted = Math.min(ceilDiv(256, nOut), ceilDiv(len, 2048));
    const nChunks0 = Math.max(1, ceilDiv(len, maxChunk), wanted);
    const chunk = ceilDiv(len, nChunks0);
    return { chunk, nChunks: ceilDiv(len, chunk) };
  }

  #sortParams(
    rows: number,
    cols: number,
    p: number,
    kMax: number,
    k: number,
    j: number,
    intKeys: boolean,
    groups: number,
  ): number[] {
    return [rows, cols, p, rows * p, kMax, k, j, intKeys ? 1 : 0, groups];
  }

  /**
   * Sorts each of `rows` rows of `cols` keys (f32 bits or int32) stably; returns the scratch buffer
   * of (key, source column) pairs, rows padded to p = nextPow2(cols). The caller releases it.
   */
  #sortKeys(src: GPUBuffer, rows: number, cols: number, intKeys: boolean): { scratch: GPUBuffer; p: number } {
    const p = nextPow2(cols);
    const total = rows * p;
    const scratch = this.#acquire(total * 8, "sortRows");
    const groups = ceilDiv(total, SORT_CHUNK);
    const kMax = Math.min(p, SORT_CHUNK);
    const l = Math.log2(kMax);
    const initTrips = l + (l * (l + 1)) / 2;
    this.#dispatch(
      "sortInit",
      null,
      [src, scratch],
      this.#sortParams(rows, cols, p, kMax, 0, 0, intKeys, groups),
      [],
      groups,
      initTrips,
    );
    const mergeTrips = Math.log2(SORT_CHUNK);
    for (let k = 2 * SORT_CHUNK; k <= p; k *= 2) {
      for (let j = k / 2; j >= SORT_CHUNK; j /= 2) {
        this.#dispatch(
          "sortGlobal",
          null,
          [null, scratch],
          this.#sortParams(rows, cols, p, kMax, k, j, intKeys, groups),
          [],
          ceilDiv(total / 2, WG),
          0,
        );
      }
      this.#dispatch(
        "sortMerge",
        null,
        [null, scratch],
        this.#sortParams(rows, cols, p, kMax, k, 0, intKeys, groups),
        [],
        groups,
        mergeTrips,
      );
    }
    return { scratch, p };
  }

  /**
   * Deterministic scatter-add: sort the `sortRows × len` destination indices stably, then one
   * invocation per output element sums its run of sources in ascending source order, in passes of
   * at most `chunk` sources each.
   */
  #scatterAdd(
    src: GPUBuffer,
    idx: GPUBuffer,
    sortRows: number,
    len: number,
    outRows: number,
    outCols: number,
    elems: boolean,
    op: string,
  ): WebGpuStorage {
    const total = outRows * outCols;
    const out = this.#alloc(total, op);
    if (total === 0) return out;
    if (len === 0) {
      this.#clear(out.buffer);
      return out;
    }
    const { scratch, p } = this.#sortKeys(idx, sortRows, len, true);
    const search = 2 * searchTrips(len);
    const chunk = this.maxTripsPerInvocation - search;
    if (chunk < 1) throw new Error(`webgpu ${op}: trip budget too small for ${len} sources`);
    for (let start = 0; start < len; start += chunk) {
      this.#dispatch(
        "scatterAdd",
        null,
        [src, scratch, out.buffer],
        [total, outCols, len, p, start, chunk, start === 0 ? 1 : 0, elems ? 1 : 0],
        [],
        ceilDiv(total, WG),
        search + Math.min(chunk, len - start),
      );
    }
    this.#release(scratch);
    return out;
  }

  // ---- machinery ----------------------------------------------------------------------------

  #checkUsable(op: string): void {
    if (this.#destroyed) throw new Error(`webgpu ${op}: the backend was destroyed`);
    if (this.#lost) throw new Error(`webgpu ${op}: the device was lost (${this.#lost})`);
  }

  #throwErrors(op: string): void {
    if (this.#errors.length === 0) return;
    const errors = this.#errors;
    this.#errors = [];
    throw new Error(`webgpu ${op}: device reported ${errors.length} error(s): ${errors.join(" | ")}`);
  }

  #buf(s: Storage, op: string): GPUBuffer {
    if (!(s instanceof WebGpuStorage) || s.owner !== this) {
      throw new Error(`webgpu ${op}: storage does not belong to this backend`);
    }
    if (s.disposed) throw new Error(`webgpu ${op}: storage was disposed and cannot be used any more`);
    return s.buffer;
  }

  #acquire(bytes: number, op: string): GPUBuffer {
    this.#checkUsable(op);
    if (bytes > this.#maxBindingBytes) {
      throw new Error(
        `webgpu ${op}: needs a ${bytes}-byte buffer, above this device's storage binding limit of ${this.#maxBindingBytes} bytes`,
      );
    }
    const size = Math.min(
      bucketBytes(bytes),
      Math.max(this.#maxBindingBytes - (this.#maxBindingBytes % 4), 256),
    );
    const list = this.#pool.get(size);
    if (list && list.length > 0) {
      this.#pooledBytes -= size;
      return list.pop()!;
    }
    return this.#gpu.createBuffer({
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  #alloc(length: number, op: string): WebGpuStorage {
    return new WebGpuStorage(this.#acquire(length * 4, op), length, this);
  }

  /** Returns a buffer to the pool once no unsubmitted command references it. */
  #release(buffer: GPUBuffer): void {
    if (this.#encoder) this.#pendingRelease.push(buffer);
    else this.#toPool(buffer);
  }

  #toPool(buffer: GPUBuffer): void {
    if (this.#destroyed) return;
    if (this.#pooledBytes + buffer.size > POOL_LIMIT_BYTES) {
      buffer.destroy();
      return;
    }
    let list = this.#pool.get(buffer.size);
    if (!list) this.#pool.set(buffer.size, list = []);
    list.push(buffer);
    this.#pooledBytes += buffer.size;
  }

  #commandEncoder(): GPUCommandEncoder {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
    return this.#encoder ??= this.#gpu.createCommandEncoder();
  }

  #computePass(): GPUComputePassEncoder {
    if (this.#pass) return this.#pass;
    this.#encoder ??= this.#gpu.createCommandEncoder();
    return this.#pass = this.#encoder.beginComputePass();
  }

  #clear(buffer: GPUBuffer): void {
    this.#commandEncoder().clearBuffer(buffer);
  }

  #pipeline(kernel: KernelName, constants: Record<string, number> | null): Pipeline {
    const key = constants ? `${kernel}|${JSON.stringify(constants)}` : kernel;
    let cached = this.#pipelines.get(key);
    if (cached) return cached;
    const def: KernelDef = KERNELS[kernel];
    let module = this.#modules.get(def.file);
    if (!module) {
      module = this.#gpu.createShaderModule({ label: def.file, code: this.#sources.get(def.file)! });
      this.#modules.set(def.file, module);
    }
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform" } },
    ];
    def.bindings.forEach((access, i) => {
      if (access === null) return;
      entries.push({
        binding: i + 1,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: access === "r" ? "read-only-storage" : "storage" },
      });
    });
    const layout = this.#gpu.createBindGroupLayout({ label: key, entries });
    const pipeline = this.#gpu.createComputePipeline({
      label: key,
      layout: this.#gpu.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: def.entry, constants: constants ?? undefined },
    });
    cached = { pipeline, layout };
    this.#pipelines.set(key, cached);
    return cached;
  }

  /**
   * Records one dispatch of `groups` workgroups (folded into a 2-D grid; kernels bound-check their
   * linear index). `u` and then `f` fill the kernel's uniform Params in order. `trips` is the
   * kernel's worst-case loop iterations per invocation, checked against the budget.
   */
  #dispatch(
    kernel: KernelName,
    constants: Record<string, number> | null,
    buffers: readonly (GPUBuffer | null)[],
    u: readonly number[],
    f: readonly number[],
    groups: number,
    trips: number,
  ): void {
    if (!(trips <= this.maxTripsPerInvocation)) {
      throw new Error(
        `webgpu ${kernel}: ${trips} loop trips per invocation exceed the bound of ${this.maxTripsPerInvocation} ` +
          "(llvmpipe silently truncates loops past 65,535 trips); this is a backend bug",
      );
    }
    this.#checkUsable(kernel);
    if (groups === 0) return;
    const x = Math.min(groups, this.#maxGroupsPerDim);
    const y = ceilDiv(groups, x);
    if (y > this.#maxGroupsPerDim) {
      throw new Error(`webgpu ${kernel}: ${groups} workgroups exceed the dispatch limit`);
    }
    const { pipeline, layout } = this.#pipeline(kernel, constants);
    const slot = this.#slots++;
    const base = (slot * UNIFORM_SLOT_BYTES) / 4;
    for (let i = 0; i < u.length; i++) this.#uniformU32[base + i] = u[i];
    for (let i = 0; i < f.length; i++) this.#uniformF32[base + u.length + i] = f[i];
    const entries: GPUBindGroupEntry[] = [
      {
        binding: 0,
        resource: {
          buffer: this.#uniformBuffer,
          offset: slot * UNIFORM_SLOT_BYTES,
          size: UNIFORM_SLOT_BYTES,
        },
      },
    ];
    buffers.forEach((buffer, i) => {
      if (buffer) entries.push({ binding: i + 1, resource: { buffer } });
    });
    const bindGroup = this.#gpu.createBindGroup({ layout, entries });
    const pass = this.#computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
    if (this.#slots >= UNIFORM_SLOTS) this.#flush();
  }

  /** Submits the recorded batch (uniforms first) and recycles the buffers it released. */
  #flush(): void {
    if (this.#encoder) {
      if (this.#pass) {
        this.#pass.end();
        this.#pass = null;
      }
      if (this.#slots > 0) {
        this.#gpu.queue.writeBuffer(
          this.#uniformBuffer,
          0,
          this.#uniformHost,
          0,
          this.#slots * UNIFORM_SLOT_BYTES,
        );
      }
      this.#gpu.queue.submit([this.#encoder.finish()]);
      this.#encoder = null;
      this.#slots = 0;
    }
    const released = this.#pendingRelease;
    this.#pendingRelease = [];
    for (const buffer of released) this.#toPool(buffer);
  }

  async #readBytes(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.#checkUsable("read");
    this.#flush();
    if (bytes === 0) {
      await this.#gpu.queue.onSubmittedWorkDone();
      this.#throwErrors("read");
      return new ArrayBuffer(0);
    }
    const size = bucketBytes(bytes);
    const staging = this.#stagingPool.get(size)?.pop() ??
      this.#gpu.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.#gpu.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    this.#gpu.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (e) {
      staging.destroy();
      this.#throwErrors("read");
      throw e;
    }
    const out = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    let list = this.#stagingPool.get(size);
    if (!list) this.#stagingPool.set(size, list = []);
    if (list.length < 4) list.push(staging);
    else staging.destroy();
    this.#throwErrors("read");
    return out;
  }
}
