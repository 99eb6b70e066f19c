/** Summary rows over seeds, and the CSV and Markdown renderings of a result document. */
import { showInvisible } from "./visible_text.ts";
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

function pct(s: SummaryRow["metrics"][string] | undefined): string {
  if (!s) return "–";
  const m = (100 * s.mean).toFixed(2);
  return s.n > 1 ? `${m} ± ${(100 * (s.ci95[1] - s.mean)).toFixed(2)}` : m;
}

function num(s: SummaryRow["metrics"][string] | undefined, digits = 3): string {
  return s ? s.mean.toFixed(digits) : "–";
}

function mdCell(s: string): string {
  return showInvisible(s).replaceAll("|", "\\|").replaceAll("\n", " ");
}

/**
 * The summary as a Markdown table: accuracies in % as mean ± 95 % CI half-width over seeds,
 * structure and collision metrics as means; failed cells are counted, never hidden.
 */
export function renderMarkdown(doc: ResultDocument): string {
  const out = [
    `# ${mdCell(doc.matrix.name)} ${mdCell(doc.matrix.version)}`,
    "",
    `matrix sha256 \`${doc.matrix.sha256.slice(0, 16)}…\`, harness ${mdCell(doc.harness.version)} ` +
    `(${doc.harness.commit.slice(0, 12)}${doc.harness.dirty ? ", dirty" : ""}), ` +
    `backend ${mdCell(String((doc.environment.backend as { chosen?: string })?.chosen ?? "?"))}`,
    "",
    "| dataset | backbone | augmentation | method | classifier | seeds | clean acc % | aug acc % | R² | NRMSD | collision raw / aligned | failed |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of doc.summary) {
    const m = s.metrics;
    out.push(
      `| ${
        [s.dataset, s.backbone, s.augmentation, s.method, s.classifier].map(mdCell).join(" | ")
      } | ${s.seeds.length} | ` +
        `${pct(m.acc_clean)} | ${pct(m.acc_aug)} | ${num(m.r2)} | ${num(m.nrmsd)} | ` +
        `${pct(m.collision_raw)} / ${pct(m.collision_aligned)} | ${s.failed} |`,
    );
  }
  const failed = doc.rows.filter((r) => r.status !== "ok");
  if (failed.length) {
    out.push("", "## Cells that did not finish normally", "");
    for (const r of failed) {
      out.push(
        `- ${
          mdCell(
            `${r.method} on ${r.augmentation}, seed ${r.seed}: ${r.status}${
              r.reason ? ` (${r.reason})` : ""
            }`,
          )
        }`,
      );
    }
  }
  return out.join("\n") + "\n";
}
