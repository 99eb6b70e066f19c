/** The sortable HTML table of ranked entries (the index per track, and a detail page per group). */
import { ciRange, integer, mean, passes, percent, percentCi, shortHash, signedPoints } from "./format.ts";
import { STANDING_TEXT } from "./attestations.ts";
import { type Markup, markup } from "./markup.ts";
import type { Entry } from "./ranking.ts";

export interface BoardOptions {
  /** Points of clean accuracy below EC tolerated (for the mark's explanation). */
  cleanTolerance: number;
  /** Show the submission column, linking to detail pages at `${submissionsHref}<hash>.html`. */
  submissionsHref?: string;
}

type SortFirst = "ascending" | "descending";

/** A header cell; `first` is the direction of the first click (the better end first). */
function th(label: string, type: "number" | "text", first: SortFirst, title: string): Markup {
  const cls = type === "number" ? "num" : "text";
  const button = markup`<button type="button">${label}</button>`;
  return markup`<th scope="col" class="${cls}" data-type="${type}" data-first="${first}" title="${title}">${button}</th>`;
}

function numCell(value: number | undefined, text: string, title = ""): Markup {
  const v = value === undefined || !Number.isFinite(value) ? "" : value;
  return markup`<td class="num" data-value="${v}" title="${title}">${text}</td>`;
}

function methodCell(e: Entry, tolerance: number): Markup {
  const badges: Markup[] = [];
  if (e.baseline) {
    badges.push(markup` <span class="badge info" title="no adapter: C on F itself">baseline</span>`);
  }
  if (e.altersF) {
    const why = `clean accuracy ${e.cleanDropPoints!.toFixed(2)} points below no adapter (tolerance ${
      tolerance.toFixed(2)
    })`;
    badges.push(markup` <span class="badge warn" title="${why}">alters F</span>`);
  }
  for (const f of e.flags) badges.push(markup` <span class="badge info">${f}</span>`);
  if (e.failed) badges.push(markup` <span class="badge warn">${e.failed} failed</span>`);
  // The id as the matrix wrote it, beside a label that differs from it (method_label.ts).
  const id = e.label === e.method
    ? ""
    : markup` <code class="method-id" title="method id">${e.method}</code>`;
  return markup`<td class="method" data-method="${e.method}"><span class="method-name">${e.label}</span>${id}${badges}</td>`;
}

function row(e: Entry, o: BoardOptions, eCollision: boolean): Markup {
  const ok = e.seeds.length - e.failed;
  const standing = e.submission.standing;
  const badge = standing
    ? markup` <span class="badge standing ${standing}" title="${STANDING_TEXT[standing]}">${standing}</span>`
    : "";
  const submission = o.submissionsHref === undefined
    ? ""
    : markup`<td class="submission"><a href="${o.submissionsHref}${e.submission.hash}.html"><code>${
      shortHash(e.submission.hash)
    }</code></a>${badge}</td>`;
  const cost = e.cost;
  return markup`<tr class="${e.altersF ? "alters-f" : "plain"}" data-standing="${standing ?? ""}">
<td class="num rank" data-value="${e.rank ?? ""}">${e.rank ?? "–"}</td>
${methodCell(e, o.cleanTolerance)}
<td class="classifier">${e.classifier}</td>
${submission}
${numCell(e.accAug?.mean, percentCi(e.accAug), ciRange(e.accAug))}
${numCell(e.accClean?.mean, percentCi(e.accClean), ciRange(e.accClean))}
${numCell(e.cleanDropPoints === undefined ? undefined : -e.cleanDropPoints, signedPoints(e.cleanDropPoints))}
${numCell(e.r2?.mean, mean(e.r2))}
${numCell(e.nrmsd?.mean, mean(e.nrmsd))}
${
    eCollision
      ? numCell(e.eCollisionRaw?.mean, `${percent(e.eCollisionRaw, 1)} / ${percent(e.eCollisionAligned, 1)}`)
      : ""
  }
${numCell(cost ? cost.backbone_passes_train + cost.backbone_passes_test : undefined, passes(cost))}
${numCell(cost?.trainable_parameters, integer(cost?.trainable_parameters))}
${numCell(e.trainSeconds?.mean, e.trainSeconds ? e.trainSeconds.mean.toFixed(1) : "–")}
${numCell(ok, `${ok} / ${e.seeds.length}`)}
</tr>
`;
}

export function boardTable(entries: readonly Entry[], o: BoardOptions): Markup {
  const eCollision = entries.some((e) => e.eCollisionRaw);
  const head = [
    th("Rank", "number", "ascending", "rank by augmented accuracy (mean over seeds)"),
    th(
      "Method",
      "text",
      "ascending",
      "method; a row without adapter is named for its classifier, its id beside",
    ),
    th("Classifier", "text", "ascending", "classifier id"),
    o.submissionsHref === undefined
      ? ""
      : th("Submission", "text", "ascending", "content hash of the signed result; click for details"),
    th(
      "Aug. acc. %",
      "number",
      "descending",
      "augmented test accuracy, mean ± 95 % CI half-width over seeds",
    ),
    th("Clean acc. %", "number", "descending", "clean test accuracy, mean ± 95 % CI half-width over seeds"),
    th(
      "Δ clean",
      "number",
      "descending",
      "clean accuracy minus the submission's no-adapter clean accuracy, points",
    ),
    th("R²", "number", "descending", "structure: R² of ‖EFx − EFy‖ against ‖Fx − Fy‖ (1 = isometry)"),
    th("NRMSD", "number", "ascending", "structure: RMSD(e − d) / (d_max − d_min) (0 = isometry)"),
    eCollision
      ? th(
        "E collision %",
        "number",
        "ascending",
        "collision rate in the space of E∘F in %, raw / after rigid alignment (F's own rate is above the table)",
      )
      : "",
    th("Passes", "number", "ascending", "backbone passes per training input / per test input"),
    th("Params", "number", "ascending", "trainable parameters (adapter + classifier)"),
    th("Train s", "number", "ascending", "training wall time, seconds (mean over seeds; machine-dependent)"),
    th("Seeds", "number", "descending", "seeds that finished normally / seeds run"),
  ];
  return markup`<div class="table-wrap"><table class="board sortable">
<thead><tr>${head}</tr></thead>
<tbody>
${entries.map((e) => row(e, o, eCollision))}</tbody>
</table></div>`;
}
