/**
 * Cell-by-cell comparison of two result documents. Cells are matched by id; every metric except
 * timings is compared with |a − b| ≤ absolute + seedSd · sd, where sd is the larger of the two
 * documents' standard deviations of that metric over seeds for the cell's group (so noise the
 * benchmark itself shows between seeds is not called a mismatch). A cell present on one side
 * only is a mismatch; the metrics compared are A's (B may measure more).
 */
import { isTimingMetric, type ResultDocument, type ResultRow, type SummaryRow } from "./schema.ts";

export interface Tolerance {
  /** Absolute tolerance on every metric. */
  absolute: number;
  /** Multiple of the seed standard deviation added to the tolerance (0: exact up to `absolute`). */
  seedSd: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { absolute: 1e-6, seedSd: 2 };

export interface MetricDifference {
  cell: string;
  label: string;
  metric: string;
  a: number | null;
  b: number | null;
  tolerance: number;
}

export interface Comparison {
  compared: number;
  onlyInA: string[];
  onlyInB: string[];
  /** Cells whose status differs (e.g. ok in A, diverged in B). */
  statusDiffers: { cell: string; label: string; a: string; b: string }[];
  differences: MetricDifference[];
  /** True when every shared cell agrees and no cell is missing. */
  agree: boolean;
}

function label(r: ResultRow): string {
  return `${r.dataset}/${r.backbone}/${r.augmentation}/${r.method}/${r.classifier}/seed ${r.seed}`;
}

function sdIndex(summary: readonly SummaryRow[]): Map<string, SummaryRow> {
  return new Map(
    summary.map((s) => [[s.dataset, s.backbone, s.augmentation, s.method, s.classifier].join("\0"), s]),
  );
}

/** Compares B against A; `cells` restricts the comparison to those ids (for `reproduce`). */
export function compareResults(
  a: ResultDocument,
  b: ResultDocument,
  tol: Tolerance = DEFAULT_TOLERANCE,
  cells?: ReadonlySet<string>,
): Comparison {
  const pick = (rows: ResultRow[]) =>
    new Map(rows.filter((r) => !cells || cells.has(r.cell)).map((r) => [r.cell, r]));
  const rowsA = pick(a.rows), rowsB = pick(b.rows);
  const sdA = sdIndex(a.summary), sdB = sdIndex(b.summary);
  const onlyInA = [...rowsA.keys()].filter((c) => !rowsB.has(c));
  const onlyInB = [...rowsB.keys()].filter((c) => !rowsA.has(c));
  const statusDiffers: Comparison["statusDiffers"] = [];
  const differences: MetricDifference[] = [];
  let compared = 0;
  for (const [cell, ra] of rowsA) {
    const rb = rowsB.get(cell);
    if (!rb) continue;
    compared++;
    if (ra.status !== rb.status) statusDiffers.push({ cell, label: label(ra), a: ra.status, b: rb.status });
    const key = [ra.dataset, ra.backbone, ra.augmentation, ra.method, ra.classifier].join("\0");
    // A's metrics: a metric B lacks is a difference; metrics only B has (a newer harness measures
    // more, e.g. e_collision_*) are not, so older results keep reproducing under newer harnesses.
    for (const metric of Object.keys(ra.metrics).sort()) {
      if (isTimingMetric(metric)) continue;
      const va = ra.metrics[metric] ?? null, vb = rb.metrics[metric] ?? null;
      const sd = Math.max(sdA.get(key)?.metrics[metric]?.sd ?? 0, sdB.get(key)?.metrics[metric]?.sd ?? 0);
      const tolerance = tol.absolute + tol.seedSd * sd;
      const same = va === null || vb === null ? va === vb : Math.abs(va - vb) <= tolerance;
      if (!same) differences.push({ cell, label: label(ra), metric, a: va, b: vb, tolerance });
    }
  }
  return {
    compared,
    onlyInA,
    onlyInB,
    statusDiffers,
    differences,
    agree: !onlyInA.length && !onlyInB.length && !statusDiffers.length && !differences.length,
  };
}

/** A plain-text report of a comparison, one line per difference. */
export function formatComparison(c: Comparison): string {
  const lines = [`compared ${c.compared} shared cells`];
  for (const id of c.onlyInA) lines.push(`missing in B: cell ${id}`);
  for (const id of c.onlyInB) lines.push(`missing in A: cell ${id}`);
  for (const s of c.statusDiffers) lines.push(`status differs: ${s.label} (${s.cell}): ${s.a} vs ${s.b}`);
  if (c.differences.length) {
    lines.push("differences (|a − b| > tolerance):");
    lines.push("cell             metric             a              b              tolerance");
    for (const d of c.differences) {
      lines.push(
        `${d.cell.padEnd(16)} ${d.metric.padEnd(18)} ${String(d.a).padEnd(14)} ${String(d.b).padEnd(14)} ${
          d.tolerance.toExponential(2)
        }   ${d.label}`,
      );
    }
  }
  lines.push(c.agree ? "result: agree" : "result: MISMATCH");
  return lines.join("\n");
}
