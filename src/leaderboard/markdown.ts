/** OUT/leaderboard.md: every track's ranked table as Markdown (all submission text escaped). */
import { showInvisible } from "../results/visible_text.ts";
import { integer, mean, passes, percent, percentCi, shortHash, signedPoints } from "./format.ts";
import type { Entry, TrackTable } from "./ranking.ts";
import { F_COLLISION_LABEL, fCollisionNote } from "./collision_note.ts";
import { plusMinusText } from "../results/stats.ts";

/** Text for a Markdown table cell: no markup, no HTML, no line breaks, no column breaks. */
export function markdownText(s: string): string {
  return showInvisible(s)
    .replace(/[\\`*_[\]|#~!]/g, "\\$&")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replace(/[\r\n]+/g, " ");
}

/** The method's label, and its id when that differs ("no adapter (linear C) (ec)"). */
function label(e: Entry): string {
  return e.label === e.method ? e.method : `${e.label} (${e.method})`;
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
    "more than the track's tolerance below the same submission's no-adapter row (C on F itself). " +
    plusMinusText(tables.flatMap((t) => t.entries.map((e) => e.accClean?.n).filter((n) => n !== undefined))),
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
    const collision = fCollisionNote([...new Set(t.entries.map((e) => e.submission.doc))], t.track);
    if (collision) {
      out.push(`${F_COLLISION_LABEL}: ${collision}`, "");
    }
    if (!t.entries.length) {
      out.push("No submissions yet.");
      continue;
    }
    const eCollision = t.entries.some((e) => e.eCollisionRaw);
    out.push(
      `| rank | method | classifier | submission | aug. acc. % | clean acc. % | Δ clean vs no adapter | R² | NRMSD | ${
        eCollision ? "E collision % raw / aligned | " : ""
      }passes train / test | params | note |`,
      `|---:|---|---|---|---:|---:|---:|---:|---:|${eCollision ? "---:|" : ""}---:|---:|---|`,
    );
    for (const e of t.entries) {
      const notes = [
        e.baseline ? "baseline" : "",
        e.altersF ? `**alters F** (${e.cleanDropPoints!.toFixed(2)} points below no adapter)` : "",
        ...e.flags.map(markdownText),
        e.failed ? `${e.failed} seed(s) failed` : "",
      ].filter(Boolean);
      out.push(
        `| ${e.rank ?? "–"} | ${markdownText(label(e))} | ${markdownText(e.classifier)} | ${
          shortHash(e.submission.hash)
        } | ${percentCi(e.accAug)} | ${percentCi(e.accClean)} | ${signedPoints(e.cleanDropPoints)} | ${
          mean(e.r2)
        } | ${mean(e.nrmsd)} | ${
          eCollision ? `${percent(e.eCollisionRaw, 1)} / ${percent(e.eCollisionAligned, 1)} | ` : ""
        }${passes(e.cost)} | ${integer(e.cost?.trainable_parameters)} | ${notes.join("; ")} |`,
      );
    }
  }
  return out.join("\n") + "\n";
}
