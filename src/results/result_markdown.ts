/**
 * result.md (and `invbench report`): the summary of a result document as Markdown, with what its
 * numbers are (±, F's collision rates, E's when present) and its deviations from the paper's
 * protocol; docs/results.md describes it.
 */
import { showInvisible } from "./visible_text.ts";
import type { ResultDocument, SummaryRow } from "./schema.ts";
import { plusMinusText } from "./stats.ts";
import { DEVIATIONS_INTRO, deviationsOf } from "./deviations.ts";
import { E_COLLISION_TEXT, F_COLLISION_TEXT, fCollisions } from "./f_collision.ts";
import { methodLabel } from "./method_label.ts";

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

/** Backbone passes per train and per test input of the group's first row that has a cost. */
function passes(doc: ResultDocument, s: SummaryRow): string {
  const r = doc.rows.find((r) =>
    r.dataset === s.dataset && r.backbone === s.backbone && r.augmentation === s.augmentation &&
    r.method === s.method && r.classifier === s.classifier &&
    typeof r.cost?.backbone_passes_train === "number"
  );
  return r ? `${r.cost.backbone_passes_train} / ${r.cost.backbone_passes_test}` : "–";
}

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

/** Collision rates of (F, t), once per (dataset, backbone, augmentation). */
function fCollisionSection(doc: ResultDocument): string[] {
  const groups = fCollisions(doc).filter((g) => g.raw);
  if (!groups.length) return [];
  return [
    "",
    "## Collision rates of (F, t): properties of F",
    "",
    F_COLLISION_TEXT + " In %, mean ± 95 % CI half-width over seeds.",
    "",
    ...table(
      ["dataset", "backbone", "augmentation", "seeds", "raw %", "aligned %"],
      groups.map((g) => [
        ...[g.dataset, g.backbone, g.augmentation].map(mdCell),
        String(g.seeds.length),
        pct(g.raw),
        pct(g.aligned),
      ]),
    ),
  ];
}

function deviationSection(doc: ResultDocument): string[] {
  const list = deviationsOf(doc.matrix.spec);
  return [
    "",
    "## Deviations from the paper's protocol",
    "",
    DEVIATIONS_INTRO,
    "",
    ...(list.length
      ? table(
        ["setting", "this matrix", "paper", "applies to"],
        list.map((d) => [d.what, d.value, d.paper, d.where.join(", ")].map(mdCell)),
      )
      : ["None: every compared setting is the paper's."]),
  ];
}

/**
 * The summary as Markdown: accuracies in % as mean ± 95 % CI half-width over seeds (said
 * above the table), structure as means, the rows' method named by method_label.ts; the
 * collision rates of (F, t) once per group, E's per method when the rows have them; failed cells
 * are counted, never hidden; then the settings that differ from the paper's.
 */
export function renderMarkdown(doc: ResultDocument): string {
  const spec = doc.matrix.spec;
  const eCollision = doc.summary.some((s) => s.metrics.e_collision_raw);
  const head = [
    "dataset",
    "backbone",
    "augmentation",
    "method",
    "classifier",
    "seeds",
    "clean acc %",
    "aug acc %",
    "R²",
    "slope",
    "NRMSD",
    ...(eCollision ? ["E collision raw / aligned %"] : []),
    "passes train / test",
    "failed",
  ];
  const rows = doc.summary.map((s) => {
    const m = s.metrics;
    const label = methodLabel(spec, s.method, s.classifier);
    const method = label === s.method ? mdCell(s.method) : `${mdCell(label)} (\`${mdCell(s.method)}\`)`;
    return [
      ...[s.dataset, s.backbone, s.augmentation].map(mdCell),
      method,
      mdCell(s.classifier),
      String(s.seeds.length),
      pct(m.acc_clean),
      pct(m.acc_aug),
      num(m.r2),
      num(m.slope),
      num(m.nrmsd),
      ...(eCollision ? [`${pct(m.e_collision_raw)} / ${pct(m.e_collision_aligned)}`] : []),
      passes(doc, s),
      String(s.failed),
    ];
  });
  const ns = doc.summary.map((s) => s.metrics.acc_clean?.n).filter((n): n is number => n !== undefined);
  const out = [
    `# ${mdCell(doc.matrix.name)} ${mdCell(doc.matrix.version)}`,
    "",
    `matrix sha256 \`${doc.matrix.sha256.slice(0, 16)}…\`, harness ${mdCell(doc.harness.version)} ` +
    `(${doc.harness.commit.slice(0, 12)}${doc.harness.dirty ? ", dirty" : ""}), ` +
    `backend ${mdCell(String((doc.environment.backend as { chosen?: string })?.chosen ?? "?"))}`,
    "",
    plusMinusText(ns) + (eCollision ? " " + E_COLLISION_TEXT : ""),
    "",
    ...table(head, rows),
    ...fCollisionSection(doc),
    ...deviationSection(doc),
  ];
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
