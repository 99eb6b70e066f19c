/**
 * The WebGPU backend's multi-dispatch operations: reductions in passes that keep each invocation
 * within the trip budget, the stable row sort (bitonic, local then global steps), and the
 * deterministic scatter-add built on it. Every summation order is a function of the shapes only.
 */
import type { Axis, Shape } from "../../backend.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { ceilDiv, nextPow2, searchTrips, WG } from "./kernels.ts";

const SORT_CHUNK = 1024;
/** The coop reductions use a 256-wide tree: 8 levels. */
const TREE_TRIPS = 8;
/** Reductions: serial chunk cap (accuracy of the sequential f32 sum), per-thread cap for coop. */
const SERIAL_CHUNK_CAP = 1024;
const COOP_PER_THREAD_CAP = 64;
const COOP_MIN_LEN = 512;

export type ReduceKind = "sum" | "max" | "lse";

/** Chunking for the one-invocation-per-(output, chunk) reduction: `chunk` trips each. */
function serialChunk(d: Dispatcher, len: number, nOut: number): { chunk: number; nChunks: number } {
  const cap = Math.min(SERIAL_CHUNK_CAP, d.maxTripsPerInvocation);
  let chunk: number;
  if (len <= Math.min(256, cap)) chunk = Math.max(1, len);
  else chunk = Math.min(cap, Math.max(64, ceilDiv(len * nOut, 16384)));
  return { chunk, nChunks: Math.max(1, ceilDiv(len, chunk)) };
}

/** Chunking for the one-workgroup-per-(row, chunk) reduction: ceil(chunk / 256) + 8 trips. */
function coopChunk(d: Dispatcher, len: number, nOut: number): { chunk: number; nChunks: number } {
  const perThread = Math.min(COOP_PER_THREAD_CAP, d.maxTripsPerInvocation - TREE_TRIPS);
  const maxChunk = WG * perThread;
  // Enough workgroups to fill a GPU when there are few rows, but at least 2048 elements each.
  const wanted = Math.min(ceilDiv(256, nOut), ceilDiv(len, 2048));
  const nChunks0 = Math.max(1, ceilDiv(len, maxChunk), wanted);
  const chunk = ceilDiv(len, nChunks0);
  return { chunk, nChunks: ceilDiv(len, chunk) };
}

/**
 * Multi-pass reduction along `axis`. Each pass splits the reduced dimension into chunks that keep
 * every invocation within the trip budget and writes one partial per chunk; passes repeat until
 * one chunk is left. Partials of axis 0 are [nChunks, nOut], of axis 1 [nOut, nChunks].
 */
export function reduce<S extends { buffer: GPUBuffer }>(
  d: Dispatcher,
  alloc: (length: number, op: string) => S,
  kind: ReduceKind,
  input: GPUBuffer,
  shape: Shape,
  axis: Axis,
): { values: S; indices?: S } {
  const [rows, cols] = shape;
  const nOut = axis === 0 ? cols : rows;
  let len = axis === 0 ? rows : cols;
  const op = kind === "sum" ? "reduce" : kind;
  let x = input;
  let xi: GPUBuffer | null = null;
  let firstPass = true;
  for (;;) {
    const coop = axis === 1 && len >= COOP_MIN_LEN;
    const { chunk, nChunks } = coop ? coopChunk(d, len, nOut) : serialChunk(d, len, nOut);
    const final = nChunks === 1;
    const partials = nOut * nChunks;
    let values: S | null = null;
    let indices: S | null = null;
    let y: GPUBuffer;
    let yi: GPUBuffer | null = null;
    if (final) {
      values = alloc(nOut, op);
      y = values.buffer;
      if (kind === "max") {
        indices = alloc(nOut, op);
        yi = indices.buffer;
      }
    } else {
      y = d.acquire((kind === "lse" ? 2 : 1) * partials * 4, op);
      if (kind === "max") yi = d.acquire(partials * 4, op);
    }
    const u = {
      n_out: nOut,
      n_chunks: nChunks,
      len,
      chunk,
      in_outer: axis === 0 ? 1 : len,
      in_step: axis === 0 ? nOut : 1,
      out_outer: axis === 0 ? 1 : nChunks,
      out_chunk: axis === 0 ? nOut : 1,
    };
    const groups = coop ? partials : ceilDiv(partials, WG);
    const trips = coop ? ceilDiv(chunk, WG) + TREE_TRIPS : chunk;
    const mode = coop ? "Coop" : "Serial";
    if (kind === "sum") {
      d.dispatch(`sum${mode}`, null, [x, y], u, groups, trips);
    } else if (kind === "max") {
      d.dispatch(
        `max${mode}`,
        null,
        [x, xi ?? x, y, yi],
        { ...u, has_idx: firstPass ? 0 : 1 },
        groups,
        trips,
      );
    } else {
      const p = { ...u, in_pairs: firstPass ? 0 : 1, out_final: final ? 1 : 0 };
      d.dispatch(`lse${mode}`, null, [x, y], p, groups, trips);
    }
    if (!firstPass) {
      d.release(x);
      if (xi) d.release(xi);
    }
    if (final) return { values: values!, indices: indices ?? undefined };
    x = y;
    xi = yi;
    len = nChunks;
    firstPass = false;
  }
}

/** The uniforms of the sort kernels. */
export function sortParams(
  rows: number,
  cols: number,
  p: number,
  kMax: number,
  k: number,
  j: number,
  intKeys: boolean,
  groups: number,
): Record<string, number> {
  return { rows, cols, p, total: rows * p, k_max: kMax, k, j, int_keys: intKeys ? 1 : 0, num_groups: groups };
}

/**
 * Sorts each of `rows` rows of `cols` keys (f32 bits or int32) stably; returns the scratch buffer
 * of (key, source column) pairs, rows padded to p = nextPow2(cols). The caller releases it.
 */
export function sortKeys(
  d: Dispatcher,
  src: GPUBuffer,
  rows: number,
  cols: number,
  intKeys: boolean,
): { scratch: GPUBuffer; p: number } {
  const p = nextPow2(cols);
  const total = rows * p;
  const scratch = d.acquire(total * 8, "sortRows");
  const groups = ceilDiv(total, SORT_CHUNK);
  const kMax = Math.min(p, SORT_CHUNK);
  const l = Math.log2(kMax);
  const initTrips = l + (l * (l + 1)) / 2;
  const params = (k: number, j: number) => sortParams(rows, cols, p, kMax, k, j, intKeys, groups);
  d.dispatch("sortInit", null, [src, scratch], params(0, 0), groups, initTrips);
  const mergeTrips = Math.log2(SORT_CHUNK);
  for (let k = 2 * SORT_CHUNK; k <= p; k *= 2) {
    for (let j = k / 2; j >= SORT_CHUNK; j /= 2) {
      d.dispatch("sortGlobal", null, [null, scratch], params(k, j), ceilDiv(total / 2, WG), 0);
    }
    d.dispatch("sortMerge", null, [null, scratch], params(k, 0), groups, mergeTrips);
  }
  return { scratch, p };
}

/**
 * Deterministic scatter-add: sort the `sortRows × len` destination indices stably, then one
 * invocation per output element sums its run of sources in ascending source order, in passes of
 * at most `chunk` sources each.
 */
export function scatterAdd<S extends { buffer: GPUBuffer }>(
  d: Dispatcher,
  alloc: (length: number, op: string) => S,
  src: GPUBuffer,
  idx: GPUBuffer,
  sortRows: number,
  len: number,
  outRows: number,
  outCols: number,
  elems: boolean,
  op: string,
): S {
  const total = outRows * outCols;
  const out = alloc(total, op);
  if (total === 0) return out;
  if (len === 0) {
    d.clear(out.buffer);
    return out;
  }
  const { scratch, p } = sortKeys(d, idx, sortRows, len, true);
  const search = 2 * searchTrips(len);
  const chunk = d.maxTripsPerInvocation - search;
  if (chunk < 1) throw new Error(`webgpu ${op}: trip budget too small for ${len} sources`);
  for (let start = 0; start < len; start += chunk) {
    d.dispatch(
      "scatterAdd",
      null,
      [src, scratch, out.buffer],
      { total, cols: outCols, len, p, start, chunk, first: start === 0 ? 1 : 0, elems: elems ? 1 : 0 },
      ceilDiv(total, WG),
      search + Math.min(chunk, len - start),
    );
  }
  d.release(scratch);
  return out;
}

/** Bins of each radix-selection histogram in select_rank.wgsl (16 bits of the key). */
const SELECT_BINS = 65536;

/**
 * The values of ranks k1 ≤ k2 of the upper triangle of the [n, n] matrix `a` into `out` (2
 * floats): select_rank.wgsl's two histogram passes over the triangle and two one-workgroup searches.
 */
export function selectUpperRanks(
  d: Dispatcher,
  a: GPUBuffer,
  n: number,
  k1: number,
  k2: number,
  out: GPUBuffer,
): void {
  const hist = d.acquire(3 * SELECT_BINS * 4, "upperTriangleRanks");
  const state = d.acquire(4 * 4, "upperTriangleRanks");
  d.clear(hist);
  const buffers = [a, hist, state, out];
  const params = { n, k1, k2 }, groups = ceilDiv(n * n, WG);
  // The find entries loop over 256 bins per thread, then thread 0 over 2 · (256 + 256).
  const findTrips = 256 + 2 * 512;
  d.dispatch("selectHistHi", null, buffers, params, groups, 0);
  d.dispatch("selectFindHi", null, buffers, params, 1, findTrips);
  d.dispatch("selectHistLo", null, buffers, params, groups, 0);
  d.dispatch("selectFindLo", null, buffers, params, 1, 2 * findTrips);
  d.release(hist);
  d.release(state);
}
