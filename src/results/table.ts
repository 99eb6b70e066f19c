/** Summary rows over seeds, and the CSV and Markdown renderings of a result document. */
import type { ResultDocument, ResultRow, SummaryRow } from "./schema.ts";
import { summarize } from "./stats.ts";
import { cellTable, GROUP } from "./flat_table.ts";
import { renderTableCsv } from "./table_formats.ts";

function groupKey(r: Pick<ResultRow, (typeof GROUP)[number]>): string {
  return GROUP.map((k) => r[k]).join("\u0000");
}

/** One summary row per (dataset, backbone, augmentation, method, classifier), over its seeds. */
export function summarizeRows(rows: readonly ResultRow[]): SummaryRow[] {
  const groups = new Map<string, ResultRow[]>();
  for (const r of rows) {
    const k = groupKey(r);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  return [...groups.values()].map((g) => {
    const ok = g.filter((r) => r.status === "ok");
    const names = new Set(ok.flatMap((r) => Object.keys(r.metrics)));
    const metrics: SummaryRow["metrics"] = {};
    for (const name of [...names].sort()) {
      const values = ok.map((r) => r.metrics[name]).filter((v): v is number => typeof v === "number");
      if (values.length === ok.length && values.length > 0) metrics[name] = summarize(values);
    }
    const first = g[0];
    return {
      dataset: first.dataset,
      backbone: first.backbone,
      augmentation: first.augmentation,
      method: first.method,
      classifier: first.classifier,
      seeds: g.map((r) => r.seed).sort((a, b) => a - b),
      failed: g.length - ok.length,
      metrics,
    };
  });
}

/**
 * Per-cell rows as CSV (result.csv, `report --format csv`): the flat cell table of
 * ./flat_table.ts (identity, status, metrics.*, cost.*, the resolved spec, the run).
 */
export function renderCsv(doc: ResultDocument): string {
  return renderTableCsv(cellTable(doc));
}

/** result.md's rendering lives in its own file; callers keep importing it from here. */
export { renderMarkdown } from "./result_markdown.ts";
