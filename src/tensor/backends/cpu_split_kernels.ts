/**
 * The CPU kernels that may run split over two threads (cpu_threads.ts), by name: the calling
 * thread runs one range of the split dimension and the helper thread the other. Each entry
 * computes, for its range [lo, hi) of rows, elements or columns, exactly the outputs the whole
 * kernel computes there, with the same per-element arithmetic in the same order (no output mixes
 * two ranges: row kernels reduce within a row, column sums within a column), so a split changes
 * no bit. One table for both threads: the helper looks kernels up by these names. Arguments are
 * numbers, strings and typed arrays only (what a job in shared memory carries).
 */
import type { UnaryOp } from "../backend.ts";
import {
  adamwInto,
  biasReluInto,
  binaryRun,
  logsumexpGradInto,
  logsumexpInto,
  reluGradInto,
  unaryInto,
} from "./cpu_elementwise.ts";
import {
  addDiagonalInto,
  doubleCenterGradRowsInto,
  doubleCenterRowsInto,
  gaussianExpInto,
  gaussianExpUpperInto,
  gaussianGradInto,
  reluGradColumnSumsInto,
  rowProductSumsInto,
  sqDistInto,
} from "./cpu_fused.ts";
import { sortRowsInto } from "./cpu_radix_sort.ts";

export const SPLIT_KERNELS = {
  /** Rows [lo, hi) of `logsumexpInto` over a [r, c]. */
  logsumexp(lo: number, hi: number, a: Float32Array, c: number, out: Float32Array): void {
    logsumexpInto(a.subarray(lo * c, hi * c), hi - lo, c, out.subarray(lo, hi));
  },

  /** Rows [lo, hi) of `logsumexpGradInto` over x [r, c]. */
  logsumexpGrad(
    lo: number,
    hi: number,
    x: Float32Array,
    c: number,
    y: Float32Array,
    g: Float32Array,
    out: Float32Array,
  ): void {
    const rows = (v: Float32Array) => v.subarray(lo * c, hi * c);
    logsumexpGradInto(rows(x), hi - lo, c, y.subarray(lo, hi), g.subarray(lo, hi), rows(out));
  },

  /** Elements [lo, hi) of `adamwInto` (the step's settings as numbers: jobs carry only numbers and arrays). */
  adamw(
    lo: number,
    hi: number,
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
  ): void {
    const part = (a: Float32Array) => a.subarray(lo, hi);
    adamwInto(part(p), part(g), part(m), part(v), hi - lo, { lr, beta1, beta2, eps, weightDecay, step });
  },

  /** Rows [lo, hi) of `biasReluInto` over a [r, c]. */
  biasRelu(lo: number, hi: number, a: Float32Array, c: number, bias: Float32Array, out: Float32Array): void {
    biasReluInto(a.subarray(lo * c, hi * c), hi - lo, c, bias, out.subarray(lo * c, hi * c));
  },

  /** Elements [lo, hi) of `reluGradInto`. */
  reluGrad(lo: number, hi: number, g: Float32Array, t: Float32Array, out: Float32Array): void {
    reluGradInto(g.subarray(lo, hi), t.subarray(lo, hi), out.subarray(lo, hi), hi - lo);
  },

  /** Elements [lo, hi) of `unaryInto`. */
  unary(lo: number, hi: number, op: UnaryOp, a: Float32Array, out: Float32Array, param: number): void {
    unaryInto(op, a.subarray(lo, hi), out.subarray(lo, hi), hi - lo, param);
  },

  /** Elements [lo, hi) of one flat `binaryRun` (sa, sb ∈ {0, 1}: 0 broadcasts element 0). */
  binaryFlat(
    lo: number,
    hi: number,
    code: number,
    out: Float32Array,
    a: Float32Array,
    sa: number,
    b: Float32Array,
    sb: number,
  ): void {
    binaryRun(code, out, lo, a, lo * sa, sa, b, lo * sb, sb, hi - lo);
  },

  /** Rows [lo, hi) of a broadcast binary op: one `binaryRun` per output row of c elements. */
  binaryRows(
    lo: number,
    hi: number,
    code: number,
    out: Float32Array,
    c: number,
    a: Float32Array,
    aRow: number,
    aCol: number,
    b: Float32Array,
    bRow: number,
    bCol: number,
  ): void {
    for (let i = lo; i < hi; i++) binaryRun(code, out, i * c, a, i * aRow, aCol, b, i * bRow, bCol, c);
  },

  /** Rows [lo, hi) of `sortRowsInto` over a [r, c]. */
  sortRows(
    lo: number,
    hi: number,
    a: Float32Array,
    c: number,
    values: Float32Array,
    indices: Int32Array,
  ): void {
    const rows = <T extends Float32Array | Int32Array>(v: T) => v.subarray(lo * c, hi * c) as T;
    sortRowsInto(rows(a), hi - lo, c, rows(values), rows(indices));
  },

  // The fused ops' kernels that take their range themselves (cpu_fused.ts).
  reluGradColumnSums: reluGradColumnSumsInto,
  sqDist: sqDistInto,
  gaussianExp: gaussianExpInto,
  gaussianExpUpper: gaussianExpUpperInto,
  doubleCenterRows: doubleCenterRowsInto,
  doubleCenterGradRows: doubleCenterGradRowsInto,
  rowProductSums: rowProductSumsInto,
  addDiagonal: addDiagonalInto,

  /** Row sums [lo, hi) of a [r, c] in float64, stored as float32 (the sum kernel over axis 1). */
  sumRows(lo: number, hi: number, a: Float32Array, c: number, out: Float32Array): void {
    for (let i = lo; i < hi; i++) {
      const base = i * c;
      let s = 0;
      for (let j = 0; j < c; j++) s += a[base + j];
      out[i] = s;
    }
  },

  /** Column sums [lo, hi) of a [r, c], accumulated row by row in float64 (the sum kernel over axis 0). */
  sumColumns(lo: number, hi: number, a: Float32Array, r: number, c: number, out: Float32Array): void {
    const acc = new Float64Array(hi - lo);
    for (let i = 0; i < r; i++) {
      const base = i * c;
      for (let j = lo; j < hi; j++) acc[j - lo] += a[base + j];
    }
    out.set(acc, lo);
  },

  /** Elements [lo, hi) of `gaussianGradInto`. */
  gaussianGrad(lo: number, hi: number, g: Float32Array, k: Float32Array, t: number, out: Float32Array): void {
    gaussianGradInto(g.subarray(lo, hi), k.subarray(lo, hi), t, out.subarray(lo, hi), hi - lo);
  },
};

export type SplitKernels = typeof SPLIT_KERNELS;
export type SplitKernelName = keyof SplitKernels;
/** A kernel as both threads call it: its range, then its arguments. */
export function splitKernel(name: SplitKernelName): (lo: number, hi: number, ...args: unknown[]) => void {
  return SPLIT_KERNELS[name] as (lo: number, hi: number, ...args: unknown[]) => void;
}

/** A kernel's arguments after its range. */
export type SplitArgs<K extends SplitKernelName> = Parameters<SplitKernels[K]> extends
  [number, number, ...infer Rest] ? Rest : never;
