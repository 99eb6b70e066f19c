/** Small helpers shared by the baselines that do not train an adapter (docs/protocol.md). */
import type { ViewParams } from "../../augment/params.ts";
import type { Split } from "../../data/dataset.ts";
import type { CellFeatures } from "../method.ts";

/** Rows of several [·, d] matrices stacked in order. */
export function concatRows(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `labels` repeated `times` times (labels of stacked copies of a split). */
export function repeatLabels(labels: Int32Array, times: number): Int32Array {
  const out = new Int32Array(labels.length * times);
  for (let t = 0; t < times; t++) out.set(labels, t * labels.length);
  return out;
}

/** Seconds since `started` (a performance.now() value). */
export function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}

/** The known parameters of view `view` of a split; throws when the runner does not provide them. */
export function viewParamsOf(f: CellFeatures, methodId: string, split: Split, view: number): ViewParams[] {
  if (!f.viewParams) {
    throw new RangeError(
      `method ${methodId}: needs the augmentation parameters of each view (CellFeatures.viewParams)`,
    );
  }
  const p = f.viewParams(split, view);
  if (p.length !== f.labels[split].length) {
    throw new RangeError(
      `method ${methodId}: ${p.length} view parameters for the ${f.labels[split].length} ${split} rows`,
    );
  }
  return p;
}

/**
 * Finds feature rows by content: `embed` receives bare F features (the runner passes clean test
 * rows), while methods such as tta define E only through the inputs those rows came from.
 */
export class RowLookup {
  private readonly index = new Map<number, number[]>();

  constructor(readonly rows: Float32Array, readonly d: number) {
    for (let r = 0; r < rows.length / d; r++) {
      const h = this.hash(rows, r);
      const list = this.index.get(h);
      if (list) list.push(r);
      else this.index.set(h, [r]);
    }
  }

  private hash(x: Float32Array, r: number): number {
    const bits = new Uint32Array(x.buffer, x.byteOffset + r * this.d * 4, this.d);
    let h = 0x811c9dc5;
    for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i], 0x01000193);
    return h >>> 0;
  }

  /** The index of row `r` of `x` among `rows`, or −1. */
  find(x: Float32Array, r: number): number {
    const list = this.index.get(this.hash(x, r));
    if (!list) return -1;
    const d = this.d;
    for (const k of list) {
      let same = true;
      for (let i = 0; i < d && same; i++) same = Object.is(this.rows[k * d + i], x[r * d + i]);
      if (same) return k;
    }
    return -1;
  }
}
