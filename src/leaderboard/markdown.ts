/** OUT/leaderboard.md: every track's ranked table as Markdown (all submission text escaped). */
import { showInvisible } from "../results/visible_text.ts";
import { integer, mean, passes, percent, percentCi, shortHash, signedPoints } from "./format.ts";
import type { TrackTable } from "./ranking.ts";

/** Text for a Markdown table cell: no markup, no HTML, no line breaks, no column breaks. */
export function markdownText(s: string): string {
  return showInvisible(s)
    .replace(/[\\`*_[\]|#~!]/g, "\\$&")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replace(/[\r\n]+/g, " ");
}

export function renderLeaderboardMarkdown(
  tables: readonly TrackTable[],
  counts: { accepted: number; omitted: number },
): string {
  const out = [
    "# invbench leaderboard",
    "",
    `${counts.accepted} submission(s) accepted, ${counts.omitted} omitted (see build.log). Methods are ranked per ` +
    "track by augmented accuracy (mean ± 95 % CI half-width over seeds, in %). **alters F**: clean accuracy " +
    "more than the track's tolerance below the same submission's EC (no adapter).",
  ];
  for (const t of tables) {
    const m = t.track.matrix;
    out.push(
      "",
      `## ${markdownText(t.track.title)} (${markdownText(t.track.id)})`,
      "",
      `matrix ${markdownText(m.name)} ${markdownText(m.version)} (sha256 ${m.sha256.slice(0, 12)}…), ` +
        `${markdownText(t.track.dataset)} / ${markdownText(t.track.backbone)} / ${
          markdownText(t.track.augmentation)
        }, ` +
        `clean tolerance ${t.track.clean_tolerance} points; ${t.submissions} submission(s)`,
      "",
    );
    if (!t.entries.length) {
      out.push("No submissions yet.");
      continue;
    }
    out.push(
      "| rank | method | classifier | submission | aug. acc. % | clean acc. % | Δ clean vs EC | R² | NRMSD | collision % raw / aligned | passes train / test | params | note |",
      "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    );
    for (const e of t.entries) {
      const notes = [
        e.baseline ? "EC" : "",
        e.altersF ? `**alters F** (${e.cleanDropPoints!.toFixed(2)} points below EC)` : "",
        ...e.flags.map(markdownText),
        e.failed ? `${e.failed} seed(s) failed` : "",
      ].filter(Boolean);
      out.push(
        `| ${e.rank ?? "–"} | ${markdownText(e.method)} | ${markdownText(e.classifier)} | ${
          shortHash(e.submission.hash)
        } | ${percentCi(e.accAug)} | ${percentCi(e.accClean)} | ${signedPoints(e.cleanDropPoints)} | ${
          mean(e.r2)
        } | ${mean(e.nrmsd)} | ${percent(e.collisionRaw, 1)} / ${percent(e.collisionAligned, 1)} | ${
          passes(e.cost)
        } | ${integer(e.cost?.trainable_parameters)} | ${notes.join("; ")} |`,
      );
    }
  }
  return out.join("\n") + "\n";
}
