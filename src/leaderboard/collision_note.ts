/**
 * The collision rates of (F, t) of one (dataset, backbone, augmentation), shown once above its
 * table (index, detail page, leaderboard.md) rather than in every method's row: they are
 * properties of F. Several submissions on a track show the range of their means.
 */
import { F_COLLISION_TEXT, fCollisions } from "../results/f_collision.ts";
import { type Markup, markup } from "./markup.ts";
import type { ResultDocument } from "../results/schema.ts";
import type { Summary } from "../results/stats.ts";

interface Group {
  dataset: string;
  backbone: string;
  augmentation: string;
}

function range(values: number[]): string {
  const lo = Math.min(...values), hi = Math.max(...values);
  const f = (v: number) => (100 * v).toFixed(1);
  return f(lo) === f(hi) ? `${f(lo)} %` : `${f(lo)}–${f(hi)} %`;
}

/** "raw 58.4 % / aligned 56.5 %" over the documents' rows of `g`; undefined when none has the rates. */
export function fCollisionNote(docs: readonly Pick<ResultDocument, "rows">[], g: Group): string | undefined {
  const found = docs.flatMap((d) =>
    fCollisions(d).filter((c) =>
      c.dataset === g.dataset && c.backbone === g.backbone && c.augmentation === g.augmentation && c.raw
    )
  );
  if (!found.length) return undefined;
  const means = (pick: (c: (typeof found)[number]) => Summary | undefined) =>
    found.map(pick).filter((s): s is Summary => !!s).map((s) => s.mean);
  const aligned = means((c) => c.aligned);
  return `raw ${range(means((c) => c.raw))}${aligned.length ? ` / aligned ${range(aligned)}` : ""}`;
}

/** What the note says the rates are (the pages and leaderboard.md). */
export const F_COLLISION_LABEL = "Collision rate of (F, t), a property of F (the same for every method)";

/** The note as a paragraph of a page; nothing when no document has the rates. */
export function fCollisionParagraph(docs: readonly Pick<ResultDocument, "rows">[], g: Group): Markup | "" {
  const note = fCollisionNote(docs, g);
  return note
    ? markup`<p class="f-collision" title="${F_COLLISION_TEXT}">${F_COLLISION_LABEL}: ${note}</p>
`
    : "";
}
